"""Regular expressions a scenario gives, compiled (and judged) in one place.

Scenario files carry regexes in many places: ``sip`` header and body
matchers, wait ``headers`` and ``body``, ``log`` expectations and service
readiness lines, SIPp inline ``expect.header``. All are checked at load by
:func:`regex_problem` (the schema's ``regex`` format and the inline expects
call it). ``re.compile`` does not only raise ``re.error``: a repetition
count beyond its range (``a{4294967296}``) raises OverflowError and
thousands of nested groups RecursionError; both are a problem of the file
(exit 2 at FILE:LINE:COL), never an internal error.
"""
from __future__ import annotations

import re


def regex_problem(pattern: str) -> str | None:
    """Why ``pattern`` is not a usable regular expression, or None (it compiles)."""
    try:
        re.compile(pattern)
    except re.error as exc:
        return str(exc)
    except OverflowError:
        return "a repetition count is too large"
    except RecursionError:
        return "groups nested too deeply"
    return None


def shown(pattern: str, limit: int = 60) -> str:
    """``pattern`` quoted for a message, cut to ``limit`` characters (with its length)."""
    if len(pattern) <= limit:
        return repr(pattern)
    return f"{pattern[:limit]!r}... ({len(pattern):,} characters)"


__all__ = ["regex_problem", "shown"]
