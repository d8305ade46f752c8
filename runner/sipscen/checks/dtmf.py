"""`dtmf` expectations: the digits sent by one agent arrived at another,
as the receiving agent saw them and as the capture shows them."""
from __future__ import annotations

from sipscen.checks.context import CheckContext
from sipscen.checks.dtls_srtp import hidden_note
from sipscen.core.results import ERROR, FAILED, PASSED, WIRE, CheckResult
from sipscen.language.registry import ExpectationFamily, register_expectation
from sipscen.core.model import Expectation
from sipscen.capture.visibility import SIGNALLING, WHOLE
from sipscen.checks.dtmf_latency import latency_check


def wire_digits(ctx: CheckContext, sender: str, receiver: str, method: str | None) -> str:
    """Digits on the wire addressed to ``receiver`` on a call between the two.

    A digit belongs to the pair when the capture ties it to one of their calls
    (its SIP Call-ID). One the capture could not tie to a call counts when it
    comes straight from the sender's address, or from a service in between (a
    proxy relaying SIP INFO) while the pair has no call the capture could see."""
    ids = ctx.call_ids_between(sender, receiver)
    digits = []
    for ev in ctx.wire.dtmf if ctx.wire else []:
        if method and ev.method != method:
            continue
        if not ctx.owns(receiver, ev.dst):
            continue
        if ev.call_id:
            ok = ev.call_id in ids
        else:
            src_owner = ctx.agent_of(ev.src)
            ok = src_owner == sender or (not ctx.is_agent(src_owner) and not ids)
        if ok:
            digits.append(ev.digit)
    return "".join(digits)


def agent_digits(ctx: CheckContext, sender: str, receiver: str, method: str | None) -> str:
    """Digits the receiving agent reports, on calls with the sender (entries
    that carry no Call-ID count as the receiver's only call: only when the two
    had a call at all)."""
    ids = ctx.call_ids_between(sender, receiver)
    got = []
    record = ctx.record(receiver)
    for d in (record.digits_received() if record else None) or []:
        if method and d.method != method:
            continue
        if d.call_id not in ids if d.call_id else not ids:
            continue
        got.append(d.digit)
    return "".join(got)


def _unlinked(ctx: CheckContext, sender: str, receiver: str, received: list) -> str:
    """Why digits the receiver did get are not counted: no call links it to the
    sender (never a silent '' next to the receiver's own observation)."""
    ids = ctx.call_ids_between(sender, receiver)
    other = "".join(d.digit for d in received if d.call_id and d.call_id not in ids)
    if not other:
        return ""
    return (f"{receiver} received {other!r} on calls not linked to {sender} (different "
            "Call-IDs: a B2BUA in between? declare it with `b2bua: true` on its service)")


def check_dtmf(exp: Expectation, ctx: CheckContext) -> list[CheckResult]:
    p = exp.params
    sender, receiver, want = p["from"], p["to"], str(p["digits"])
    method = p.get("method")
    where = p.get("where", "both")
    loc = str(exp.location)
    label = f"dtmf {sender}->{receiver}" + (f" {method}" if method else "")
    results = []
    if where in ("agent", "both"):
        record = ctx.record(receiver)
        received = record.digits_received() if record else None
        unseen = record.unseen_dtmf_methods() if record else []
        if method in unseen:       # e.g. a browser: no page sees received RFC 4733 events
            results.append(CheckResult(
                f"{label} ({ctx.at(receiver)})", ERROR, want, None,
                f"inconclusive: {receiver} cannot observe received {method} digits (a "
                f"{record.type} agent); judge them `where: wire`", loc,
                ctx.evidence_of(receiver)))
        elif received is None:
            results.append(CheckResult(f"{label} ({ctx.at(receiver)})", FAILED, want, None,
                                       f"{receiver} does not report received DTMF", loc,
                                       ctx.evidence_of(receiver)))
        else:
            got = agent_digits(ctx, sender, receiver, method)
            results.append(CheckResult(f"{label} ({ctx.at(receiver)})",
                                       PASSED if got == want else FAILED, want, got,
                                       _unlinked(ctx, sender, receiver, received), loc,
                                       ctx.evidence_of(receiver)))
    if where in ("wire", "both"):
        if ctx.wire is None:
            results.append(CheckResult(f"{label} (wire)", FAILED, want, None,
                                       ctx.wire_error or "no capture", loc, WIRE))
        else:
            got = wire_digits(ctx, sender, receiver, method)
            hidden = "" if got == want or method == "sip-info" else hidden_note(
                ctx, receiver, f"DTMF into {receiver} (RFC 4733 or in-band)")
            results.append(CheckResult(f"{label} (wire)", ERROR if hidden else
                                       PASSED if got == want else FAILED,
                                       want, got, hidden, loc, WIRE))
    if method == "inband":          # the report shows the audio the digits were read from
        from sipscen.checks.heard import at_agent, attach, on_wire  # lazy: loads numpy
        for check in results:
            wire = check.evidence == WIRE
            if wire and not ctx.wire_audio or not wire and ctx.evidence_of(receiver) == WIRE:
                continue
            attach(check, on_wire(ctx, sender, receiver, None, None) if wire
                   else at_agent(ctx, sender, receiver, None, None))
    if p.get("max_latency") is not None and ctx.wire is not None:
        latency = latency_check(ctx, sender, receiver, method, p["max_latency"], label, loc)
        latency.evidence = WIRE         # timed on the wire at both ends
        results.append(latency)
    return results


register_expectation(ExpectationFamily(
    name="dtmf", evaluate="sipscen.checks.dtmf:check_dtmf",
    mutate="sipscen.checks.mutants_media:dtmf",   # falsified copies (sipscen judge --mutate)
    # SIP INFO digits are in the signalling; RFC 4733 events (maybe SRTP) and
    # in-band tones in the media packets, whole
    wire_needs=lambda params: SIGNALLING if params.get("method") == "sip-info" else WHOLE,
    needs_audio=lambda params: params.get("method") == "inband",   # in-band digits: decoded
    schema={"description": "Digits sent by one agent arrived at another (agent and wire).",
            "type": "object", "required": ["from", "to", "digits"],
            "additionalProperties": False,
            "properties": {"from": {"$ref": "#/$defs/name"}, "to": {"$ref": "#/$defs/name"},
                           "digits": {"$ref": "#/$defs/dtmf_digits"},
                           "method": {"enum": ["rfc4733", "sip-info", "inband"]},
                           "where": {"enum": ["agent", "wire", "both"]},
                           "max_latency": {"$ref": "#/$defs/positive_duration",
                                           "description": "end to end through a relay: each "
                                           "digit reached `to` at most this long after it "
                                           "left `from` (capture times)"}}},
    doc="The digits `from` sent arrived at `to`, exactly and in order: as the receiving "
        "agent reported them and/or (`where`) as the capture shows them on their calls. "
        "`method: inband` reads digits detected in the audio (at a PJSUA agent's receive "
        "tap; on the wire in PCMU/PCMA/L16/G.722/opus, also inside SRTP).",
    example='- dtmf: {from: alice, to: bob, digits: "1234#", method: rfc4733, where: both}'))
