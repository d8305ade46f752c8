"""Where an agent or a service can be reached, decided at plan time."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Contact:
    """Where an agent (or a service) can be reached, decided at plan time."""

    name: str
    host: str                      # 127.0.0.1 or ::1
    port: int                      # SIP port
    transport: str = "udp"         # udp | tcp | tls
    user: str = ""
    media_ports: tuple[int, int] | None = None   # inclusive range the agent's RTP uses
    files: str = ""                # a service's folder of generated files (`files:`)
    ws_port: int = 0               # a service's SIP over WebSocket port (0: none), RFC 7118
    wss_port: int = 0              # ... and secure WebSocket port

    @property
    def ports(self) -> tuple[int, ...]:
        """Every signalling port it listens on (SIP, WebSocket, secure WebSocket)."""
        return tuple(p for p in (self.port, self.ws_port, self.wss_port) if p)

    @property
    def hostport(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def media_min(self) -> int | str:
        return self.media_ports[0] if self.media_ports else ""

    @property
    def media_max(self) -> int | str:
        return self.media_ports[1] if self.media_ports else ""

    @property
    def uri(self) -> str:
        scheme = "sips" if self.transport == "tls" else "sip"
        user = f"{self.user}@" if self.user else ""
        params = "" if self.transport == "udp" else f";transport={self.transport}"
        return f"{scheme}:{user}{self.hostport}{params}"
