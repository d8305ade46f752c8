"""`rtp` expectations: RTP quality of one direction, from the receiving agent's
statistics and from the wire.

    - rtp: {from: alice, to: bob, min_packets: 100, max_loss: 1%, max_jitter: 20ms, min_mos: 4.0}
    - rtp: {from: bob, to: alice, none: true, after: held, before: resumed}    # no RTP then

At the agent: the receiver's RTCP receive counters of its call with the
sender, the whole call's or, in a phase, those of the media sessions that ran
in it (``rtp_agent.py``); its MOS is the E-model of the same figures. No
packets is no RTP: a loss, jitter, MOS or gap bound then fails. On the wire: the streams from the sender's
addresses to the receiver's (packets, loss, jitter, longest gap, the E-model
MOS of ``sipscen analyze``), the packets counted inside the phase when one
is given.
"""
from __future__ import annotations

from typing import Any

from sipscen.analysis.emodel import e_model
from sipscen.checks.audio_judge import _percent
from sipscen.checks.context import CheckContext
from sipscen.checks.heard import at_agent, attach, inbound_streams, on_wire, phase_label, phase_of
from sipscen.checks.rtp_agent import AGENT_LIMITS, agent_figures
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


# the bounds that only packets can satisfy (limit key -> the expectation's key)
_NEED_PACKETS = {"max_loss_pct": "max_loss", "max_jitter_ms": "max_jitter", "min_mos": "min_mos",
                 "max_gap_ms": "max_gap"}


UNKNOWN = "not measured here: "


def _verdict(name: str, limits: dict, figures: dict | None, bad: list[str], notes: list[str],
             loc: str, evidence: str) -> CheckResult:
    """Failed when a bound is broken; else inconclusive (error) when one was not measured
    (a phase on the wire counts packets and gaps, not loss, jitter or MOS); else passed."""
    broken = [b for b in bad if not b.startswith(UNKNOWN)]
    unknown = [b[len(UNKNOWN):] for b in bad if b.startswith(UNKNOWN)]
    if unknown:
        why = f"{', '.join(unknown)} not measured here"
        broken = broken + [why] if broken else [f"inconclusive: {why}"]
    status = FAILED if broken and not broken[0].startswith("inconclusive") else (
        ERROR if broken else PASSED)
    return CheckResult(name, status, limits, figures, "; ".join(broken + notes), loc, evidence)


def _judge(limits: dict, figures: dict) -> list[str]:
    bad = []
    if limits.get("none"):
        if figures.get("packets"):
            bad.append(f"{figures['packets']} RTP packets where none were expected")
        return bad
    asked = [name for key, name in _NEED_PACKETS.items() if key in limits]
    if not figures.get("packets") and asked:
        # a loss, jitter, MOS or gap of no packets measures nothing
        bad.append(f"no RTP (0 packets): {', '.join(asked)} cannot hold")
        limits = {k: v for k, v in limits.items() if k not in _NEED_PACKETS}
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
            bad.append(f"{UNKNOWN}{fig.replace('_', ' ')}")
        elif not good(a, limits[limit]):
            bad.append(text.format(a=round(a, 2), b=round(limits[limit], 2)))
    return bad


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
    main = max(streams, key=lambda s: s.packets)
    packets = sum(s.packets for s in streams)
    lost = sum(s.lost for s in streams)
    loss = round(100.0 * lost / (packets + lost), 2) if packets + lost else 0.0
    q = main.quality or {}
    gap = (main.audio or {}).get("max_gap_ms")
    return {"packets": packets, "loss_pct": loss, "jitter_ms": main.jitter_ms,
            "mos": e_model(q.get("codec"), loss, main.jitter_ms)["mos"],
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
    results = []
    if where in ("agent", "both"):
        agent = _at_agent(ctx, p, limits, label, loc, start, end, alone=where == "agent")
        if agent is not None:
            results.append(attach(agent, _heard(ctx, p, start, end, wire=False)))
    if where in ("wire", "both"):
        figures, why = _wire_figures(ctx, p, start, end)
        bad = [why] if figures is None else _judge(limits, figures)
        results.append(attach(_verdict(f"{label} (wire)", limits, figures, bad, [], loc, WIRE),
                              _heard(ctx, p, start, end, wire=True)))
    return results


def _heard(ctx: CheckContext, p: dict, start, end, wire: bool):
    """The audio of the direction the check judged (for the report), when there is some."""
    if p.get("none"):
        return None
    if wire:
        return on_wire(ctx, p["from"], p["to"], start, end) if ctx.wire_audio else None
    if ctx.evidence_of(p["to"]) == WIRE:
        return None
    return at_agent(ctx, p["from"], p["to"], start, end)


def _at_agent(ctx: CheckContext, p: dict, limits: dict, label: str, loc: str, start, end,
              alone: bool) -> CheckResult | None:
    """The receiving agent's counters (rtp_agent.py); None: nothing for it to judge
    here beside the wire."""
    sender, receiver = p["from"], p["to"]
    name = f"{label} (at {receiver})"
    phased = start is not None or end is not None
    mine = {k: v for k, v in limits.items() if k in AGENT_LIMITS and not (phased and k == "none")}
    if not mine:
        if not alone:
            return None
        return CheckResult(name, ERROR, limits, None,
                           f"inconclusive: {receiver}'s RTP counters have no packet times "
                           f"({', '.join(sorted(limits))} in a phase or as a gap): judge them "
                           f"on the wire (where: wire)", loc, ctx.evidence_of(receiver))
    figures, problem, note = agent_figures(ctx, sender, receiver, start, end)
    if figures is None and problem and mine.get("none"):      # no call: no RTP either
        return CheckResult(name, PASSED, mine, problem, "", loc, ctx.evidence_of(receiver))
    if figures is None and not problem:
        return CheckResult(name, ERROR, mine, None, note, loc, ctx.evidence_of(receiver)) \
            if alone else None
    bad = [problem] if figures is None else _judge(mine, figures)
    if len(mine) < len(limits):
        note = "; ".join(x for x in (note, "max_gap is judged on the wire") if x)
    return _verdict(name, mine, figures, bad, [note] if note else [], loc, ctx.evidence_of(receiver))


__all__ = ["check_rtp"]
