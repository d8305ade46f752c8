"""The ``user_agent`` expectation: judged from the capture alone."""
from __future__ import annotations

import re

from sipscen.core.results import FAILED, PASSED, WIRE, CheckResult


def check_user_agent(exp, ctx) -> list[CheckResult]:
    agent, pattern = exp.params["agent"], exp.params["matches"]
    name, loc = f"user_agent {agent}", str(exp.location)
    if ctx.wire is None:
        return [CheckResult(name, FAILED, pattern, None, ctx.wire_error or "no capture", loc,
                            WIRE)]
    seen = []
    for call in ctx.wire.calls:               # the typed wire analysis (analysis/result.py)
        for m in call.messages:               # WireMessage: time, src, dst, raw, ...
            raw = m.raw or ""
            if raw.startswith("SIP/2.0") or not ctx.owns(agent, m.src):
                continue              # responses, and what others sent
            if raw.startswith(("ACK ", "CANCEL ")):
                continue              # built by the transaction layer, often without one
            found = re.search(r"^User-Agent:[ \t]*(.*?)\r?$", raw, re.M | re.I)
            seen.append(found.group(1) if found else None)
    bad = [v for v in seen if v is None or not re.search(pattern, v)]
    ok = bool(seen) and not bad
    why = ("no request from it on the wire" if not seen else
           f"{len(bad)} of {len(seen)} requests do not match" if bad else
           f"{len(seen)} requests")
    return [CheckResult(name, PASSED if ok else FAILED, pattern, sorted(set(map(str, seen))),
                        why, loc, WIRE)]
