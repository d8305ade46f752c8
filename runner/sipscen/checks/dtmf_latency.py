"""End-to-end DTMF through a relay: ``dtmf: {..., max_latency: 200ms}``.

Each digit the sender put on the wire (RFC 4733 or SIP INFO from one of its
ports) is paired, in order, with the same digit arriving at one of the
receiver's ports; the latency is the difference of their capture times. The
check passes when every sent digit arrived and the largest latency is within
the bound.
"""
from __future__ import annotations

from sipscen.checks.context import CheckContext
from sipscen.checks.dtls_srtp import hidden_note
from sipscen.core.results import ERROR, FAILED, PASSED, CheckResult
from sipscen.core.model import parse_duration


def latency_check(ctx: CheckContext, sender: str, receiver: str, method: str | None,
                  bound, label: str, loc: str) -> CheckResult:
    limit = parse_duration(bound)
    events = [e for e in (ctx.wire.dtmf if ctx.wire else [])
              if not method or e.method == method]
    sent = [e for e in events if ctx.owns(sender, e.src)]
    arrived = [e for e in events if ctx.owns(receiver, e.dst)]
    if not sent:
        hidden = "" if method == "sip-info" else hidden_note(ctx, sender, f"DTMF from {sender}")
        return CheckResult(f"{label} latency", ERROR if hidden else FAILED,
                           f"<= {limit * 1000:g} ms", None,
                           hidden or f"no DTMF from {sender} on the wire", loc)
    latencies, missing, j = [], [], 0
    for ev in sent:
        while j < len(arrived) and (arrived[j].digit != ev.digit
                                    or arrived[j].time < ev.time):
            j += 1
        if j >= len(arrived):
            missing.append(ev.digit)
            continue
        latencies.append(arrived[j].time - ev.time)
        j += 1
    worst = max(latencies, default=None)
    ok = not missing and worst is not None and worst <= limit
    actual = {"max_ms": None if worst is None else round(worst * 1000, 1),
              "per_digit_ms": [round(x * 1000, 1) for x in latencies]}
    why = f"digits not delivered to {receiver}: {''.join(missing)}" if missing else ""
    hidden = hidden_note(ctx, receiver, f"DTMF into {receiver}") \
        if missing and method != "sip-info" else ""
    return CheckResult(f"{label} latency", ERROR if hidden else PASSED if ok else FAILED,
                       f"<= {limit * 1000:g} ms", actual, hidden or why, loc)
