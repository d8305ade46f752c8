"""What every check reads: the scenario, the agents' facts, the wire analysis."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runner.agents.base import Contact
from runner.scenario.model import Scenario


@dataclass
class CheckContext:
    scenario: Scenario
    facts: dict[str, dict[str, Any]]            # agent name -> Agent.facts()
    wire: dict[str, Any] | None                 # Analysis.to_dict(), None without capture
    contacts: dict[str, Contact] = field(default_factory=dict)
    wire_error: str | None = None               # why there is no wire analysis

    # --- addresses on the wire -------------------------------------------------
    def owns(self, name: str, address: str) -> bool:
        """Whether ``address`` ("ip:port") is one of agent/service ``name``'s ports."""
        contact = self.contacts.get(name)
        if contact is None or not address:
            return False
        host, _, port_text = address.rpartition(":")
        host = host.strip("[]")
        try:
            port = int(port_text)
        except ValueError:
            return False
        if host != contact.host:
            return False
        if port == contact.port:
            return True
        lo_hi = contact.media_ports
        return bool(lo_hi and lo_hi[0] <= port <= lo_hi[1])

    def agent_of(self, address: str) -> str | None:
        for name in self.contacts:
            if self.owns(name, address):
                return name
        return None

    def first_call(self, agent: str, direction: str | None = None) -> dict[str, Any] | None:
        for call in self.facts.get(agent, {}).get("calls", []):
            if direction is None or call.get("direction") == direction:
                return call
        return None
