"""`transport` expectations: the SIP transport an agent used, proven on the wire.

``protocol: tls`` — TLS records (a handshake among them) on the agent's SIP port,
and not one cleartext SIP message to or from that port. ``udp``/``tcp``/``ws`` —
SIP messages to or from the agent's SIP port or its own connections, all over
that protocol (``ws``: SIP over WebSocket, RFC 7118). ``wss`` — SIP over secure
WebSocket, read with the agents' TLS key logs (a browser agent's Chromium writes
one); TLS on its connection without a key to read it is inconclusive.
"""
from __future__ import annotations

from sipscen.checks.attribution import endpoint
from sipscen.checks.context import CheckContext
from sipscen.core.results import ERROR, FAILED, PASSED, CheckResult
from sipscen.analysis.result import WireAnalysis
from sipscen.language.registry import ExpectationFamily, register_expectation
from sipscen.core.model import Expectation
from sipscen.capture.visibility import SIGNALLING



def tls_records(wire: WireAnalysis, hostports: set[str]) -> tuple[int, int]:
    """(TCP segments to/from one of ``hostports`` that start a TLS record, handshake
    records among them), from the analysis's ``tls`` pairs."""
    pairs = [p for p in wire.tls if hostports & {p.src, p.dst}]
    return sum(p.records for p in pairs), sum(p.handshakes for p in pairs)


def check_transport(exp: Expectation, ctx: CheckContext) -> list[CheckResult]:
    p = dict(exp.params)
    agent, protocol = p["agent"], p["protocol"]
    loc = str(exp.location)
    name = f"transport {agent}"
    contact = ctx.contacts.get(agent)
    if ctx.wire is None or contact is None:
        return [CheckResult(name, FAILED, protocol, None,
                            ctx.wire_error or f"no contact for {agent}", loc)]
    clients = _client_ends(ctx, agent)      # its own connections, from ephemeral ports
    mine = {contact.hostport} | {endpoint(h, p) for h, p in clients}
    sip = [m for c in ctx.wire.calls for m in c.messages
           if mine & {m.src, m.dst}]
    if protocol == "tls":
        records, handshakes = tls_records(ctx.wire, mine)
        where = contact.hostport + (f" and its {len(clients)} connection(s) as a client"
                                    if clients else "")
        return [
            CheckResult(f"{name}: TLS handshake on {contact.hostport}"
                        + (" or its client connections" if clients else ""),
                        PASSED if handshakes else FAILED, ">= 1 handshake record",
                        f"{handshakes} handshake / {records} TLS records",
                        "" if handshakes else f"no TLS handshake on {where}", loc),
            CheckResult(f"{name}: no cleartext SIP", PASSED if not sip else FAILED, 0, len(sip),
                        "; ".join(m.summary for m in sip[:3]), loc)]
    if protocol == "wss" and not sip:
        records, handshakes = tls_records(ctx.wire, mine)
        if handshakes:
            return [CheckResult(f"{name}: SIP over wss", ERROR, protocol,
                                f"{handshakes} handshake / {records} TLS records",
                                "inconclusive: TLS on its connection, but no key in the TLS key "
                                "log opens it (the browser writes one: was it kept?)", loc)]
    other = sorted({m.transport for m in sip if m.transport != protocol})
    ok = bool(sip) and not other
    return [CheckResult(f"{name}: SIP over {protocol}", PASSED if ok else FAILED, protocol,
                        f"{len(sip)} message(s)" + (f", also over {other}" if other else ""),
                        "" if sip else f"no SIP message to or from {contact.hostport}", loc)]


def _client_ends(ctx: CheckContext, agent: str) -> set[tuple[str, int]]:
    """The local ends of the TLS connections the agent opened itself (its facts:
    a client connects from an ephemeral port, not from the one it listens on)."""
    out = set()
    contact = ctx.contacts.get(agent)
    record = ctx.record(agent)
    for local in record.connection_ends() if record else []:
        host, _, port = local.rpartition(":")
        if port.isdigit() and (contact is None or int(port) != contact.port):
            out.add((host.strip("[]"), int(port)))     # (accepted ones: its own port)
    return out


register_expectation(ExpectationFamily(
    name="transport", evaluate="sipscen.checks.transport:check_transport",
    mutate="sipscen.checks.mutants_signalling:transport",   # falsified copies (sipscen judge --mutate)
    wire_needs=SIGNALLING,
    schema={"description": "The SIP transport an agent used, proven on the wire.",
            "type": "object", "required": ["agent", "protocol"], "additionalProperties": False,
            "properties": {"agent": {"$ref": "#/$defs/name"},
                           "protocol": {"enum": ["udp", "tcp", "tls", "ws", "wss"]}}},
    evidence="wire",
    doc="The SIP transport of `agent` on the wire: `tls` needs a TLS handshake on its SIP "
        "port or on a connection it opened as a client (from an ephemeral port, as its "
        "facts report) and no cleartext SIP message to or from either; `udp`/`tcp` need SIP messages to "
        "or from it, all over that protocol; `ws` the same over WebSocket, `wss` over "
        "secure WebSocket, read with the TLS key log of the browser agents (inconclusive "
        "without a key).",
    example="- transport: {agent: bob, protocol: tls}"))
