"""Plain-text formatting shared by the console, JUnit and pytest renderings."""
from __future__ import annotations

from typing import Any

from sipscen.core.results import CheckResult

MAX_VALUE_CHARS = 400


def show(value: Any, limit: int = MAX_VALUE_CHARS) -> str:
    """A value as reports print it: strings quoted, None as '-', long values cut."""
    if value is None:
        return "-"
    text = repr(value) if isinstance(value, str) else str(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


def check_line(check: CheckResult) -> str:
    """"dtmf alice->bob (wire): expected '1235#', actual '1234#' [at f.yaml:31:5] - message"."""
    text = f"{check.name}: expected {show(check.expected)}, actual {show(check.actual)}"
    if check.location:
        text += f" [at {check.location}]"
    if check.message:
        text += f" - {check.message}"
    return text


def duration_text(seconds: float | None) -> str:
    """1.234 -> '1.23s', 75 -> '1m15.0s'."""
    s = float(seconds or 0.0)
    if s >= 60:
        return f"{int(s // 60)}m{s % 60:.1f}s"
    return f"{s:.2f}s"
