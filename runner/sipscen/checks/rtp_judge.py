"""`rtp` expectations: RTP quality of one direction, from the receiving agent's
statistics and from the wire.

    - rtp: {from: alice, to: bob, min_packets: 100, max_loss: 1%, max_jitter: 20ms, min_mos: 4.0}
    - rtp: {from: bob, to: alice, none: true, after: held, before: resumed}    # no RTP then

At the agent: the receiver's RTCP receive counters of its call with the
sender (the whole call: a phase can only be judged on the wire); its MOS is
the E-model of the same figures. On the wire: the streams from the sender's
addresses to the receiver's (packets, loss, jitter, longest gap, the E-model
MOS of ``sipscen analyze``), the packets counted inside the phase when one
is given.
"""
from __future__ import annotations

from typing import Any

from sipscen.analysis.emodel import e_model
from sipscen.checks.audio_judge import _percent
from sipscen.checks.context import CheckContext
from sipscen.checks.heard import inbound_streams, on_wire, phase_label, phase_of
from sipscen.core.results import ERROR, FAILED, PASSED, WIRE, CheckResult
from sipscen.core.model import Expectation, parse_duration


def _limits(p: dict) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if p.get("min_packets") is not None:
        out["min_packets"] = int(p["min_packets"])
    if p.get("max_loss") is not None:
        out["max_loss_pct"] = _percent(p["max_loss"])
    if p.get("max_jitter") is not None:
        out["max_jitter_ms"] = parse_duration(p["max_jitter"]) * 1000
    if p.get("min_mos") is not None:
        out["min_mos"] = float(p["min_mos"])
    if p.get("max_gap") is not None:
        out["max_gap_ms"] = parse_duration(p["max_gap"]) * 1000
    if p.get("none"):
        out["none"] = True
    return out


def _judge(limits: dict, figures: dict) -> list[str]:
    bad = []
    if limits.get("none"):
        if figures.get("packets"):
            bad.append(f"{figures['packets']} RTP packets where none were expected")
        return bad
    checks = (("min_packets", "packets", lambda a, b: a >= b, "packets {a} < {b}"),
              ("max_loss_pct", "loss_pct", lambda a, b: a <= b, "loss {a}% > {b}%"),
              ("max_jitter_ms", "jitter_ms", lambda a, b: a <= b, "jitter {a} ms > {b} ms"),
              ("min_mos", "mos", lambda a, b: a >= b, "MOS {a} < {b}"),
              ("max_gap_ms", "max_gap_ms", lambda a, b: a <= b, "longest gap {a} ms > {b} ms"))
    for limit, fig, good, text in checks:
        if limit not in limits:
            continue
        a = figures.get(fig)
        if a is None:
            bad.append(f"{fig.replace('_', ' ')} not known here")
        elif not good(a, limits[limit]):
            bad.append(text.format(a=round(a, 2), b=round(limits[limit], 2)))
    return bad


def _agent_figures(ctx: CheckContext, sender: str, receiver: str) -> tuple[dict | None, str]:
    call = ctx.call_between(receiver, sender)
    if call is None:
        return None, f"{receiver} has no call with {sender}"
    if "rtp" not in call:               # a service: its calls are read from the capture
        return None, (f"inconclusive: {receiver} reports no RTP statistics of its own "
                      "(judge it on the wire: where: wire)")
    rtp = call.get("rtp") or {}
    packets, lost = int(rtp.get("rx_packets") or 0), int(rtp.get("rx_lost") or 0)
    loss = round(100.0 * lost / (packets + lost), 2) if packets + lost else 0.0
    jitter = float(rtp.get("rx_jitter_ms") or 0.0)
    return {"packets": packets, "loss_pct": loss, "jitter_ms": jitter,
            "mos": e_model(call.get("codec"), loss, jitter)["mos"]}, ""


def _wire_figures(ctx: CheckContext, p: dict, start, end) -> tuple[dict | None, str]:
    if ctx.wire is None:
        return None, ctx.wire_error or "no capture"
    carried = bool(p.get("none"))         # "no RTP at all": on every leg of the way
    streams = inbound_streams(ctx, p["from"], p["to"], carried)
    if start is not None or end is not None:
        heard = on_wire(ctx, p["from"], p["to"], start, end, carried)
        if heard.packets is None and streams:
            return None, heard.missing or "packet times unknown (codec not decoded)"
        return {"packets": heard.packets or 0,
                "max_gap_ms": round((heard.max_gap or 0.0) * 1000, 1)}, ""
    if not streams:
        hidden = ctx.uncaptured(p["from"], p["to"])
        return (None, hidden) if hidden else ({"packets": 0}, "")
    main = max(streams, key=lambda s: s.get("packets", 0))
    packets = sum(s.get("packets", 0) for s in streams)
    lost = sum(s.get("lost", 0) for s in streams)
    loss = round(100.0 * lost / (packets + lost), 2) if packets + lost else 0.0
    q = main.get("quality") or {}
    gap = (main.get("audio") or {}).get("max_gap_ms")
    return {"packets": packets, "loss_pct": loss, "jitter_ms": main.get("jitter_ms", 0.0),
            "mos": e_model(q.get("codec"), loss, main.get("jitter_ms", 0.0))["mos"],
            "max_gap_ms": gap}, ""


def check_rtp(exp: Expectation, ctx: CheckContext) -> list[CheckResult]:
    p = exp.params
    loc = str(exp.location)
    sender, receiver = p["from"], p["to"]
    label = f"rtp {sender}->{receiver}" + phase_label(p)
    limits = _limits(p)
    start, end, problem = phase_of(p, ctx)
    if problem:
        return [CheckResult(label, FAILED, limits, None, problem, loc)]
    where = p.get("where", "both")
    phased = start is not None or end is not None
    results = []
    if where in ("agent", "both") and not phased:
        figures, why = _agent_figures(ctx, sender, receiver)
        bad = [why] if figures is None else _judge(limits, figures)
        status = FAILED if bad else PASSED
        if figures is None and why.startswith("inconclusive"):
            status = ERROR
        elif figures is None and limits.get("none"):      # no call: no RTP either
            figures, bad, status = why, [], PASSED
        note = ctx.first_of(receiver, sender)
        if not (status == ERROR and where == "both"):   # the wire half judges a service
            results.append(CheckResult(f"{label} (at {receiver})", status, limits, figures,
                                       "; ".join(bad + ([note] if note else [])), loc,
                                       ctx.evidence_of(receiver)))
    elif where == "agent":
        results.append(CheckResult(f"{label} (at {receiver})", FAILED, limits, None,
                                   "an agent's RTP counters cover the whole call: judge a phase "
                                   "on the wire (where: wire)", loc, ctx.evidence_of(receiver)))
    if where in ("wire", "both"):
        figures, why = _wire_figures(ctx, p, start, end)
        bad = [why] if figures is None else _judge(limits, figures)
        status = ERROR if figures is None and why.startswith("inconclusive") else \
            FAILED if bad else PASSED
        results.append(CheckResult(f"{label} (wire)", status,
                                   limits, figures, "; ".join(bad), loc, WIRE))
    return results


__all__ = ["check_rtp"]
