"""What a wait matches beyond its event's kind: header checks (``core/headers.py``), a
Request-URI, a body, a status; and what it saw that did not match, so that a timeout
names the header and the value that came instead of only "timed out"."""
from __future__ import annotations

from sipscen.core.headers import mismatch as header_mismatch


def headers_match(d, checks) -> bool:
    """The event's received headers pass every check (``sipscen.core.headers``)."""
    return header_mismatch(checks, d.get("headers")) is None


class NearMiss:
    """What a wait saw that was its kind of event but failed its conditions: a
    timeout then names it (the header and the value seen), not only "timed out"."""

    def __init__(self):
        self.seen: dict[tuple, str] = {}

    def judged(self, d, why: str | None) -> bool:
        if why is not None:
            self.seen.setdefault((d.get("call_id"), why), why)
        return why is None

    def text(self) -> str:
        if not self.seen:
            return ""
        reasons = list(dict.fromkeys(self.seen.values()))
        return (f"; {len(self.seen)} did not match: " + "; ".join(reasons[:3])
                + (f" (+{len(reasons) - 3} more)" if len(reasons) > 3 else ""))


def filtered(predicate, params, miss: NearMiss, extra=None):
    """``predicate`` and the wait's ``headers`` (and ``extra(params, d)``: a reason or
    None), remembering near misses."""
    checks = params.get("headers")
    if not checks and extra is None:
        return predicate

    def test(kind, d):
        if not predicate(kind, d):
            return False
        why = header_mismatch(checks, d.get("headers")) if checks else None
        if why is None and extra is not None:
            why = extra(params, d)
        return miss.judged(d, why)
    return test


