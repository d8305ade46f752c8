"""Calls linked through a B2BUA: one leg in, one leg out, two Call-IDs.

A service declared ``b2bua: true`` (or ``b2bua: {header: NAME}``) answers a
call on one leg and places another: the capture shows two SIP calls with
different Call-IDs. An outgoing leg (its INVITE sent by the service) is linked
to one incoming leg (its INVITE received by the service before) by evidence
that cannot cross between concurrent calls, in this order:

1. the correlation header the scenario names: the outgoing INVITE carries NAME
   whose value is the incoming leg's Call-ID, or both INVITEs carry the same value;
2. the media: both legs' SDP announce the same address (a B2BUA that leaves the
   media alone), or the same RTP (SSRC) flows through the addresses of both legs
   (a relay that forwards it);
3. the parties: the same From user and the same Request-URI user on both INVITEs;
4. timing, only to break a tie: the one incoming leg still unanswered (or less
   than ``WINDOW`` seconds old) when the outgoing INVITE left.

Evidence that matches several incoming legs narrows the choice, evidence that
matches none says nothing. An outgoing leg with more than one candidate left is
**ambiguous**: it is linked to none, and every expectation between the parties
it could belong to is inconclusive, saying so (``ambiguity``).

``linked_ids(ctx, a, b)`` gives the Call-IDs of both legs of every linked pair
whose one leg has ``a`` and other leg ``b`` as a party; ``call_ids_between``
adds them, so every check between a and b (call, dtmf, codec, srtp) reads
both legs and agrees with what the agents themselves saw.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sipscen.analysis.result import WireAnalysis, WireCall, WireMessage, WireStream

WINDOW = 5.0


@dataclass
class Links:
    pairs: list[tuple[str, str]] = field(default_factory=list)    # (incoming, outgoing)
    how: dict[str, str] = field(default_factory=dict)              # outgoing id -> evidence
    # outgoing leg Call-ID -> the incoming legs it could belong to (no evidence decided)
    ambiguous: dict[str, list[str]] = field(default_factory=dict)


def _invite(call: WireCall) -> WireMessage | None:
    return next((m for m in call.messages if m.method == "INVITE"), None)


def _final_time(call: WireCall) -> float | None:
    for m in call.messages:
        if (m.status or 0) >= 200 and "(INVITE)" in (m.summary or ""):
            return m.time
    return None


def _header(raw: str, name: str) -> str | None:
    head = raw.split("\r\n\r\n", 1)[0]
    m = re.search(rf"^{re.escape(name)}\s*:\s*(.+?)\s*$", head, re.IGNORECASE | re.MULTILINE)
    return m.group(1) if m else None


def _user(uri_text: str | None) -> str | None:
    m = re.search(r"sips?:([^@;>\s]+)@", uri_text or "")
    return m.group(1) if m else None


def identity(raw: str) -> tuple[str | None, str | None]:
    """(From user, Request-URI user) of a request."""
    first = raw.split("\r\n", 1)[0]
    parts = first.split()
    ruri = parts[1] if len(parts) > 1 else ""
    return (_user(_header(raw, "From") or _header(raw, "f")), _user(ruri))


def _addresses(call: WireCall) -> set[str]:
    out = set()
    for entry in call.sdp:
        if "OPTIONS" in str(entry.get("message", "")):
            continue
        for media in entry.get("media", []):
            if media.get("port") not in (None, 0, 9) and \
                    media.get("address") not in (None, "", "0.0.0.0", "::"):
                address = media["address"]
                out.add(f"[{address}]:{media['port']}" if ":" in address
                        else f"{address}:{media['port']}")
    return out


class _Media:
    """Each leg's SDP addresses and the SSRCs flowing through them, computed once."""

    def __init__(self, streams: list[WireStream]):
        self.by_address: dict[str, set[str]] = {}
        for st in streams:
            if st.ssrc:
                for end in (st.src, st.dst):
                    self.by_address.setdefault(end, set()).add(st.ssrc)
        self._cache: dict[int, tuple[set[str], set[str]]] = {}

    def of(self, call: WireCall) -> tuple[set[str], set[str]]:
        found = self._cache.get(id(call))
        if found is None:
            addresses = _addresses(call)
            ssrcs = set().union(*(self.by_address.get(a, set()) for a in addresses))
            found = self._cache[id(call)] = (addresses, ssrcs)
        return found

    def shared(self, one: WireCall, other: WireCall) -> bool:
        (a1, s1), (a2, s2) = self.of(one), self.of(other)
        return bool(a1 & a2) or bool(s1 & s2)


def _legs(ctx: Any, name: str, calls: list[WireCall]) -> tuple[list, list]:
    legs_in, legs_out = [], []
    for call in calls:
        inv = _invite(call)
        if inv is None or not call.call_id:
            continue
        if ctx.declared(name, inv.dst):
            legs_in.append((call, inv))
        elif ctx.declared(name, inv.src):
            legs_out.append((call, inv))
    return legs_in, legs_out


def _narrow(cands: list, test) -> tuple[list, bool]:
    """(the candidates the evidence keeps, whether it decided): evidence that keeps
    none of them says nothing."""
    kept = [c for c in cands if test(c)]
    if len(kept) == 1:
        return kept, True
    return (kept or cands), False


def _ended_at(call: WireCall) -> float | None:
    """When a leg ended: its BYE, or a final error answer to its INVITE."""
    for m in call.messages:
        if m.method == "BYE" or ((m.status or 0) >= 300 and "(INVITE)" in (m.summary or "")):
            return m.time
    return None


def _open_at(t: float):
    """Whether an incoming leg was still waiting for its outgoing one at time t."""
    def test(ci) -> bool:
        call, inv = ci
        ended, answered = _ended_at(call), _final_time(call)
        if ended is not None and ended < t:
            return False
        t0 = inv.time or 0.0
        return t - t0 <= WINDOW or (answered is not None and t <= answered)
    return test


def _link_one(out: WireCall, out_inv: WireMessage, legs_in: list, header: str | None,
              media: _Media) -> tuple[list, str]:
    """(the incoming legs the outgoing one can belong to, the evidence that decided)."""
    raw_out = out_inv.raw or ""
    t = out_inv.time or 0.0
    cands = [(c, i) for c, i in legs_in if (i.time or 0.0) <= t]
    if header:
        value = _header(raw_out, header)
        return [(c, i) for c, i in cands if value and (
            value == c.call_id or value == _header(i.raw or "", header))], \
            f"header {header}"
    cands, decided = _narrow(cands, lambda ci: media.shared(out, ci[0]))
    if decided:
        return cands, "the same media on both legs"
    who = identity(raw_out)
    cands, decided = _narrow(cands, lambda ci: None not in who and
                             identity(ci[1].raw or "") == who)
    if decided:
        return cands, "the same From user and Request-URI user"
    return [ci for ci in cands if _open_at(t)(ci)], \
        "timing (the only incoming leg open when it was placed)"


def link_legs(ctx: Any) -> Links:
    """Every declared B2BUA's legs, linked by evidence (see the module's doc)."""
    links = Links()
    wire = ctx.wire or WireAnalysis()
    calls = wire.calls
    media = _Media(wire.rtp_streams)
    for spec in getattr(ctx.scenario, "services", ()):
        how = dict(spec.config).get("b2bua")
        if not how:
            continue
        header = how.get("header") if isinstance(how, dict) else None
        legs_in, legs_out = _legs(ctx, spec.name, calls)
        for out, out_inv in legs_out:
            cands, evidence = _link_one(out, out_inv, legs_in, header, media)
            if len(cands) == 1:
                links.pairs.append((cands[0][0].call_id, out.call_id))
                links.how[out.call_id] = evidence
            elif len(cands) > 1:
                links.ambiguous[out.call_id] = [c.call_id for c, _ in cands]
    return links


def b2bua_links(ctx: Any) -> list[tuple[str, str]]:
    """(incoming leg Call-ID, outgoing leg Call-ID) for every declared B2BUA."""
    return list(cached_links(ctx).pairs)


def cached_links(ctx: Any) -> Links:
    cached = ctx.__dict__.get("_links")
    if cached is None or cached[0] is not ctx.wire:
        cached = (ctx.wire, link_legs(ctx))
        ctx.__dict__["_links"] = cached
    return cached[1]


def call_parties(ctx: Any, call_id: str) -> set[str]:
    """The parties that sent or received the call's SIP messages (computed once)."""
    cached = ctx.__dict__.get("_call_parties")
    if cached is None or cached[0] is not ctx.wire:
        table = {}
        for call in ctx.wire.calls if ctx.wire else []:
            table[call.call_id] = {ctx.agent_of(end) for m in call.messages
                                   for end in (m.src, m.dst)} - {None}
        cached = (ctx.wire, table)
        ctx.__dict__["_call_parties"] = cached
    return cached[1].get(call_id, set())


def linked_ids(ctx: Any, a: str, b: str) -> set[str]:
    ids: set[str] = set()
    for cin, cout in cached_links(ctx).pairs:
        pin, pout = call_parties(ctx, cin), call_parties(ctx, cout)
        if (a in pin and b in pout) or (b in pin and a in pout):
            ids |= {cin, cout}
    return ids


def ambiguity(ctx: Any, a: str, b: str) -> str:
    """Why calls between a and b cannot be told apart through a B2BUA ('' if they can)."""
    for cout, cands in cached_links(ctx).ambiguous.items():
        pout = call_parties(ctx, cout)
        pins = [call_parties(ctx, c) for c in cands]
        if any((a in pout and b in pin) or (b in pout and a in pin) for pin in pins):
            return (f"inconclusive: the B2BUA leg {cout} could belong to any of the incoming "
                    f"legs {', '.join(cands)} (no correlation header, no shared media, no "
                    f"matching From/Request-URI user, and more than one open at the time): "
                    f"the calls between {a} and {b} cannot be told apart")
    return ""
