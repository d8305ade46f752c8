"""Scenario text must be valid Unicode: no lone surrogate code points.

YAML's ``"\\udc80"`` escape, a ``--var`` or an environment variable holding
bytes that are not UTF-8 (Python decodes those with ``surrogateescape``) give
strings with code points U+D800-U+DFFF. Nothing can write them as UTF-8: not a
report, not a log, not a SIP message. Such a value is refused at validation,
at its FILE:LINE:COL (issue 20: it used to validate, run, pass, and then lose
every report to a UnicodeEncodeError).
"""
from __future__ import annotations

import re

_SURROGATE = re.compile("[\ud800-\udfff]")


def surrogate_problem(text: str) -> str | None:
    """Why ``text`` is not valid Unicode, or None (the common case, fast: ASCII)."""
    if text.isascii():
        return None
    m = _SURROGATE.search(text)
    if m is None:
        return None
    point = ord(m.group(0))
    return (f"not valid Unicode: a lone surrogate \\u{point:04x} at character {m.start() + 1} "
            f"(half of a UTF-16 pair: a YAML \"\\u{point:04x}\" escape, or bytes that are not "
            "UTF-8 in a variable or the environment); write the character itself, or "
            "\\U0001XXXX for one beyond U+FFFF")


def visible(text: str) -> str:
    """``text`` with every lone surrogate written as ``\\udXXX`` (for messages and
    report writers that must never fail on one)."""
    if text.isascii() or _SURROGATE.search(text) is None:
        return text
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)
