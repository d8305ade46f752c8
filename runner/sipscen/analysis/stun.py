"""STUN on the media ports (RFC 5389), as ICE connectivity checks use it
(RFC 8445): Binding requests and their success or error responses, per UDP pair.

An ICE agent proves a candidate pair by a Binding request one way and a
success response back; the analysis lists, under ``"stun"``::

    [{"src", "dst", "first", "last", "requests", "successes", "errors",
      "username": the first USERNAME attribute seen (ufrag:ufrag) or None,
      "allocations": TURN Allocate successes (RFC 8656), "turn": other TURN messages
      (Refresh, CreatePermission, ChannelBind, Send/Data indications)}]

Bounded: at most ``MAX_PAIRS`` pairs.
"""
from __future__ import annotations

from sipscen.analysis.dissectors import PairTable, bind_udp
from sipscen.analysis.layers import endpoint_str

MAGIC = b"\x21\x12\xa4\x42"
MAX_PAIRS = 1000
BINDING_REQUEST, BINDING_SUCCESS, BINDING_ERROR = 0x0001, 0x0101, 0x0111
ALLOCATE_SUCCESS = 0x0103
TURN_METHODS = frozenset({0x003, 0x004, 0x006, 0x007, 0x008, 0x009})   # RFC 8656 methods
USERNAME = 0x0006


def method_of(kind: int) -> int:
    """A STUN message type's method (RFC 5389 6: the class bits C0, C1 taken out)."""
    return (kind & 0x000F) | ((kind >> 1) & 0x0070) | ((kind >> 2) & 0x0F80)


def claims_stun(data: bytes, p: int, end: int) -> bool:
    """A STUN message: the two top bits zero, a length that fits, the magic cookie."""
    return end - p >= 20 and data[p] < 2 and data[p + 4:p + 8] == MAGIC and \
        20 + ((data[p + 2] << 8) | data[p + 3]) <= end - p


def _username(msg: bytes) -> str | None:
    pos, end = 20, min(len(msg), 20 + int.from_bytes(msg[2:4], "big"))
    while pos + 4 <= end:
        kind = int.from_bytes(msg[pos:pos + 2], "big")
        length = int.from_bytes(msg[pos + 2:pos + 4], "big")
        if kind == USERNAME:
            return msg[pos + 4:pos + 4 + length].decode("utf-8", "replace")
        pos += 4 + ((length + 3) & ~3)
    return None


class StunCollector:
    def __init__(self, warnings: list[str]):
        self.table = PairTable(MAX_PAIRS, last=0.0, requests=0, successes=0, errors=0,
                               username=None, allocations=0, turn=0)

    def datagram(self, t, src, sport, dst, dport, data, off, p, end) -> None:
        pair = self.table.entry(t, endpoint_str(src, sport), endpoint_str(dst, dport))
        if pair is None:
            return
        pair["last"] = t
        kind = (data[p] << 8) | data[p + 1]
        if kind == BINDING_REQUEST:
            pair["requests"] += 1
            if pair["username"] is None:
                pair["username"] = _username(bytes(data[p:end]))
        elif kind == BINDING_SUCCESS:
            pair["successes"] += 1
        elif kind == BINDING_ERROR:
            pair["errors"] += 1
        elif kind == ALLOCATE_SUCCESS:
            pair["allocations"] += 1
        elif method_of(kind) in TURN_METHODS:
            pair["turn"] += 1

    def result(self) -> list[dict]:
        return self.table.result()


bind_udp("stun", claims_stun, StunCollector)
