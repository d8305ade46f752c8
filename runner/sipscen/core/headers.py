"""Header checks of a received SIP message, in one place (``sip`` expectations on the
wire, ``headers:`` of waits at an agent).

A check is ``Name: regex`` (at least one header of that name matches: a second,
duplicated header that matches is enough) or a mapping that says more:

* ``matches: regex`` - at least one of the headers matches (the plain form);
* ``all: regex`` - there is at least one, and every header of that name matches;
* ``count: N`` or ``{min, max}`` - how many headers of that name there are
  (``count: 0``: none at all); with ``matches`` it counts the matching ones.

Header names are compared without case; a header's values are the header
lines as received (a line is one value, commas inside it are left alone).
"""
from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

from sipscen.core.regex import shown

# the schema of one check's value ($defs/header_checks)
CHECK_SCHEMA = {
    "description": "Header name -> a regex one of its values must match, or "
                   "{matches, all, count}.",
    "type": "object", "minProperties": 1,
    "additionalProperties": {
        "type": ["string", "object"], "format": "regex",
        "minProperties": 1, "additionalProperties": False,
        "properties": {
            "matches": {"$ref": "#/$defs/regex",
                        "description": "at least one header of this name matches"},
            "all": {"$ref": "#/$defs/regex",
                    "description": "there is one, and every header of this name matches"},
            "count": {"type": ["integer", "object"], "minimum": 0, "minProperties": 1,
                      "additionalProperties": False,
                      "description": "how many headers of this name (that match `matches`)",
                      "properties": {"min": {"type": "integer", "minimum": 0},
                                     "max": {"type": "integer", "minimum": 0}}}}}}


def lists_of(headers: Mapping[str, Any] | None) -> dict[str, list[str]]:
    """``{name: value or [values]}`` -> ``{lower-case name: [values]}``."""
    out: dict[str, list[str]] = {}
    for name, value in (headers or {}).items():
        values = value if isinstance(value, (list, tuple)) else [value]
        out.setdefault(str(name).lower(), []).extend(str(v) for v in values)
    return out


def _count_ok(spec: Any, n: int) -> bool:
    if isinstance(spec, dict):
        return n >= int(spec.get("min", 0)) and ("max" not in spec or n <= int(spec["max"]))
    return n == int(spec)


def _count_text(spec: Any) -> str:
    if isinstance(spec, dict):
        parts = [f">= {spec['min']}" if "min" in spec else "",
                 f"<= {spec['max']}" if "max" in spec else ""]
        return " and ".join(p for p in parts if p)
    return str(spec)


def problem(name: str, check: Any, values: Sequence[str]) -> str | None:
    """Why ``values`` (every header ``name`` of one message) fail ``check``, or None."""
    seen = ", ".join(repr(v) for v in values[:3]) + (f" (+{len(values) - 3})"
                                                     if len(values) > 3 else "")
    if not isinstance(check, dict):
        check = {"matches": str(check)}
    pattern = check.get("matches")
    hits = [v for v in values if pattern is None or re.search(pattern, v)]
    if "count" in check:
        if not _count_ok(check["count"], len(hits)):
            what = f" matching {shown(pattern)}" if pattern is not None else ""
            return (f"{len(hits)} {name} header(s){what}, expected {_count_text(check['count'])}"
                    + (f" (seen: {seen})" if values else ""))
    elif pattern is not None and not hits:
        return (f"{name} {seen} does not match {shown(pattern)}" if values
                else f"no {name} header")
    if "all" in check:
        if not values:
            return f"no {name} header"
        bad = [v for v in values if not re.search(check["all"], v)]
        if bad:
            return f"{name} {bad[0]!r} (one of {len(values)}) does not match {shown(check['all'])}"
    return None


def mismatch(checks: Mapping[str, Any] | None, headers: Mapping[str, Any] | None) -> str | None:
    """The first reason ``headers`` fail ``checks`` (``{Name: check}``), or None."""
    got = lists_of(headers)
    for name, check in (checks or {}).items():
        why = problem(str(name), check, got.get(str(name).lower(), []))
        if why is not None:
            return why
    return None


def describe(name: str, check: Any) -> str:
    """A short text of one check, for expected columns."""
    if not isinstance(check, dict):
        return f"{name}~/{check}/"
    parts = []
    if "matches" in check:
        parts.append(f"{name}~/{check['matches']}/")
    if "all" in check:
        parts.append(f"every {name}~/{check['all']}/")
    if "count" in check:
        parts.append(f"{name} x{_count_text(check['count'])}")
    return " ".join(parts)


def patterns(checks: Mapping[str, Any] | None) -> list[str]:
    """Every regex of ``checks`` (for load-time checks)."""
    out = []
    for check in (checks or {}).values():
        if isinstance(check, dict):
            out += [str(check[k]) for k in ("matches", "all") if k in check]
        else:
            out.append(str(check))
    return out
