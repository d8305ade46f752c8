"""`ice` expectations: ICE (RFC 8445) between two agents, in their SDP and on the wire.

    - ice: {between: [alice, bob], candidates: [relay], server: turn}

For each agent: the candidate types its own SDP offered (as it reported it, and
as the capture carried it in its INVITE or 200). Then the connectivity checks
on the wire: STUN Binding requests answered with a success between a candidate
of one side and a candidate of the other, in both directions (what proves a
pair, RFC 8445 7.2). With ``server``: each agent's Allocate succeeded at that
TURN server (a relayed candidate gathered there, RFC 8656).
"""
from __future__ import annotations

import re

from sipscen.checks.context import CheckContext
from sipscen.checks.sip import messages
from sipscen.core.model import Expectation
from sipscen.core.results import AGENT, FAILED, PASSED, WIRE, CheckResult
from sipscen.language.registry import ExpectationFamily, register_expectation

_CANDIDATE = re.compile(r"^a=candidate:\S+ (\d+) (\S+) \d+ (\S+) (\d+) typ (\S+)", re.M | re.I)
TYPES = ("host", "srflx", "prflx", "relay")


def candidates(sdp: str) -> list[dict]:
    """``a=candidate`` lines: [{component, transport, address, type}]."""
    return [{"component": int(c), "transport": t.upper(),
             "address": f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}", "type": kind.lower()}
            for c, t, ip, port, kind in _CANDIDATE.findall(sdp or "")]


def _local_sdps(ctx: CheckContext, agent: str, other: str) -> list[str]:
    return [c.local_sdp or "" for c in ctx.calls_between(agent, other)]


def _wire_sdps(ctx: CheckContext, agent: str, other: str) -> list[str]:
    """SDP bodies the agent sent (an INVITE, a 18x/200 answer) in the calls with ``other``."""
    ids = ctx.call_ids_between(agent, other)
    out = []
    for call_id in ids:
        for m in messages(ctx, call_id):
            raw = m.raw or ""
            if ctx.owns(agent, m.src) and "a=candidate:" in raw:
                out.append(raw)
    return out


def check_ice(exp: Expectation, ctx: CheckContext) -> list[CheckResult]:
    p = exp.params
    a, b = p["between"]
    loc = str(exp.location)
    want = [str(t).lower() for t in p.get("candidates") or ["host"]]
    results: list[CheckResult] = []
    offered: dict[str, set[str]] = {}
    for me, other in ((a, b), (b, a)):
        for where, sdps, evidence in (("as it reported", _local_sdps(ctx, me, other), AGENT),
                                      ("on the wire", _wire_sdps(ctx, me, other), WIRE)):
            if where == "on the wire" and ctx.wire is None:
                continue
            found = [c for sdp in sdps for c in candidates(sdp)]
            kinds = sorted({c["type"] for c in found})
            missing = [t for t in want if t not in kinds]
            if where == "on the wire":
                offered[me] = {c["address"] for c in found}
            results.append(CheckResult(
                f"ice {me}: candidates {where}", FAILED if missing or not sdps else PASSED,
                want, kinds, (f"no SDP of {me} with {other}" if not sdps else
                              f"no {', '.join(missing)} candidate" if missing else
                              f"{len(found)} candidate(s)"), loc, evidence))
    if ctx.wire is None:
        return results
    stun = ctx.wire.stun
    for src, dst in ((a, b), (b, a)):
        pairs = [s for s in stun if s.src in offered.get(src, ()) and
                 s.dst in offered.get(dst, ()) and s.requests and s.successes]
        results.append(CheckResult(
            f"ice {src}->{dst}: connectivity checks", PASSED if pairs else FAILED,
            "a Binding request answered with success between their candidates",
            [f"{s.src}->{s.dst}: {s.requests} requests, {s.successes} successes"
             for s in pairs] or "none",
            "" if pairs else f"no checked pair from {src}'s candidates to {dst}'s "
                             f"({len(stun)} STUN pair(s) in the capture)", loc, WIRE))
    server = p.get("server")
    if server:
        for me in (a, b):
            allocs = [s for s in stun if s.allocations and ctx.owns(server, s.src)
                      and s.dst in _bases(ctx, me)]
            results.append(CheckResult(
                f"ice {me}: relayed candidate allocated at {server}",
                PASSED if allocs else FAILED, "an Allocate success (TURN)",
                sum(s.allocations for s in allocs), "" if allocs else
                f"{server} granted {me} no allocation in the capture", loc, WIRE))
    return results


def _bases(ctx: CheckContext, agent: str) -> set[str]:
    """The agent's own addresses a TURN server answers to (its media ports)."""
    contact = ctx.contacts.get(agent)
    if contact is None or not contact.media_ports:
        return set()
    host = f"[{contact.host}]" if ":" in contact.host else contact.host
    lo, hi = contact.media_ports
    return {f"{host}:{port}" for port in range(lo, hi + 1)}


def _check(lc, params) -> None:
    if params.get("server"):
        lc.ref(params["server"], ["server"], services_too=True)


register_expectation(ExpectationFamily(
    name="ice", evaluate="sipscen.checks.ice:check_ice", check=_check, evidence="wire",
    mutate="sipscen.checks.mutants_media:ice",   # falsified copies (sipscen judge --mutate)
    schema={"description": "ICE between two agents: candidates in their SDP, connectivity "
                           "checks on the wire, relayed candidates allocated at a TURN server.",
            "type": "object", "required": ["between"], "additionalProperties": False,
            "properties": {
                "between": {"$ref": "#/$defs/agent_pair"},
                "candidates": {"type": "array", "minItems": 1, "uniqueItems": True,
                               "items": {"enum": list(TYPES)},
                               "description": "candidate types each side must offer "
                                              "(default [host])"},
                "server": {"$ref": "#/$defs/name",
                           "description": "the TURN service each side allocated its relayed "
                                          "candidate at"}}},
    doc="ICE between two agents (`between`): each side offered the `candidates` types "
        "(host, srflx, prflx, relay) in its SDP, as it reported it and on the wire; STUN "
        "Binding requests answered with success between a candidate of each side, both "
        "ways, on the wire; with `server`, each side's TURN Allocate succeeded there.",
    example="- ice: {between: [alice, bob], candidates: [relay], server: turn}"))
