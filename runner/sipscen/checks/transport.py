"""`transport` expectations: the SIP transport an agent used, proven on the wire.

``protocol: tls`` — TLS records (a handshake among them) on the agent's SIP port,
and not one cleartext SIP message to or from that port. ``udp``/``tcp``/``ws`` —
SIP messages to or from the agent's addresses, all over that protocol (``ws``:
SIP over WebSocket, RFC 7118). ``wss`` — SIP over secure WebSocket, read with the
agents' TLS key logs (a browser agent's Chromium writes one); TLS on its
connection without a key to read it is inconclusive.
"""
from __future__ import annotations

from sipscen.checks.context import CheckContext
from sipscen.core.results import ERROR, FAILED, PASSED, CheckResult
from sipscen.language.registry import ExpectationFamily, register_expectation
from sipscen.core.model import Expectation



def tls_records(wire: dict, hostport: str) -> tuple[int, int]:
    """(TCP segments to/from ``hostport`` that start a TLS record, handshake records
    among them), from the analysis's ``tls`` pairs."""
    pairs = [p for p in wire.get("tls") or [] if hostport in (p["src"], p["dst"])]
    return sum(p["records"] for p in pairs), sum(p["handshakes"] for p in pairs)


def _tls_on(ctx: CheckContext, agent: str) -> str:
    """TLS handshake records on the agent's own ephemeral addresses (a browser's
    WebSocket), as text; '' when there are none."""
    found = []
    for address in (ctx.facts.get(agent) or {}).get("addresses") or []:
        records, handshakes = tls_records(ctx.wire, address)
        if handshakes:
            found.append(f"{address}: {handshakes} handshake / {records} TLS records")
    return "; ".join(found)


def check_transport(exp: Expectation, ctx: CheckContext) -> list[CheckResult]:
    p = dict(exp.params)
    agent, protocol = p["agent"], p["protocol"]
    loc = str(exp.location)
    name = f"transport {agent}"
    contact = ctx.contacts.get(agent)
    if ctx.wire is None or contact is None:
        return [CheckResult(name, FAILED, protocol, None,
                            ctx.wire_error or f"no contact for {agent}", loc)]
    sip = [m for c in ctx.wire.get("calls", []) for m in c["messages"]
           if ctx.owns(agent, m.get("src", "")) or ctx.owns(agent, m.get("dst", ""))]
    if protocol == "tls":
        records, handshakes = tls_records(ctx.wire, contact.hostport)
        return [
            CheckResult(f"{name}: TLS handshake on {contact.hostport}",
                        PASSED if handshakes else FAILED, ">= 1 handshake record",
                        f"{handshakes} handshake / {records} TLS records", "", loc),
            CheckResult(f"{name}: no cleartext SIP", PASSED if not sip else FAILED, 0, len(sip),
                        "; ".join(m["summary"] for m in sip[:3]), loc)]
    if protocol == "wss" and not sip:
        locked = _tls_on(ctx, agent)
        if locked:
            return [CheckResult(f"{name}: SIP over wss", ERROR, protocol, locked,
                                "inconclusive: TLS on its connection, but no key in the TLS key "
                                "log opens it (the browser writes one: was it kept?)", loc)]
    other = sorted({m.get("transport") for m in sip if m.get("transport") != protocol})
    ok = bool(sip) and not other
    return [CheckResult(f"{name}: SIP over {protocol}", PASSED if ok else FAILED, protocol,
                        f"{len(sip)} message(s)" + (f", also over {other}" if other else ""),
                        "" if sip else f"no SIP message to or from {contact.hostport}", loc)]


register_expectation(ExpectationFamily(
    name="transport", evaluate="sipscen.checks.transport:check_transport",
    schema={"description": "The SIP transport an agent used, proven on the wire.",
            "type": "object", "required": ["agent", "protocol"], "additionalProperties": False,
            "properties": {"agent": {"$ref": "#/$defs/name"},
                           "protocol": {"enum": ["udp", "tcp", "tls", "ws", "wss"]}}},
    evidence="wire",
    doc="The SIP transport of `agent` on the wire: `tls` needs a TLS handshake on its SIP "
        "port and no cleartext SIP message to or from it; `udp`/`tcp`/`ws` need SIP messages "
        "to or from it, all over that protocol; `wss` the same over secure WebSocket, read "
        "with the TLS key log of the browser agents (inconclusive without a key).",
    example="- transport: {agent: bob, protocol: tls}"))
