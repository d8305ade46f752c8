"""Numbers read from the wire: ASCII decimal digits within bounds, or nothing.

SIP and SDP numbers are ``1*DIGIT`` (ASCII). ``str.isdigit()`` also accepts
"²" and "①", which ``int()`` then refuses; ``int()`` accepts "٣", "+5",
" 5" and "5_0", which no SIP or SDP grammar allows, and refuses more than
4,300 digits. One hostile message must not stop an analysis, so every
number taken from a message (Content-Length, status code, CSeq, SDP ports,
payload types and clock rates, SIP INFO DTMF) goes through
:func:`wire_int`: the number, or None, and the caller decides what the field
means then (and flags it, see ``malformed.py``).
"""
from __future__ import annotations

U32 = 2 ** 32 - 1
MAX_DIGITS = 20            # beyond any bound a caller gives (2**64 has 20 digits)


def wire_int(text: str | bytes, low: int = 0, high: int = U32) -> int | None:
    """``text`` as an int when it is only ASCII decimal digits with a value in
    [``low``, ``high``]; None otherwise (no sign, space, underscore or other script).
    Never raises, whatever the length of ``text``."""
    if isinstance(text, str):
        if not (text.isascii() and text.isdigit()):
            return None
    elif not text.isdigit():                 # bytes: ASCII digits only
        return None
    if len(text) > MAX_DIGITS:
        text = text.lstrip("0" if isinstance(text, str) else b"0")
        if len(text) > MAX_DIGITS:
            return None
    value = int(text or 0)
    return value if low <= value <= high else None


def number_problem(text: str, low: int = 0, high: int = U32) -> str:
    """Why :func:`wire_int` refused ``text`` (for a warning)."""
    if isinstance(text, bytes):
        text = text.decode("latin-1")
    if not (text.isascii() and text.isdigit()):
        return "is not a decimal number"
    return f"is out of range {low}-{high}"


def shown(text: str, limit: int = 24) -> str:
    """``text`` quoted for a warning, cut to ``limit`` characters (with its length)."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text)} characters)"


__all__ = ["U32", "number_problem", "shown", "wire_int"]
