"""What every check reads: the scenario, the agents' facts, the wire analysis."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from sipscen.checks.links import call_parties, linked_ids
from sipscen.analysis.result import WireAnalysis
from sipscen.core.contact import Contact
from sipscen.core.model import Scenario
from sipscen.core.results import AGENT, WIRE
from sipscen.agents.records import AgentRecord, CallRecord, record_of
from sipscen.language import registry
from sipscen.checks.attribution import outside_note
from sipscen.checks.attribution import uncaptured
from sipscen.checks.attribution import media_owners


@dataclass
class CheckContext:
    scenario: Scenario
    # agent (or service) name -> its facts as a typed record (sipscen.agents.records);
    # JSON facts (Agent.facts(), evidence.json) are read through record_of at creation
    facts: dict[str, AgentRecord]
    # the wire analysis (Analysis.to_dict() is read through WireAnalysis.from_dict once,
    # when the context is made), None without a capture
    wire: WireAnalysis | None
    contacts: dict[str, Contact] = field(default_factory=dict)
    wire_error: str | None = None               # why there is no wire analysis
    services: dict[str, dict[str, Any]] = field(default_factory=dict)  # service -> facts
    # decoded wire audio (Analysis.audio: rtp_streams index -> samples, rate, start, times),
    # signal name -> board time of its first post, and the wall-clock time of board time 0
    wire_audio: dict[int, dict[str, Any]] = field(default_factory=dict)
    signals: dict[str, float] = field(default_factory=dict)
    epoch0: float = 0.0
    # (agent, step index) -> {"started": t, "done": t}: phases bounded by steps
    steps: dict[tuple[str, int], dict[str, float]] = field(default_factory=dict)
    # load agent -> media summary of its calls (checks/load_media.py), the result's "load"
    load: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.facts = {name: record_of(facts) or AgentRecord()
                      for name, facts in dict(self.facts or {}).items()}
        if isinstance(self.wire, Mapping):
            self.wire = WireAnalysis.from_dict(self.wire)

    # --- addresses on the wire -------------------------------------------------
    def owns(self, name: str, address: str) -> bool:
        """Whether ``address`` ("ip:port") is agent/service ``name``'s: its SIP address,
        an address the calls' SDP gave it (checks/attribution.py), or, for an address
        no SDP names, one of its declared media ports."""
        if not address:
            return False
        owner = self.media.owner.get(address)
        if owner is not None:
            return owner == name
        return self.declared(name, address)

    def declared(self, name: str, address: str) -> bool:
        """Whether ``address`` is ``name``'s SIP port or within its declared media ports
        (on its host or its media face: its address on the impairment relay)."""
        contact = self.contacts.get(name)
        if contact is None or not address:
            return False
        record = self.facts.get(name) or AgentRecord()
        if address in record.own_addresses():
            return True         # its own ephemeral ports (a browser's WebSocket, ICE)
        host, _, port_text = address.rpartition(":")
        host = host.strip("[]")
        try:
            port = int(port_text)
        except ValueError:
            return False
        if host != contact.host and host != record.face():
            return False
        if port in contact.ports:          # its SIP port, its WebSocket ports
            return True
        lo_hi = contact.media_ports
        return bool(lo_hi and lo_hi[0] <= port <= lo_hi[1])

    def agent_of(self, address: str) -> str | None:
        owner = self.media.owner.get(address) if address else None
        if owner is not None:
            return owner
        return self.declared_owner(address)

    def declared_owner(self, address: str) -> str | None:
        for name in self.contacts:
            if self.declared(name, address):
                return name
        return None

    @property
    def media(self):
        """Every SDP media address on the wire with the party that announced it
        (computed once per wire analysis)."""
        cached = self.__dict__.get("_media")
        if cached is None or cached[0] is not self.wire:
            cached = (self.wire, media_owners(self.wire, self.declared_owner, self.declared))
            self.__dict__["_media"] = cached
        return cached[1]

    def captured_ranges(self) -> list[tuple[int, int]]:
        """The ports the capture listened to: every party's SIP port and media range."""
        ranges = []
        for c in self.contacts.values():
            ranges += [(p, p) for p in c.ports]
            if c.media_ports:
                ranges.append(tuple(c.media_ports))
        return ranges

    def uncaptured(self, a: str, b: str) -> str:
        """'inconclusive: ...' when the calls' SDP put all media of a and b outside
        the ports the capture listened to, else ''."""
        return uncaptured(self.media, a, b, self.captured_ranges(),
                          self.call_ids_between(a, b) or None)

    def media_warnings(self) -> list[str]:
        """One line per party whose media the SDP put outside its declared ports."""
        notes = []
        for party in self.media.outside:
            contact = self.contacts.get(party)
            note = outside_note(self.media, party, contact.media_ports if contact else None)
            if note:
                notes.append(note)
        return notes

    def reports(self, agent: str, capability: str) -> bool:
        """Whether ``agent``'s type reports ``capability`` (calls, dtmf, responses, load)
        in its facts (``AgentType.capabilities``); services report nothing."""
        spec = next((a for a in self.scenario.agents if a.name == agent), None)
        agent_type = registry.agent_types().get(spec.type) if spec is not None else None
        return agent_type is not None and capability in agent_type.capabilities

    def record(self, agent: str) -> AgentRecord | None:
        """``agent``'s facts as its type's typed record (``sipscen.agents.records``)."""
        return self.facts.get(agent)

    def evidence_of(self, name: str) -> str:
        """What a party's facts rest on: WIRE for a service (or an agent whose calls
        the capture tells), AGENT for an agent's own report."""
        return WIRE if self.from_capture(name) else AGENT

    def from_capture(self, name: str) -> bool:
        """Whether ``name``'s facts are read from the capture (a service's)."""
        record = self.facts.get(name)
        return record is not None and record.source == "wire"

    def is_agent(self, name: str | None) -> bool:
        """An agent of the scenario (not a service, not an unknown address)."""
        return name is not None and any(a.name == name for a in self.scenario.agents)

    def at(self, name: str) -> str:
        """How a result names a party's own view: "at bob", or for a service, whose
        facts come from the capture, "at carol, from the capture"."""
        return f"at {name}, from the capture" if self.from_capture(name) else f"at {name}"

    def calls(self, agent: str) -> list[CallRecord]:
        record = self.facts.get(agent)
        return list(record.calls) if record is not None else []

    def first_call(self, agent: str, direction: str | None = None) -> CallRecord | None:
        for call in self.calls(agent):
            if direction is None or call.direction == direction:
                return call
        return None

    # --- which calls connect two parties -----------------------------------------
    def call_ids_between(self, a: str, b: str) -> set[str]:
        """SIP Call-IDs of the calls between ``a`` and ``b``: a call either side
        reports whose Call-ID the other side also reports (through a proxy the
        Call-ID stays), or whose remote URI names the other side's address (a
        SIPp or service peer reports no calls; a refused call may never reach the
        callee's application), or whose SIP messages in the capture were sent
        or received by both."""
        ids: set[str] = set()
        for wire_call in self.wire.calls if self.wire else []:
            parties = call_parties(self, wire_call.call_id)
            if a in parties and b in parties and wire_call.call_id:
                ids.add(wire_call.call_id)
        for me, other in ((a, b), (b, a)):
            theirs = {c.call_id for c in self.calls(other)}
            contact = self.contacts.get(other)
            for call in self.calls(me):
                cid = call.call_id
                if not cid:
                    continue
                remote = str(call.remote_uri or "")
                if cid in theirs or (contact is not None and contact.hostport in remote):
                    ids.add(cid)
        return ids | linked_ids(self, a, b)            # both legs through a B2BUA

    def calls_between(self, agent: str, peer: str, direction: str | None = None
                      ) -> list[CallRecord]:
        """``agent``'s calls (in ``direction``) with ``peer``, in its order."""
        ids = self.call_ids_between(agent, peer)
        return [call for call in self.calls(agent)
                if call.call_id in ids and (direction is None or call.direction == direction)]

    def call_between(self, agent: str, peer: str, direction: str | None = None
                     ) -> CallRecord | None:
        """``agent``'s first call (in ``direction``) with ``peer``, or None."""
        calls = self.calls_between(agent, peer, direction)
        return calls[0] if calls else None

    def first_of(self, agent: str, peer: str) -> str:
        """A note when ``agent`` had several calls with ``peer``: which one an
        agent-side verdict judged (the first), else ''."""
        calls = self.calls_between(agent, peer)
        if len(calls) < 2:
            return ""
        return (f"judged {agent}'s first of {len(calls)} calls with {peer} "
                f"(Call-ID {calls[0].call_id})")
