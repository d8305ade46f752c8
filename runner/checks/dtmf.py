"""`dtmf` expectations: the digits sent by one agent arrived at another,
as the receiving agent saw them and as the capture shows them."""
from __future__ import annotations

from runner.checks.context import CheckContext
from runner.engine.results import FAILED, PASSED, CheckResult
from runner.scenario.model import Expectation


def wire_digits(ctx: CheckContext, sender: str, receiver: str, method: str | None) -> str:
    """Digits on the wire addressed to ``receiver`` and coming from ``sender``
    (or from a service in between, such as a proxy)."""
    digits = []
    for ev in (ctx.wire or {}).get("dtmf", []):
        if method and ev.get("method") != method:
            continue
        if not ctx.owns(receiver, ev.get("dst", "")):
            continue
        src_owner = ctx.agent_of(ev.get("src", ""))
        if src_owner == sender or (src_owner is None or src_owner not in ctx.facts):
            digits.append(str(ev.get("digit")))
    return "".join(digits)


def check_dtmf(exp: Expectation, ctx: CheckContext) -> list[CheckResult]:
    p = exp.params
    sender, receiver, want = p["from"], p["to"], str(p["digits"])
    method = p.get("method")
    where = p.get("where", "both")
    loc = str(exp.location)
    label = f"dtmf {sender}->{receiver}" + (f" {method}" if method else "")
    results = []
    if where in ("agent", "both"):
        received = ctx.facts.get(receiver, {}).get("dtmf_received")
        if received is None:
            results.append(CheckResult(f"{label} (at {receiver})", FAILED, want, None,
                                       f"{receiver} does not report received DTMF", loc))
        else:
            got = "".join(d["digit"] for d in received if not method or d.get("method") == method)
            results.append(CheckResult(f"{label} (at {receiver})",
                                       PASSED if got == want else FAILED, want, got, "", loc))
    if where in ("wire", "both"):
        if ctx.wire is None:
            results.append(CheckResult(f"{label} (wire)", FAILED, want, None,
                                       ctx.wire_error or "no capture", loc))
        else:
            got = wire_digits(ctx, sender, receiver, method)
            results.append(CheckResult(f"{label} (wire)", PASSED if got == want else FAILED,
                                       want, got, "", loc))
    return results
