"""What the controller tells its worker: the ``configure`` command's arguments, made from
the agent's checked settings and the run's plan (addresses of the parties it names),
and the worker's command line. No pjsua2 here."""
from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from sipscen.core.errors import AgentError
from sipscen.agents.pjsua import ipv6

if TYPE_CHECKING:  # pragma: no cover
    from sipscen.agents.pjsua.controller import PjsuaAgent

# ``-I`` (isolated): the worker never imports from the user's working directory
# (a ``sipscen.py`` or ``pjsua2.py`` there), nor from PYTHONPATH or the user site.
WORKER_ARGV = [sys.executable, "-I", "-m", "sipscen.agents.pjsua.worker"]


def worker_argv(agent: str, address: str) -> list[str]:
    """The worker's command: on IPv6, with the Python whose pjsua2 has IPv6 (ipv6.py)."""
    if ":" in address:
        python = ipv6.interpreter()
        if python is None:
            raise AgentError(f"agent {agent}: {ipv6.missing_reason()}")
        return [python, *WORKER_ARGV[1:]]
    return WORKER_ARGV


def configure_args(agent: "PjsuaAgent") -> dict[str, Any]:
    s, contact = agent.settings, agent.contact_
    assert contact is not None and contact.media_ports is not None
    return {
        "address": s.address, "port": contact.port, "transport": s.transport,
        "tls": s.tls, "log_file": str(agent.log_file), "codecs": s.codecs,
        "account": {"user": s.user, "domain": s.domain,
                    "registrar": party_uri(agent, s.registrar, "registrar"),
                    "password": s.password, "realm": s.realm, "username": s.username,
                    "register_at_start": s.register_at_start, "display": s.display,
                    "proxy": party_uri(agent, s.proxy, "proxy", loose=True),
                    "contact": s.contact},
        "srtp": {"use": s.srtp_use, "secure_signaling": s.secure_signaling},
        "media": {"port": contact.media_ports[0],
                  "count": contact.media_ports[1] - contact.media_ports[0] + 1,
                  "public_address": agent.face.address if agent.face is not None else None},
        "answer": s.answer, "transfer": s.transfer, "follow_redirects": s.follow_redirects,
        "calls": s.calls, "ice": ice_args(agent),
        "tap_dir": str(agent.ctx.artifacts_dir),
    }


def ice_args(agent: "PjsuaAgent") -> dict[str, Any] | None:
    """``ice``'s TURN server as host:port (a service or agent by name: its address)."""
    ice = agent.settings.ice
    if ice is None:
        return None
    out: dict[str, Any] = {"rtcp": ice.get("rtcp", True) is not False}
    if ice.get("turn"):
        turn = dict(ice["turn"])
        server = str(turn["server"])
        if server in agent.ctx.contacts:
            server = agent.ctx.contact(server).hostport
        out["turn"] = {**turn, "server": server}
    return out


def party_uri(agent: "PjsuaAgent", value: str | None, what: str,
              loose: bool = False) -> str | None:
    """A registrar or proxy: a sip:/sips: URI as given, or an agent or service by name
    (``sip:host:port``, its transport; ``;lr`` for a proxy: a loose route)."""
    if not value or str(value).startswith(("sip:", "sips:")):
        return value
    if value not in agent.ctx.contacts:
        raise AgentError(f"agent {agent.ctx.name}: unknown {what} {value!r}")
    target = agent.ctx.contact(value)
    params = "" if target.transport == "udp" else f";transport={target.transport}"
    return f"sip:{target.hostport}{params}" + (";lr" if loose else "")
