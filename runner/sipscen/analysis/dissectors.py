"""Which dissector reads a UDP datagram or a TCP connection: two tables of
bindings, declared (as scapy's ``bind_layers`` binds a payload to a layer) and
consulted in order by the per-packet loop (``Analyzer.packet``).

UDP: a binding *claims* a datagram by its first bytes, ``claims(data, p, end)``
on the frame buffer (``data[p:end]`` is the UDP payload: no copy per packet),
and its *reader* reads it. The first binding that claims a datagram takes it.

TCP: a binding claims a *connection* by the first payload bytes of the first
data segment seen on it (``claims(payload)``); from then on its reader gets
every segment of that connection, in either direction, in capture order:
``reader.segment(t, src, sport, dst, dport, seq, flags, payload)``.

A reader is either the name of an :class:`~sipscen.analysis.analyzer.Analyzer`
method (the built-in SIP and RTP readers, which share the analyzer's call and
stream state) or a *collector* class: built once per analysis with the
analyzer's warnings list, ``datagram(...)`` / ``segment(...)`` per packet,
and ``result()`` once at the end, a JSON-able value the analysis output
carries under the binding's name (``"dtls"``, ``"stun"``, ``"tls"``).

Adding a protocol is one ``bind_udp`` or ``bind_tcp`` call in its module; the
loop needs no change. The inline fast path (``fastpath.py``) only ever takes
RTP packets of streams the general path has already seen, so it never
bypasses a binding's first look.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class UdpBinding:
    name: str
    claims: Callable[[bytes, int, int], bool]     # (frame, payload start, payload end)
    reader: str | type                            # an Analyzer method, or a collector class


@dataclass(frozen=True)
class TcpBinding:
    name: str
    claims: Callable[[bytes], bool]               # the first payload of a connection
    reader: str | type


UDP: list[UdpBinding] = []
TCP: list[TcpBinding] = []


def _bind(table: list, binding: Any, before: str | None) -> None:
    for i, known in enumerate(table):
        if known.name == binding.name:
            table[i] = binding                # re-declared (a module imported again)
            return
    at = next((i for i, b in enumerate(table) if b.name == before), len(table))
    table.insert(at, binding)


def bind_udp(name: str, claims: Callable[[bytes, int, int], bool], reader: str | type,
             before: str | None = None) -> None:
    """Let ``reader`` read the UDP datagrams ``claims`` accepts (ahead of ``before``)."""
    _bind(UDP, UdpBinding(name, claims, reader), before)


def bind_tcp(name: str, claims: Callable[[bytes], bool], reader: str | type,
             before: str | None = None) -> None:
    """Let ``reader`` read the TCP connections whose first payload ``claims`` accepts."""
    _bind(TCP, TcpBinding(name, claims, reader), before)


class PairTable:
    """A collector's entries per (source, destination) endpoint pair, at most
    ``limit`` of them: ``entry`` makes one from ``fields`` (copied) on first sight."""

    def __init__(self, limit: int, **fields: Any):
        self.limit, self.fields = limit, fields
        self.pairs: dict[tuple[str, str], dict] = {}

    def entry(self, t: float, a: str, b: str) -> dict | None:
        found = self.pairs.get((a, b))
        if found is None:
            if len(self.pairs) >= self.limit:
                return None
            found = self.pairs[(a, b)] = {"src": a, "dst": b, "first": t, **self.fields}
        return found

    def result(self) -> list[dict]:
        return list(self.pairs.values())


# --- the built-in claims -----------------------------------------------------------------
_UPPER = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def is_rtcp(data: bytes, p: int, end: int) -> bool:
    """RTCP (RFC 5761's demultiplexing of rtcp-mux: packet types 192-223, so also the
    transport-wide and payload-specific feedback, 205 and 206, a WebRTC peer sends)."""
    return end - p >= 2 and data[p] & 0xC0 == 0x80 and 192 <= data[p + 1] <= 223


def is_rtp(data: bytes, p: int, end: int) -> bool:
    return end - p >= 12 and data[p] & 0xC0 == 0x80


def starts_like_sip(data: bytes, p: int, end: int) -> bool:
    """A request method or "SIP/2.0" starts with a capital letter."""
    return end > p and data[p] in _UPPER


def starts_like_tls(payload: bytes) -> bool:
    """A TLS record header: content type 20-23, version 3.x."""
    return len(payload) >= 3 and 0x14 <= payload[0] <= 0x17 and payload[1] == 3


def anything(payload: bytes) -> bool:
    return True
