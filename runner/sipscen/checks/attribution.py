"""Whose media an address is: by what the calls negotiated (their SDP) first, by the
ports a party declared second.

Every SDP says where its sender *receives* media (``c=`` and ``m=``). The party that
first announced an ``address:port`` in the capture -- the sender of that SIP message,
known by its SIP address -- owns it:

* a proxy forwarding an offer unchanged announces nothing new (the caller did first);
* a relay's SDP (Kamailio writing rtpengine's ports) announces the relay's addresses;
* every later re-INVITE/UPDATE adds what it announces.

Declared ports (``Contact.media_ports``, an agent's media face) only speak for
addresses no SDP names (a party sending from a port it never announced, a capture
without the signalling). A party whose media the SDP puts outside its declared
ports is listed (``outside``): the engine warns about it, and media between two
parties whose addresses are all outside every captured port was never captured at
all (``uncaptured``: what the wire cannot show is inconclusive, never "no RTP").
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from sipscen.analysis.result import WireAnalysis, WireMessage

Owner = Callable[[str], "str | None"]          # "ip:port" -> party by its declared address
Declared = Callable[[str, str], bool]          # (party, "ip:port") -> within what it declared

DISCARD = 9        # RFC 4145/8839's placeholder port: no media there
_CONTACT = re.compile(r"^(?:Contact|m)\s*:[^\r\n]*?sips?:(?:[^@\s;>]*@)?([^;>\s]+)",
                      re.IGNORECASE | re.MULTILINE)


@dataclass
class MediaOwners:
    owner: dict[str, str] = field(default_factory=dict)          # "ip:port" -> party
    calls: dict[str, set[str]] = field(default_factory=dict)     # "ip:port" -> Call-IDs
    by_party: dict[str, list[str]] = field(default_factory=dict)  # party -> its addresses
    outside: dict[str, list[str]] = field(default_factory=dict)  # party -> outside declared

    def addresses(self, party: str, call_ids: set[str] | None = None) -> list[str]:
        """The addresses the SDP gave ``party`` (on these calls, when given)."""
        return [a for a in self.by_party.get(party, [])
                if call_ids is None or self.calls.get(a, set()) & call_ids]


def endpoint(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def _sender(message: WireMessage, sip_owner: Owner) -> str | None:
    """The party that sent a SIP message: by its source address, else (a TCP/TLS
    connection from an ephemeral port) by the Contact it gives."""
    found = sip_owner(message.src)
    if found is not None:
        return found
    head = (message.raw or "").split("\r\n\r\n", 1)[0]
    m = _CONTACT.search(head)
    return sip_owner(m.group(1)) if m else None


def media_owners(wire: WireAnalysis | None, sip_owner: Owner, declared: Declared) -> MediaOwners:
    """Every SDP media address of the capture with the party that announced it."""
    out = MediaOwners()
    entries = []
    for call in wire.calls if wire else []:
        for entry in call.sdp:
            if "OPTIONS" in str(entry.get("message", "")):
                continue            # capabilities, not where media goes
            entries.append((entry.get("time") or 0.0, call, entry))
    entries.sort(key=lambda e: e[0])
    for t, call, entry in entries:
        src = entry.get("from", "")
        party = sip_owner(src)
        if party is None:                        # look the message up for its Contact
            messages = [m for m in call.messages
                        if m.src == src and m.time == t]
            party = _sender(messages[0], sip_owner) if messages else None
        for media in entry.get("media", []):
            port, address = media.get("port") or 0, media.get("address") or ""
            if port in (0, DISCARD) or not address or address in ("0.0.0.0", "::"):
                continue
            key = endpoint(address, int(port))
            if call.call_id:
                out.calls.setdefault(key, set()).add(call.call_id)
            if party is None or key in out.owner:
                continue
            out.owner[key] = party
            out.by_party.setdefault(party, []).append(key)
            if not declared(party, key):
                out.outside.setdefault(party, []).append(key)
    return out


def outside_note(owners: MediaOwners, party: str, declared_range) -> str:
    """A warning for a party whose media the SDP put outside its declared ports."""
    found = owners.outside.get(party)
    if not found:
        return ""
    shown = ", ".join(found[:4]) + (f" and {len(found) - 4} more" if len(found) > 4 else "")
    ports = (f"declared {declared_range[0]}-{declared_range[1]}" if declared_range
             else "no media_ports declared")
    return (f"{party}'s media was found by the calls' SDP at {shown}, outside its declared "
            f"ports ({ports}): attributed by the SDP")


def captured(port: int, ranges: list[tuple[int, int]]) -> bool:
    return any(lo <= port <= hi for lo, hi in ranges)


def uncaptured(owners: MediaOwners, a: str, b: str, ranges: list[tuple[int, int]],
               call_ids: set[str] | None = None) -> str:
    """Why media between a and b cannot be on the wire: every address their SDP gave
    them lies outside the ports the capture listened to ('' when some is inside)."""
    ends = {p: owners.addresses(p, call_ids) for p in (a, b)}
    if not all(ends.values()):
        return ""
    ports = [int(x.rpartition(":")[2]) for found in ends.values() for x in found]
    if any(captured(p, ranges) for p in ports):
        return ""
    return (f"inconclusive: the SDP puts the media of {a} at {', '.join(ends[a])} and of {b} "
            f"at {', '.join(ends[b])}, outside the ports the capture listened to (declare "
            f"media_ports for them)")
