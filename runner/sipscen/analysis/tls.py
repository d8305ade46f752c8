"""TLS records on TCP connections, per direction: what the ``transport``
check needs to prove SIP over TLS (a handshake, then records, and no cleartext
SIP on the port). The analysis lists, under ``"tls"``::

    [{"src", "dst", "first", "records": segments that start a TLS record,
      "handshakes": those that start a handshake record}]

A connection is TLS when its first payload is a TLS record header
(``dissectors.starts_like_tls``); only record headers at segment starts are
counted (no decryption, no reassembly). Bounded: at most ``MAX_PAIRS`` pairs.
"""
from __future__ import annotations

from sipscen.analysis.dissectors import PairTable, bind_tcp, starts_like_tls
from sipscen.analysis.layers import endpoint_str

MAX_PAIRS = 10000
HANDSHAKE = 0x16


class TlsCollector:
    def __init__(self, warnings: list[str]):
        self.table = PairTable(MAX_PAIRS, records=0, handshakes=0)

    def segment(self, t, src, sport, dst, dport, seq, flags, payload) -> None:
        pair = self.table.entry(t, endpoint_str(src, sport), endpoint_str(dst, dport)) \
            if starts_like_tls(payload) else None
        if pair is None:
            return
        pair["records"] += 1
        pair["handshakes"] += payload[0] == HANDSHAKE

    def result(self) -> list[dict]:
        return self.table.result()


bind_tcp("tls", starts_like_tls, TlsCollector, before="sip")
