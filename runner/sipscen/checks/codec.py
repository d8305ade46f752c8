"""The `codec` expectation: the negotiated codec as each agent saw it, and the RTP
payload types on the wire (leg by leg through a relay)."""
from __future__ import annotations

from typing import Any

from sipscen.agents.records import CallRecord
from sipscen.checks.context import CheckContext
from sipscen.checks.evidence import (call_of, calls_of, judge_each, pair_of, payload_type_of,
                                     streams_from)
from sipscen.checks.media_path import relay_between
from sipscen.checks.leg import codec_via
from sipscen.core.model import Expectation
from sipscen.core.results import ERROR, FAILED, PASSED, WIRE, CheckResult
from sipscen.language import registry
from sipscen.checks.audio import PHASE
from sipscen.language.registry import ExpectationFamily, register_expectation
from sipscen.capture.visibility import HEADERS
from sipscen.checks.audio import check_phase_and_pair
from sipscen.checks.codec_phase import codec_exactly
from sipscen.checks.codec_phase import codec_at_agent


def _codec_name(call: CallRecord | None) -> str | None:
    if not call or not call.codec:
        return None
    return str(call.codec).split("/")[0]


def check_codec(exp: Expectation, ctx: CheckContext) -> list[CheckResult]:
    want = str(exp.params["codec"]).split("/")[0]
    loc = str(exp.location)
    agents = pair_of(exp)
    exact = bool(exp.params.get("only")) or "after" in exp.params or "before" in exp.params
    results = []
    calls = {}
    for agent in agents:
        calls[agent] = call_of(ctx, agent, agents)
        if exact:          # the agent's media sessions in the phase (codec_phase.py)
            results.append(codec_at_agent(ctx, agent, calls_of(ctx, agent, agents), want,
                                          dict(exp.params), loc))
            continue
        results.append(judge_each(
            f"codec {ctx.at(agent)}", agent, calls_of(ctx, agent, agents), _codec_name,
            lambda got: got is not None and got.lower() == want.lower(), want, loc,
            f"{agent} had no call" + (
                f" with {[a for a in agents if a != agent][0]}" if len(agents) == 2 else ""),
            ctx.evidence_of(agent)))
    if len(agents) == 2 and ctx.wire is not None:
        via = relay_between(ctx, *agents)       # media through a relay: judged leg by leg
        if via is not None and exact:
            results.append(CheckResult(
                f"codec {agents[0]}<->{agents[1]} (wire)", ERROR, want, None,
                f"inconclusive: `only` and phases are judged on a direct media path; this one "
                f"goes through {via}", loc, WIRE))
        elif via is not None:
            results.extend(codec_via(ctx, agents[0], agents[1], via, want, loc))
        elif exact:
            results.append(codec_exactly(ctx, want, agents, calls, dict(exp.params), loc))
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
        sdp = (getattr(calls.get(receiver), "local_sdp", "")
               or getattr(calls.get(sender), "remote_sdp", ""))
        pt = payload_type_of(want, sdp)
        pts = sorted({p for s in streams_from(ctx, sender, receiver)
                      for p in s.payload_types})
        seen[f"{sender}->{receiver}"] = pts or "no RTP"
        if pt is None or pt not in pts:
            missing.append(f"{sender}->{receiver}")
    hidden = ctx.uncaptured(a, b) if all(v == "no RTP" for v in seen.values()) else ""
    return CheckResult(
        f"codec {a}<->{b} (wire)", ERROR if hidden else FAILED if missing else PASSED,
        f"{want} (its payload type from the SDP) in RTP both ways", seen,
        hidden or (f"not in {', '.join(missing)}" if missing else
                   "payload types seen on the wire"), loc, WIRE)


def _check_codec_params(lc, params) -> None:
    lc.exactly_one(params, ("between", "agent"))
    if ("only" in params or "after" in params or "before" in params) and \
            "between" not in params:
        lc.fail("`only` and phases judge the RTP between two agents: give `between`",
                ["agent"], key=True)
    for key in ("after", "before"):
        if key in params:
            check_phase_and_pair(lc, {k: v for k, v in params.items() if k in PHASE})
            break
    codec = params.get("codec")
    names = params.get("between") if isinstance(params.get("between"), list) else [
        params.get("agent")]
    for name in names:
        agent = lc.checker.agents.get(name) if isinstance(name, str) else None
        agent_type = registry.agent_types().get((agent or {}).get("type"))
        if agent_type is not None and isinstance(codec, str) and not agent_type.has_codec(codec):
            lc.fail(f"'{name}' cannot negotiate {codec}: a {agent_type.name} agent has "
                    f"{', '.join(sorted(agent_type.codecs or ()))} (the expectation could "
                    "never pass)", ["codec"])
            return


register_expectation(ExpectationFamily(
    name="codec", evaluate="sipscen.checks.codec:check_codec",
    mutate="sipscen.checks.mutants_media:codec",   # falsified copies (sipscen judge --mutate)
    wire_needs=HEADERS,
    schema={"description": "The negotiated codec (both agents' view) and the RTP payload "
                           "type on the wire.",
            "type": "object", "required": ["codec"],
            "anyOf": [{"required": ["between"]}, {"required": ["agent"]}],
            "additionalProperties": False,
            "properties": {"between": {"$ref": "#/$defs/agent_pair"},
                           "agent": {"$ref": "#/$defs/name"},
                           "codec": {"$ref": "#/$defs/codec"},
                           "only": {"type": "boolean",
                                    "description": "no other audio payload type flowed (the "
                                                   "wire half; telephone-event and CN aside)"},
                           **PHASE}},
    check=_check_codec_params, needs={"agent": "calls"},
    doc="The codec negotiated between two agents (or by one `agent`), as the agents saw it "
        "and as the RTP payload types on the wire show it: by default the wanted payload "
        "type flowed both ways at some time in the call; `only: true`: no other audio "
        "payload type flowed; `after`/`before` (a signal or {agent, step}): in that phase "
        "(a codec change on one SSRC without per-payload-type times is inconclusive).",
    example="- codec: {between: [alice, bob], codec: PCMA}"))
