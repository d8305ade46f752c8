"""Emitting the scenario as YAML with comments (PyYAML writes no comments).

Small mappings and lists go in flow style, the way the scenario library is
written (``- call: {to: bob}``); every scalar is quoted when YAML would read it
as something else (a number, a boolean, ``null``, a string with ``#`` or
``: ``); several lines become a ``|`` block.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

WIDTH = 96
_PLAIN = re.compile(r"^[A-Za-z0-9_/.][A-Za-z0-9_ ./@:+=*-]*$")
_RESERVED = frozenset({"y", "n", "yes", "no", "true", "false", "on", "off", "null", "~"})


@dataclass
class Node:
    """A value with an end-of-line comment (and comments on its list items)."""

    value: Any
    comment: str = ""
    item_comments: list[str] = field(default_factory=list)
    block: bool = False          # force block style for a mapping


def scalar(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    text = str(v)
    if (_PLAIN.match(text) and text.lower() not in _RESERVED and not text.endswith(" ")
            and ": " not in text and " #" not in text and not _numberish(text)
            and not text.endswith(":") and ", " not in text and "${" not in text):
        return text
    return json.dumps(text)


def _numberish(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return bool(re.match(r"^0[xo]", text))


def flow(v: Any) -> str:
    if isinstance(v, Node):
        v = v.value
    if isinstance(v, dict):
        return "{" + ", ".join(f"{scalar(k)}: {flow(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(flow(x) for x in v) + "]"
    if isinstance(v, str) and "\n" in v:
        return json.dumps(v)
    return scalar(v)


def _fits(v: Any, indent: int) -> bool:
    if isinstance(v, Node):
        if v.block or v.item_comments:
            return False
        v = v.value
    if isinstance(v, str) and "\n" in v:
        return False
    if isinstance(v, (dict, list)):
        return all(_fits(x, indent) for x in (v.values() if isinstance(v, dict) else v)) \
            and indent + len(flow(v)) <= WIDTH
    return True


def printable(text: str) -> str:
    """A comment's text: one line, control and non-printable characters as ``\\xNN``
    (YAML refuses them even in comments)."""
    text = " ".join(str(text).split())
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" if ord(c) < 256 else
                   f"\\u{ord(c):04x}" for c in text)


def _comment(text: str) -> str:
    text = printable(text)
    return f"  # {text}" if text else ""


def _literal(text: str, indent: int) -> list[str]:
    pad = " " * indent
    lines = text.replace("\r\n", "\n").rstrip("\n").split("\n")
    head = "|" + ("2" if lines and lines[0].startswith(" ") else "") + \
        ("" if text.endswith("\n") else "-")
    return [head] + [(pad + line) if line else "" for line in lines]


def emit_mapping(m: dict[str, Any], indent: int = 0) -> list[str]:
    out: list[str] = []
    pad = " " * indent
    for key, v in m.items():
        node = v if isinstance(v, Node) else Node(v)
        value = node.value
        k = scalar(key)
        if isinstance(value, str) and "\n" in value:
            lit = _literal(value, indent + 2)
            out.append(f"{pad}{k}: {lit[0]}{_comment(node.comment)}")
            out += lit[1:]
        elif isinstance(value, (dict, list)) and value and not _fits(node, indent + len(k) + 2):
            out.append(f"{pad}{k}:{_comment(node.comment)}")
            if isinstance(value, dict):
                out += emit_mapping(value, indent + 2)
            else:
                out += emit_list(value, indent + 2, node.item_comments)
        else:
            out.append(f"{pad}{k}: {flow(value)}{_comment(node.comment)}")
    return out


def emit_list(items: list[Any], indent: int, comments: list[str] | None = None) -> list[str]:
    out: list[str] = []
    pad = " " * indent
    for i, v in enumerate(items):
        node = v if isinstance(v, Node) else Node(v)
        extra = (comments or [])[i] if comments and i < len(comments) else ""
        comment = _comment(node.comment or extra)
        value = node.value
        if isinstance(value, dict) and len(value) == 1 and not _fits(node, indent + 2):
            (key, inner), = value.items()
            inner_node = inner if isinstance(inner, Node) else Node(inner)
            k = scalar(key)
            if isinstance(inner_node.value, dict):
                out.append(f"{pad}- {k}:{comment}")
                out += emit_mapping(inner_node.value, indent + 4)
                continue
        if isinstance(value, dict) and not _fits(node, indent + 2):
            sub = emit_mapping(value, indent + 2)
            out.append(f"{pad}- {sub[0].lstrip()}{comment}")
            out += sub[1:]
        elif isinstance(value, str) and "\n" in value:
            lit = _literal(value, indent + 2)
            out.append(f"{pad}- {lit[0]}{comment}")
            out += lit[1:]
        elif isinstance(value, dict) and len(value) == 1:
            (key, inner), = value.items()
            out.append(f"{pad}- {scalar(key)}: {flow(inner)}{comment}")
        else:
            out.append(f"{pad}- {flow(value)}{comment}")
    return out


def header_comment(lines: list[str]) -> list[str]:
    """Lines as ``#`` comments, wrapped at WIDTH (a ``- `` item's next lines indented);
    a line's own line breaks are spaces (a comment has no way to hold one)."""
    out = []
    for line in lines:
        words = printable(line).split(" ") if line else []
        if not words:
            out.append("#")
            continue
        current = "# " + words[0]
        for w in words[1:]:
            if len(current) + 1 + len(w) > WIDTH:
                out.append(current)
                current = "#     " + w if line.startswith("- ") else "# " + w
            else:
                current += " " + w
        out.append(current)
    return out
