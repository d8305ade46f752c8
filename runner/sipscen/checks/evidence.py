"""Which evidence belongs to which parties: RTP streams and SDPs on the wire
between two of them, the relay between them, and each agent's calls with the
other. Every media family judges from what these select; none is a family."""
from __future__ import annotations

from typing import Any

from sipscen.analysis.numbers import wire_int
from sipscen.analysis.result import MediaSample, WireAnalysis, WireStream
from sipscen.analysis.sdp import parse_sdp
from sipscen.agents.records import CallRecord
from sipscen.checks.context import CheckContext
from sipscen.core.model import Expectation
from sipscen.core.results import FAILED, PASSED, WIRE, CheckResult

_NOT_AUDIO = ("telephone-event", "cn", "comfort-noise")

# RFC 3551 static payload types, for SDPs that list a codec without a=rtpmap.
STATIC_PT = {"PCMU": 0, "GSM": 3, "G723": 4, "PCMA": 8, "G722": 9, "G729": 18}


def pair_of(exp: Expectation) -> list[str]:
    p = exp.params
    return list(p["between"]) if "between" in p else [p["agent"]]


def streams_from(ctx: CheckContext, sender: str, receiver: str) -> list[WireStream]:
    """RTP streams on the wire from ``sender`` to ``receiver``."""
    return [s for s in (ctx.wire.rtp_streams if ctx.wire else [])
            if ctx.owns(sender, s.src) and ctx.owns(receiver, s.dst)]


def streams_between(ctx: CheckContext, a: str, b: str) -> list[WireStream]:
    """RTP streams on the wire from a to b or from b to a."""
    return streams_from(ctx, a, b) + streams_from(ctx, b, a)


def payload_type_of(codec: str, sdp: str | None) -> int | None:
    """The payload type an SDP binds to ``codec`` (a=rtpmap), else its static one."""
    want = codec.split("/")[0].lower()
    for line in (sdp or "").splitlines():
        if line.startswith("a=rtpmap:"):
            pt, _, encoding = line[len("a=rtpmap:"):].partition(" ")
            number = wire_int(pt, 0, 127)        # an SDP is wire data
            if encoding.split("/")[0].strip().lower() == want and number is not None:
                return number
    return STATIC_PT.get(want.upper())


def sdp_body(raw: str) -> str:
    head, sep, body = raw.partition("\r\n\r\n")
    if not sep:
        head, sep, body = raw.partition("\n\n")
    return body


def leg_streams(ctx: CheckContext, a: str, b: str) -> dict[str, list[WireStream]]:
    return {f"{a}->{b}": streams_from(ctx, a, b), f"{b}->{a}": streams_from(ctx, b, a)}


def codecs_of(streams: list[WireStream]) -> set[str]:
    names = set()
    for s in streams:
        for pt, name in (s.codecs or {}).items():
            if name and name.split("/")[0].lower() not in _NOT_AUDIO \
                    and int(pt) not in (s.event_payload_types or []):
                names.add(name.split("/")[0])
    return names


def media_samples(wire: WireAnalysis | None) -> dict[tuple[str, str], MediaSample] | None:
    """Payload samples per (src, dst) from the media scan, None when there was none."""
    scan = wire.dtls if wire is not None else None
    if scan is None:
        return None
    return {(r.src, r.dst): r for r in scan.rtp}


def leg_sdps(ctx: CheckContext, a: str, b: str) -> list[tuple[str, Any]]:
    """(direction, SdpMedia) of every audio section in SIP messages between a and b."""
    out = []
    for call in ctx.wire.calls if ctx.wire else []:
        for m in call.messages:
            src, dst = m.src, m.dst
            if not ((ctx.owns(a, src) and ctx.owns(b, dst)) or
                    (ctx.owns(b, src) and ctx.owns(a, dst))):
                continue
            raw = m.raw or ""
            if "application/sdp" not in raw.lower():
                continue
            who = f"{ctx.agent_of(src)}->{ctx.agent_of(dst)}"
            for media in parse_sdp(sdp_body(raw)):
                if media.kind == "audio":
                    out.append((f"{who} {m.summary}", media))
    return out


def call_of(ctx: CheckContext, agent: str, agents: list[str]) -> CallRecord | None:
    """The agent's call with the other agent of the pair (or its first call)."""
    if len(agents) == 2:
        peer = agents[1] if agent == agents[0] else agents[0]
        return ctx.call_between(agent, peer)
    return ctx.first_call(agent)


def calls_of(ctx: CheckContext, agent: str, agents: list[str]) -> list[CallRecord]:
    """Every call of the agent with the other agent of the pair (or all its calls)."""
    if len(agents) == 2:
        peer = agents[1] if agent == agents[0] else agents[0]
        ids = ctx.call_ids_between(agent, peer)
        return [c for c in ctx.calls(agent) if c.call_id in ids]
    return ctx.calls(agent)


def judge_each(name: str, agent: str, calls: list[CallRecord], value_of, ok_of,
                expected, loc: str, none_message: str, evidence: str = "") -> CheckResult:
    """One result over every call: all must pass; the failing ones are named."""
    if not calls:
        return CheckResult(name, FAILED, expected, None, none_message, loc, evidence)
    values = [value_of(c) for c in calls]
    bad = [(i, c, v) for i, (c, v) in enumerate(zip(calls, values), 1) if not ok_of(v)]
    message = "; ".join(f"call {i} of {len(calls)} (Call-ID {c.call_id}): {v!r}"
                        for i, c, v in bad)
    if bad and len(calls) > 1:
        message = f"{len(bad)} of {len(calls)} calls fail — {message}"
    elif not bad and len(calls) > 1:
        message = f"judged every call ({len(calls)})"
    return CheckResult(name, FAILED if bad else PASSED, expected,
                       values[0] if len(calls) == 1 else values, message, loc, evidence)


def no_wire(name: str, ctx: CheckContext, loc: str) -> list[CheckResult]:
    return [CheckResult(name, FAILED, "the capture", None,
                        ctx.wire_error or "no capture to judge the leg from", loc, WIRE)]

