"""Plain-text formatting shared by the console, JUnit and pytest renderings."""
from __future__ import annotations

import re
from typing import Any

from sipscen.core.results import CheckResult
from sipscen.report.values import table
from sipscen.report.values import text as human

MAX_VALUE_CHARS = 400

# What a terminal would act on instead of showing: C0 controls but tab and
# newline (ESC starts colour, cursor and title sequences; BEL, BS, CR rewrite
# lines), DEL, the C1 controls (0x9b is a one-byte CSI), lone surrogates (no
# encoding can write them) and the bidirectional overrides and isolates (they
# reorder what the line seems to say).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff"
                     "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_LINE = re.compile(_UNSAFE.pattern[:-1] + "\n\t]")


def terminal_safe(value: Any, one_line: bool = False) -> str:
    """``value`` as text a terminal shows as it is: every control character,
    escape sequence introducer, lone surrogate and bidi override becomes a
    visible escape (``\\x1b``, ``\\u202e``), so a scenario name, a tag, a
    message or SIP text from a capture can neither colour, move, retitle nor
    clear the console. ``one_line`` also escapes newlines and tabs (names)."""
    text = value if isinstance(value, str) else str(value)
    pattern = _UNSAFE_LINE if one_line else _UNSAFE
    if text.isprintable() if one_line else (text.isascii() and text.isprintable()):
        return text
    return pattern.sub(_escape, text)


def _escape(m: re.Match) -> str:
    point = ord(m.group(0))
    return f"\\x{point:02x}" if point < 0x100 else f"\\u{point:04x}"


def show(value: Any, limit: int = MAX_VALUE_CHARS) -> str:
    """A value as reports print it: strings quoted, None as '-', long values cut."""
    if value is None:
        return "-"
    text = repr(value) if isinstance(value, str) else str(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


def check_line(check: CheckResult) -> str:
    """"dtmf alice->bob (wire): expected '1235#', actual '1234#' [at f.yaml:31:5] - message".

    Values for people (report/values.py): yes/no, lists joined, dicts as pairs."""
    text = (f"{check.name}: expected {human(check.expected, MAX_VALUE_CHARS, quote=True)}, "
            f"actual {human(check.actual, MAX_VALUE_CHARS, quote=True)}")
    if check.location:
        text += f" [at {check.location}]"
    if check.message:
        text += f" - {check.message}"
    return text


def check_lines(check: CheckResult) -> list[str]:
    """A check's line, then its table-shaped values (figures per direction) as
    aligned tables, as the console shows them (report/values.py)."""
    lines = [check_line(check)]
    for what, value in (("expected", check.expected), ("actual", check.actual)):
        t = table(value)
        if t is not None:
            lines += [f"  {what}:"] + [f"    {row}" for row in t.lines()]
    return lines


def duration_text(seconds: float | None) -> str:
    """1.234 -> '1.23s', 75 -> '1m15.0s'."""
    s = float(seconds or 0.0)
    if s >= 60:
        return f"{int(s // 60)}m{s % 60:.1f}s"
    return f"{s:.2f}s"
