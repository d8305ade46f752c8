"""A browser agent's configuration: from the scenario's mapping to checked values,
and where it connects.

The WebSocket URL comes from ``account.registrar``: a service (or agent) name
gives ``ws://HOST:WS_PORT`` (``transport: ws``) or ``wss://HOST:WSS_PORT``
(``wss``) from that party's planned ``ws_port``/``wss_port`` (its SIP port when
it declares none: then nothing may answer there, and the run says so, naming
the URL); a ``ws://``/``wss://`` URL is taken as written (loopback only).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import urlsplit

from sipscen.core.contact import Contact
from sipscen.core.network import require_loopback
from sipscen.core.errors import ScenarioError
from sipscen.core.model import AgentSpec, parse_duration


@dataclass(frozen=True)
class BrowserContact(Contact):
    """A browser listens nowhere: it is reached through its registrar, so its URI (what
    `call: {to: NAME}` dials) is ``sip:USER@REGISTRAR``; its own ports are ephemeral
    (``port`` 0) and reported in its facts (``addresses``) once known."""

    via: str = ""                    # the registrar's host:port

    @property
    def uri(self) -> str:
        return f"sip:{self.user}@{self.via}" if self.via else f"sip:{self.user}@{self.host}"


@dataclass
class BrowserSettings:
    user: str = ""
    domain: str = ""
    registrar: str = ""              # a party's name or a ws(s):// URL
    password: str | None = None
    username: str | None = None
    realm: str | None = None
    register_at_start: bool = True
    transport: str = "ws"
    codecs: list[str] = field(default_factory=list)
    answer: dict[str, Any] = field(default_factory=dict)     # manual, delay_ms, reject
    source: dict[str, Any] = field(default_factory=dict)     # tone | file
    trust: str | None = None
    contact_token: str = field(default_factory=lambda: secrets.token_hex(4))


def parse_settings(spec: AgentSpec) -> BrowserSettings:
    cfg = spec.config
    account: Mapping[str, Any] = cfg.get("account") or {}
    s = BrowserSettings()
    s.user = str(account.get("user") or spec.name)
    s.registrar = str(account.get("registrar") or "")
    s.domain = str(account.get("domain") or "")
    s.password = account.get("password")
    s.username = account.get("username")
    s.realm = account.get("realm")
    s.register_at_start = bool(account.get("register_at_start", True))
    # (the model fills `transport: udp` into every agent: a browser's default is ws)
    s.transport = str(cfg.get("transport")) if cfg.get("transport") in ("ws", "wss") else "ws"
    s.codecs = [str(c) for c in cfg.get("codecs") or []]
    answer = dict(cfg.get("answer") or {})
    s.answer = {"manual": bool(answer.get("manual")),
                "delay_ms": int(parse_duration(answer["delay"]) * 1000)
                if answer.get("delay") is not None else 0,
                "reject": answer.get("reject")}
    s.source = dict(cfg.get("source") or {})
    s.trust = (cfg.get("tls") or {}).get("trust")
    if not s.registrar:
        raise ScenarioError("a browser agent needs account.registrar (the service it "
                            "connects to over WebSocket)", spec.location, f"{spec.path}.account")
    return s


def server_of(s: BrowserSettings, spec: AgentSpec, contacts: Mapping[str, Contact]
              ) -> tuple[str, str, int]:
    """(WebSocket URL, host, port) the browser connects to."""
    where = f"{spec.path}.account.registrar"
    if "://" in s.registrar:
        parts = urlsplit(s.registrar)
        host = require_loopback(parts.hostname or "", where, spec.location)
        port = parts.port or (443 if parts.scheme == "wss" else 80)
        return s.registrar, host, port
    party = contacts.get(s.registrar)
    if party is None:
        raise ScenarioError(f"unknown registrar '{s.registrar}'", spec.location, where)
    port = (party.wss_port if s.transport == "wss" else party.ws_port) or party.port
    host = f"[{party.host}]" if ":" in party.host else party.host
    return f"{s.transport}://{host}:{port}", party.host, port
