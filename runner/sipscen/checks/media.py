"""`codec` and `srtp` expectations: what was negotiated, and what flowed on the wire."""
from __future__ import annotations

from typing import Any

from sipscen.analysis.numbers import wire_int
from sipscen.checks.context import CheckContext
from sipscen.engine.results import FAILED, PASSED, CheckResult
from sipscen.language.registry import ExpectationFamily, register_expectation
from sipscen.scenario.model import Expectation


def _pair(exp: Expectation) -> list[str]:
    p = exp.params
    return list(p["between"]) if "between" in p else [p["agent"]]


def streams_from(ctx: CheckContext, sender: str, receiver: str) -> list[dict[str, Any]]:
    """RTP streams on the wire from ``sender`` to ``receiver``."""
    return [s for s in (ctx.wire or {}).get("rtp_streams", [])
            if ctx.owns(sender, s.get("src", "")) and ctx.owns(receiver, s.get("dst", ""))]


def streams_between(ctx: CheckContext, a: str, b: str) -> list[dict[str, Any]]:
    """RTP streams on the wire from a to b or from b to a."""
    return streams_from(ctx, a, b) + streams_from(ctx, b, a)


# RFC 3551 static payload types, for SDPs that list a codec without a=rtpmap.
STATIC_PT = {"PCMU": 0, "GSM": 3, "G723": 4, "PCMA": 8, "G722": 9, "G729": 18}


def payload_type_of(codec: str, sdp: str | None) -> int | None:
    """The payload type an SDP binds to ``codec`` (a=rtpmap), else its static one."""
    want = codec.split("/")[0].lower()
    for line in (sdp or "").splitlines():
        if line.startswith("a=rtpmap:"):
            pt, _, encoding = line[len("a=rtpmap:"):].partition(" ")
            number = wire_int(pt, 0, 127)
            if encoding.split("/")[0].strip().lower() == want and number is not None:
                return number
    return STATIC_PT.get(want.upper())


def _call_of(ctx: CheckContext, agent: str, agents: list[str]) -> dict[str, Any] | None:
    """The agent's call with the other agent of the pair (or its first call)."""
    if len(agents) == 2:
        peer = agents[1] if agent == agents[0] else agents[0]
        return ctx.call_between(agent, peer)
    return ctx.first_call(agent)


def _calls_of(ctx: CheckContext, agent: str, agents: list[str]) -> list[dict[str, Any]]:
    """Every call of the agent with the other agent of the pair (or all its calls)."""
    if len(agents) == 2:
        peer = agents[1] if agent == agents[0] else agents[0]
        ids = ctx.call_ids_between(agent, peer)
        return [c for c in ctx.calls(agent) if c.get("call_id") in ids]
    return ctx.calls(agent)


def _judge_each(name: str, agent: str, calls: list[dict[str, Any]], value_of, ok_of,
                expected, loc: str, none_message: str) -> CheckResult:
    """One result over every call: all must pass; the failing ones are named."""
    if not calls:
        return CheckResult(name, FAILED, expected, None, none_message, loc)
    values = [value_of(c) for c in calls]
    bad = [(i, c, v) for i, (c, v) in enumerate(zip(calls, values), 1) if not ok_of(v)]
    message = "; ".join(f"call {i} of {len(calls)} (Call-ID {c.get('call_id')}): {v!r}"
                        for i, c, v in bad)
    if bad and len(calls) > 1:
        message = f"{len(bad)} of {len(calls)} calls fail — {message}"
    elif not bad and len(calls) > 1:
        message = f"judged every call ({len(calls)})"
    return CheckResult(name, FAILED if bad else PASSED, expected,
                       values[0] if len(calls) == 1 else values, message, loc)


def _codec_name(call: dict[str, Any] | None) -> str | None:
    if not call or not call.get("codec"):
        return None
    return str(call["codec"]).split("/")[0]


def check_codec(exp: Expectation, ctx: CheckContext) -> list[CheckResult]:
    want = str(exp.params["codec"]).split("/")[0]
    loc = str(exp.location)
    agents = _pair(exp)
    results = []
    calls = {}
    for agent in agents:
        calls[agent] = _call_of(ctx, agent, agents)
        results.append(_judge_each(
            f"codec {ctx.at(agent)}", agent, _calls_of(ctx, agent, agents), _codec_name,
            lambda got: got is not None and got.lower() == want.lower(), want, loc,
            f"{agent} had no call" + (
                f" with {[a for a in agents if a != agent][0]}" if len(agents) == 2 else "")))
    if len(agents) == 2 and ctx.wire is not None:
        from sipscen.checks.legs import codec_via, relay_of
        via = relay_of(ctx, *agents)       # media through a relay: judged leg by leg
        if via is not None:
            results.extend(codec_via(ctx, agents[0], agents[1], via, want, loc))
        else:
            results.append(_codec_on_wire(ctx, want, agents, calls, loc))
    return results


def _codec_on_wire(ctx: CheckContext, want: str, agents: list[str],
                   calls: dict[str, Any], loc: str) -> CheckResult:
    """The wanted codec's payload type (as each side's SDP binds it) flows both ways."""
    a, b = agents
    missing = []
    seen = {}
    for sender, receiver in ((a, b), (b, a)):
        # RTP carries the payload type the receiver's SDP asked for.
        sdp = (calls.get(receiver) or {}).get("local_sdp") or \
            (calls.get(sender) or {}).get("remote_sdp")
        pt = payload_type_of(want, sdp)
        pts = sorted({p for s in streams_from(ctx, sender, receiver)
                      for p in s.get("payload_types", [])})
        seen[f"{sender}->{receiver}"] = pts or "no RTP"
        if pt is None or pt not in pts:
            missing.append(f"{sender}->{receiver}")
    return CheckResult(
        f"codec {a}<->{b} (wire)", FAILED if missing else PASSED,
        f"{want} (its payload type from the SDP) in RTP both ways", seen,
        f"not in {', '.join(missing)}" if missing else "payload types seen on the wire", loc)


def check_srtp(exp: Expectation, ctx: CheckContext) -> list[CheckResult]:
    a, b = exp.params["between"]
    want_suite = exp.params.get("suite")
    loc = str(exp.location)
    results = []
    suites = {}
    for agent in (a, b):
        call = _call_of(ctx, agent, [a, b])
        suites[agent] = ((call or {}).get("srtp") or {}).get("suite")

        def seen(c):
            srtp = c.get("srtp") or {}
            return srtp.get("suite") if srtp.get("active") else "no SRTP"
        results.append(_judge_each(
            f"srtp {ctx.at(agent)}", agent, _calls_of(ctx, agent, [a, b]), seen,
            lambda got: got != "no SRTP" and (want_suite is None or got == want_suite),
            want_suite or "SRTP active", loc, f"{agent} had no call"))
    if ctx.wire is None:
        results.append(CheckResult(f"srtp {a}<->{b} (wire)", FAILED, "encrypted media on the wire",
                                   None, ctx.wire_error or "no capture to prove it from", loc))
        return results
    from sipscen.checks.dtls_srtp import dtls_verdict   # DTLS-keyed: no key to prove it with
    dtls = dtls_verdict(ctx, a, b, want_suite, f"srtp {a}<->{b} (wire, DTLS-SRTP)", loc)
    if dtls is not None:
        return results + [dtls]
    from sipscen.checks.legs import relay_of, srtp_via
    via = relay_of(ctx, a, b)              # media through a relay: judged leg by leg
    if via is not None:
        return results + srtp_via(ctx, a, b, via, want_suite, loc)
    streams = streams_between(ctx, a, b)
    clear = [s for s in streams if not s.get("srtp")]
    failed = [s for s in streams if s.get("srtp") and
              (s["srtp"].get("auth_failed") or not s["srtp"].get("authenticated"))]
    directions = {(ctx.agent_of(s["src"]), ctx.agent_of(s["dst"])) for s in streams}
    if not streams:
        actual = "no RTP between them"
    elif clear:
        actual = f"{len(clear)} cleartext RTP stream(s): " + ", ".join(
            f"{s['src']}->{s['dst']}" for s in clear)
    elif failed:
        actual = "; ".join(f"{s['ssrc']}: {s['srtp'].get('authenticated', 0)} authenticated, "
                           f"{s['srtp'].get('auth_failed', 0)} failed" for s in failed)
    elif len(directions) < 2:
        actual = f"SRTP in one direction only: {sorted(map(str, directions))}"
    else:
        actual = "; ".join(f"{s['src']}->{s['dst']} {s['srtp'].get('suite')}: "
                           f"{s['srtp'].get('authenticated')} packets authenticated"
                           for s in streams)
    ok = bool(streams) and not clear and not failed and len(directions) >= 2
    results.append(CheckResult(
        f"srtp {a}<->{b} (wire)", PASSED if ok else FAILED,
        "every packet both ways authenticates with the negotiated keys; no cleartext RTP",
        actual, "", loc))
    return results


def _check_codec_params(lc, params) -> None:
    lc.exactly_one(params, ("between", "agent"))


register_expectation(ExpectationFamily(
    name="codec", evaluate="sipscen.checks.media:check_codec",
    schema={"description": "The negotiated codec (both agents' view) and the RTP payload "
                           "type on the wire.",
            "type": "object", "required": ["codec"],
            "anyOf": [{"required": ["between"]}, {"required": ["agent"]}],
            "additionalProperties": False,
            "properties": {"between": {"$ref": "#/$defs/agent_pair"},
                           "agent": {"$ref": "#/$defs/name"},
                           "codec": {"$ref": "#/$defs/codec"}}},
    check=_check_codec_params, needs={"agent": "calls"},
    doc="The codec negotiated between two agents (or by one `agent`), as the agents saw it "
        "and as the RTP payload types on the wire show it.",
    example="- codec: {between: [alice, bob], codec: PCMA}"))
register_expectation(ExpectationFamily(
    name="srtp", evaluate="sipscen.checks.media:check_srtp",
    schema={"description": "Media between two agents is SRTP: every packet authenticates "
                           "with the negotiated key.",
            "type": "object", "required": ["between"], "additionalProperties": False,
            "properties": {"between": {"$ref": "#/$defs/agent_pair"},
                           "suite": {"type": "string", "pattern": "^[A-Z0-9_]+$"}}},
    doc="The media between two agents was SRTP (optionally with `suite`): negotiated by "
        "both, and every packet on the wire authenticates with the negotiated keys.",
    example="- srtp: {between: [alice, bob], suite: AES_CM_128_HMAC_SHA1_80}"))
