"""A capture taken on one side of the SUT: the far end becomes an agent too.

When a party's call goes to the SUT and the capture shows no leg beyond it (no
copy of the INVITE leaves the SUT for anyone else), the party the call was for
is not in the capture. It gets an agent of its own, named after the
Request-URI's user, and what the SUT relayed of it -- its 18x and final
answers, its in-dialog requests (a BYE, a re-INVITE), its answers to the
caller's -- is read as that agent's doing: each such message gets a copy from
the far end to the SUT, and the SUT's message becomes the relay of that copy.
What the SUT answers itself (100 Trying, a challenge, a routing refusal before
any 18x or 2xx) stays the SUT's. Said in the file and on the console: the far
end is assumed, and must be reachable through the SUT (it registers there).
"""
from __future__ import annotations

import dataclasses

from sipscen.scaffold.parties import Parties, Party, attribute_media, sanitise, unique
from sipscen.scaffold.sipmsg import Msg

OWN_ANSWERS = frozenset({100, 401, 407})
ROUTING_REFUSALS = frozenset({403, 404, 480, 484, 488, 500, 502, 503, 504})


def add_far_ends(flow, parties: Parties, notes: list[tuple[str, list[int]]]) -> None:
    added = False
    for cid, msgs in list(flow.dialogs.items()):
        invite = next((m for m in msgs if m.is_request and m.method == "INVITE"
                       and not m.tag("to")), None)
        if invite is None:
            continue
        caller, sut = parties.of(invite.src), parties.of(invite.dst)
        if caller is None or sut is None or caller.is_sut or not sut.is_sut:
            continue
        if any(m.src == sut.address and m.dst != caller.address and
               not (parties.of(m.dst) or caller).is_sut for m in msgs):
            continue                            # the leg beyond the SUT is in the capture
        if not any(m.src == sut.address and not m.is_request and m.method == "INVITE" and
                   m.status and (100 < m.status < 200 or m.status not in ROUTING_REFUSALS |
                                 OWN_ANSWERS) for m in msgs):
            continue                            # the SUT refused it itself: no far end
        far = _far_party(parties, sut, invite)
        flow.dialogs[cid] = _relay(msgs, caller, sut, far)
        if far.far_end_of is not None:
            notes.append((f"the capture shows no leg beyond {sut.name} for the call from "
                          f"{caller.name} (frame {invite.frame}): {far.name} stands for the far "
                          f"end and registers at {sut.name}, which must route the call to it",
                          []))
        else:
            notes.append((f"the capture shows no leg from {sut.name} to {far.name} for the "
                          f"call from {caller.name} (frame {invite.frame}): {far.name}'s part is "
                          f"read from what {sut.name} relayed", []))
        added = True
    if added:
        flow.msgs = sorted((m for d in flow.dialogs.values() for m in d),
                           key=lambda m: (m.time, m.index))
        for i, m in enumerate(flow.msgs):
            m.index = i
        attribute_media(flow, parties.by_address)


def _far_party(parties: Parties, sut: Party, invite: Msg) -> Party:
    uri = invite.ruri or invite.uri_of("to")
    user = (uri.user if uri is not None else "") or "far-end"
    known = next((p for p in parties.agents if p.user == user), None)
    if known is not None:
        return known        # in the capture (it registered, say), but not this leg
    address = f"far-end:{user}@{sut.address}"
    party = parties.by_address.get(address)
    if party is None:
        taken = {p.name for p in parties.by_address.values()}
        party = Party(unique(sanitise(user) or "far-end", taken), address, "agent", user=user,
                      domain=uri.host if uri is not None else "", far_end_of=sut.name,
                      why=[f"not in the capture: the far end of calls through {sut.name}"])
        parties.by_address[address] = party
    return party


def _copy(m: Msg, src: str, dst: str, dt: float) -> Msg:
    return dataclasses.replace(m, src=src, dst=dst, time=m.time + dt, headers=dict(m.headers),
                               notes=[], forwarded_from=None)


def _relay(msgs: list[Msg], caller: Party, sut: Party, far: Party) -> list[Msg]:
    out: list[Msg] = []
    answered_end_to_end = False
    for m in msgs:
        if m.src == caller.address and m.dst == sut.address:
            out.append(m)
            if m.is_request and _challenged(msgs, m):
                continue                        # the SUT answered it itself
            copy = _copy(m, sut.address, far.address, 1e-6)
            copy.forwarded_from = m
            out.append(copy)
        elif m.src == sut.address and m.dst == caller.address:
            status = m.status
            own = (status in OWN_ANSWERS or
                   (status in ROUTING_REFUSALS and not answered_end_to_end and
                    m.method == "INVITE"))
            if not m.is_request and m.method == "INVITE" and status and \
                    100 < status < 300:
                answered_end_to_end = True
            if own:
                out.append(m)
                continue
            copy = _copy(m, far.address, sut.address, -1e-6)
            m.forwarded_from = copy
            out += [copy, m]
        else:
            out.append(m)
    return out


def _challenged(msgs: list[Msg], req: Msg) -> bool:
    """The SUT answered ``req`` itself with a challenge (or ``req`` is the ACK of one)."""
    num = req.cseq[0]
    return any(not m.is_request and m.status in (401, 407) and m.cseq[0] == num and
               m.cseq[1] in (req.method, "INVITE" if req.method == "ACK" else req.method)
               and m.dst == req.src for m in msgs)
