"""`codec` and `srtp` expectations: what was negotiated, and what flowed on the wire."""
from __future__ import annotations

from typing import Any

from runner.checks.context import CheckContext
from runner.engine.results import FAILED, PASSED, CheckResult
from runner.scenario.model import Expectation


def _pair(exp: Expectation) -> list[str]:
    p = exp.params
    return list(p["between"]) if "between" in p else [p["agent"]]


def streams_between(ctx: CheckContext, a: str, b: str) -> list[dict[str, Any]]:
    """RTP streams on the wire from a to b or from b to a."""
    if not ctx.wire:
        return []
    out = []
    for s in ctx.wire.get("rtp_streams", []):
        src, dst = s.get("src", ""), s.get("dst", "")
        if (ctx.owns(a, src) and ctx.owns(b, dst)) or (ctx.owns(b, src) and ctx.owns(a, dst)):
            out.append(s)
    return out


def _codec_name(call: dict[str, Any] | None) -> str | None:
    if not call or not call.get("codec"):
        return None
    return str(call["codec"]).split("/")[0]


def check_codec(exp: Expectation, ctx: CheckContext) -> list[CheckResult]:
    want = str(exp.params["codec"]).split("/")[0]
    loc = str(exp.location)
    agents = _pair(exp)
    results = []
    for agent in agents:
        call = ctx.first_call(agent)
        got = _codec_name(call)
        ok = got is not None and got.lower() == want.lower()
        results.append(CheckResult(f"codec at {agent}", PASSED if ok else FAILED, want, got,
                                   "" if call else f"{agent} had no call", loc))
    if len(agents) == 2 and ctx.wire is not None:
        call = ctx.first_call(agents[0])
        pt = call.get("payload_type") if call else None
        streams = streams_between(ctx, *agents)
        audio_pts = sorted({p for s in streams for p in s.get("payload_types", [])})
        ok = bool(streams) and pt is not None and pt in audio_pts
        results.append(CheckResult(
            f"codec {agents[0]}<->{agents[1]} (wire)", PASSED if ok else FAILED,
            f"payload type {pt} ({want}) in RTP", audio_pts or "no RTP between them",
            "payload types seen on the wire", loc))
    return results


def check_srtp(exp: Expectation, ctx: CheckContext) -> list[CheckResult]:
    a, b = exp.params["between"]
    want_suite = exp.params.get("suite")
    loc = str(exp.location)
    results = []
    suites = {}
    for agent in (a, b):
        call = ctx.first_call(agent)
        srtp = (call or {}).get("srtp") or {}
        suites[agent] = srtp.get("suite")
        ok = bool(srtp.get("active")) and (want_suite is None or srtp.get("suite") == want_suite)
        results.append(CheckResult(
            f"srtp at {agent}", PASSED if ok else FAILED,
            want_suite or "SRTP active", srtp.get("suite") if srtp.get("active") else "no SRTP",
            "" if call else f"{agent} had no call", loc))
    if ctx.wire is None:
        results.append(CheckResult(f"srtp {a}<->{b} (wire)", FAILED, "encrypted media on the wire",
                                   None, ctx.wire_error or "no capture to prove it from", loc))
        return results
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
