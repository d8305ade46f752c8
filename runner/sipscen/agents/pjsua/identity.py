"""Caller-ID of one call: its From, To and asserted identities, from a ``call`` step's
``identity`` (no pjsua2 here: the controller builds the strings, the worker puts
them in the INVITE).

``identity: {from, to, asserted, preferred}``: ``from`` and ``to`` are a URI
(``"Alice" <sip:+4412345@127.0.0.1>``) or ``{user, display, domain}`` (the
domain defaults to the agent's own for ``from``, to the Request-URI's host for
``to``); ``asserted`` / ``preferred`` become P-Asserted-Identity /
P-Preferred-Identity headers (RFC 3325).
"""
from __future__ import annotations

import re
from typing import Any, Mapping

_HOST = re.compile(r"^<?(sips?):(?:[^@;?>]*@)?(\[[^\]]+\]|[^;?>]+)", re.I)


def _name_addr(display: Any, uri: str) -> str:
    if not display:
        return f"<{uri}>"
    text = str(display).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}" <{uri}>'


def _party(value: Any, scheme: str, default_domain: str) -> str:
    if isinstance(value, str):
        return value
    value = dict(value or {})
    user = str(value.get("user") or "")
    domain = str(value.get("domain") or default_domain)
    uri = f"{scheme}:{user}@{domain}" if user else f"{scheme}:{domain}"
    return _name_addr(value.get("display"), uri)


def build(identity: Mapping[str, Any] | None, request_uri: str, own_domain: str
          ) -> tuple[str, str, dict[str, str]]:
    """(From, To, extra headers) of a call to ``request_uri``; '' means the default."""
    identity = dict(identity or {})
    match = _HOST.match(request_uri.strip())
    scheme, host = (match.group(1).lower(), match.group(2)) if match else ("sip", own_domain)
    from_uri = _party(identity["from"], scheme, own_domain) if identity.get("from") else ""
    to_uri = _party(identity["to"], scheme, host) if identity.get("to") else ""
    headers = {}
    for key, header in (("asserted", "P-Asserted-Identity"),
                        ("preferred", "P-Preferred-Identity")):
        if identity.get(key):
            value = str(identity[key])
            headers[header] = value if value.startswith(("<", '"')) else f"<{value}>"
    return from_uri, to_uri, headers
