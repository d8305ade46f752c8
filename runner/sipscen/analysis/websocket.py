"""SIP over WebSocket (RFC 7118) in TCP flows: ws, and wss read with a TLS key log.

``WebSocketSip.segment`` takes every TCP segment (the analyser hands it the
ones of every flow) and returns the SIP messages it completed, each with its
transport (``ws`` or ``wss``). Per connection:

1. TCP reassembly of each direction (``sip.TcpSipReassembler``'s: reordering,
   retransmissions, overlaps, gaps);
2. for a TLS connection, the application data (``tls.TlsConnection``, with the
   secrets of the key log; without them the connection is reported, not read);
3. the opening handshake (an HTTP ``GET`` with ``Upgrade: websocket`` one way,
   ``HTTP/1.1 101`` the other) — or, joining a connection already open, a
   frame whose text starts a SIP message;
4. frames (RFC 6455): masked or not, 7/16/64-bit lengths, several in one
   segment or one over several segments; a message fragmented over frames
   (continuation) is joined; control frames (ping, pong, close) are skipped;
5. each message's SIP messages (one per message by RFC 7118, several read too).

Flows that are none of this are dropped after their first bytes: no buffering.
Memory per connection is bounded (a message is at most ``MAX_MESSAGE``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from sipscen.analysis.dissectors import bind_tcp
from sipscen.analysis.sip import TcpSipReassembler, _Flow
from sipscen.analysis.tls_decrypt import KeyLog, TlsConnection, looks_like_tls

SYN, FIN, RST = 0x02, 0x01, 0x04
MAX_MESSAGE = 1 << 20
MAX_HEADER = 16384
CONTINUATION, TEXT, BINARY, CLOSE = 0x0, 0x1, 0x2, 0x8

_SIP_START = re.compile(rb"(?:INVITE|ACK|BYE|CANCEL|OPTIONS|REGISTER|PRACK|SUBSCRIBE|NOTIFY|"
                        rb"PUBLISH|INFO|REFER|MESSAGE|UPDATE) sips?:|SIP/2\.0 \d{3} ")
# what a direction is, once its first bytes are seen
NEW, HTTP, FRAMES, DEAD = "new", "http", "frames", "dead"


@dataclass
class _Side:
    state: str = NEW
    buf: bytearray = field(default_factory=bytearray)
    message: bytearray | None = None      # a fragmented message being joined
    opcode: int = TEXT


@dataclass
class _Conn:
    client: tuple                          # (address bytes, port) of the side that connects
    tls: TlsConnection | None = None
    upgraded: bool = False                 # an HTTP upgrade to websocket was seen
    sides: dict = field(default_factory=lambda: {True: _Side(), False: _Side()})
    dead: bool = False


class _Bytes(TcpSipReassembler):
    """The TCP reassembly of ``sip.TcpSipReassembler`` without its SIP framing: each
    segment gives the bytes that became contiguous (or None after a gap)."""

    def bytes_of(self, key: tuple, seq: int, flags: int, payload: bytes) -> bytes | None:
        flow = self.flows.get(key)
        data = b""
        if flags & SYN:
            flow = self.flows[key] = _Flow()
            flow.next_seq = (seq + 1) & 0xFFFFFFFF
        elif payload:
            if flow is None or flow.next_seq is None:
                flow = self.flows[key] = _Flow()
                flow.next_seq = seq
            self._add(flow, seq, payload)
            if flow.resync:
                flow.resync = False
                data = None
            else:
                data = bytes(flow.buf)
            flow.buf.clear()
        if flags & (FIN | RST):
            self.flows.pop(key, None)
        return data


class WebSocketSip:
    """The reader of the connections ``claims`` takes (``Analyzer._tcp_websocket``). A
    TLS connection's records are counted by ``tls`` (the TLS record collector) as well:
    this binding comes first, so it hands them on."""

    def __init__(self, warnings: list[str], keylog: KeyLog | None = None, tls_records=None):
        self.warnings = warnings
        self.keylog = keylog or KeyLog()
        self.tls_records = tls_records
        self.bytes = _Bytes(warnings)
        self.conns: dict[tuple, _Conn] = {}
        self._warned: set[str] = set()
        self.connections = 0            # WebSocket connections seen (upgraded or joined)
        self.unread_tls = 0             # TLS connections whose secrets the log lacks

    def _warn(self, kind: str, text: str) -> None:
        if kind not in self._warned:
            self._warned.add(kind)
            self.warnings.append(text)

    def segment(self, t: float, src: bytes, sport: int, dst: bytes, dport: int, seq: int,
                flags: int, payload: bytes) -> list[tuple[bytes, str]]:
        """SIP messages (raw bytes, ``ws``/``wss``) this segment completed."""
        if self.tls_records is not None:          # it counts the segments that start a record
            self.tls_records.segment(t, src, sport, dst, dport, seq, flags, payload)
        a, b = (src, sport), (dst, dport)
        key = (a, b) if a <= b else (b, a)
        conn = self.conns.get(key)
        if conn is None:
            if not payload or not _may_start(payload):
                if flags & SYN and not flags & 0x10:       # a SYN (not SYN-ACK): the client
                    self.conns[key] = _Conn(client=a)
                return []
            server_first = payload.startswith(b"HTTP/") or (
                _frame_with_sip(payload[:64]) and not payload[1] & 0x80)   # unmasked: server's
            conn = self.conns[key] = _Conn(client=b if server_first else a)
        elif conn.dead:
            if flags & (FIN | RST):
                self.conns.pop(key, None)
            return []
        data = self.bytes.bytes_of((src, sport, dst, dport), seq, flags, payload)
        out: list[tuple[bytes, str]] = []
        from_client = a == conn.client
        if data is None:
            self._warn("gap", "a WebSocket connection lost TCP segments: its SIP messages "
                              "after the gap are missing from the analysis")
            side = conn.sides[from_client]
            side.state, side.buf, side.message = DEAD, bytearray(), None
        elif data:
            out = self._bytes(conn, from_client, data)
        if flags & (FIN | RST) and all(s.state == DEAD or not s.buf
                                       for s in conn.sides.values()):
            self.conns.pop(key, None)
        return out

    def _bytes(self, conn: _Conn, from_client: bool, data: bytes) -> list[tuple[bytes, str]]:
        if conn.tls is None and conn.sides[from_client].state == NEW and not conn.upgraded \
                and looks_like_tls(data):
            if not self.keylog:                # no secrets to read it with: nothing to do
                conn.dead = True
                return []
            conn.tls = TlsConnection(self.keylog)
        if conn.tls is not None:
            plain = b"".join(conn.tls.feed(from_client, data))
            if not conn.tls.readable:
                self._unreadable(conn)
                return []
            data = plain
            if not data:
                return []
        transport = "wss" if conn.tls is not None else "ws"
        side = conn.sides[from_client]
        side.buf += data
        out: list[tuple[bytes, str]] = []
        if side.state == NEW:
            side.state = self._first(conn, side)
        if side.state == HTTP:
            end = side.buf.find(b"\r\n\r\n")
            if end < 0:
                if len(side.buf) > MAX_HEADER:
                    side.state = DEAD
                return out
            head = bytes(side.buf[:end]).lower()
            del side.buf[:end + 4]
            if head.startswith(b"get ") and b"upgrade: websocket" in head:
                conn.upgraded = True
            side.state = FRAMES if (conn.upgraded or head.startswith(b"http/1.1 101")) else DEAD
            if head.startswith(b"http/") and side.state == FRAMES:
                self.connections += 1
        if side.state == FRAMES:
            for opcode, message in self._frames(side):
                if opcode in (TEXT, BINARY):
                    out += [(m, transport) for m in self._sip(message)]
        if side.state == DEAD:
            side.buf.clear()
            if all(s.state == DEAD for s in conn.sides.values()):
                conn.dead = True
        return out

    def _first(self, conn: _Conn, side: _Side) -> str:
        head = bytes(side.buf[:16])
        if head.startswith((b"GET ", b"HTTP/")):
            return HTTP
        if _frame_with_sip(bytes(side.buf[:64])):       # joined an open connection
            self.connections += 1
            return FRAMES
        if len(side.buf) < 4:
            return NEW
        return DEAD

    def _unreadable(self, conn: _Conn) -> None:
        if conn.dead:
            return
        conn.dead = True
        tls = conn.tls
        if tls.missing:
            self.unread_tls += 1
            self._warn("tls-missing", "a TLS connection's secrets are not in the TLS key log: "
                                      "SIP over secure WebSocket on it is not read")
        elif tls.unsupported:
            self._warn(f"tls-{tls.unsupported}", f"a TLS connection uses {tls.unsupported}, "
                                                  "which is not read: SIP on it is missing")

    def _frames(self, side: _Side):
        """Complete frames in ``side.buf`` -> whole messages (opcode, payload)."""
        buf = side.buf
        while len(buf) >= 2:
            parsed = _frame_header(buf)
            if parsed is None:
                return
            fin, opcode, mask, start, length = parsed
            if length > MAX_MESSAGE:
                self._warn("huge", "a WebSocket frame over 1 MiB: dropped with its connection")
                side.state = DEAD
                return
            if len(buf) < start + length:
                return
            payload = bytes(buf[start:start + length])
            del buf[:start + length]
            if mask is not None:
                payload = _unmask(payload, mask)
            if opcode >= 0x8:
                if opcode == CLOSE:
                    side.state = DEAD
                    return
                continue            # ping, pong: between fragments too
            if opcode == CONTINUATION:
                if side.message is None:
                    continue        # a fragment whose start we never saw
                side.message += payload
                if len(side.message) > MAX_MESSAGE:
                    side.message = None
                    continue
                if fin:
                    message, side.message = bytes(side.message), None
                    yield side.opcode, message
                continue
            if fin:
                yield opcode, payload
            else:
                side.message, side.opcode = bytearray(payload), opcode

    def _sip(self, message: bytes) -> list[bytes]:
        """The SIP messages in one WebSocket message (RFC 7118: one; several are read)."""
        flow = _Flow()
        flow.buf = bytearray(message)
        found = self.bytes._frame(flow)
        rest = bytes(flow.buf).strip(b"\r\n")
        if rest:
            found.append(rest)       # a body shorter than its Content-Length: read as is
        return found


def claims(payload: bytes) -> bool:
    """The first payload of a connection that may carry SIP over WebSocket: an HTTP
    upgrade or its answer, a frame starting a SIP message, or TLS (read when a key
    log has its secrets; its records are counted for ``tls`` in any case)."""
    return _may_start(payload)


def _may_start(payload: bytes) -> bool:
    """Whether a flow's first bytes can be a WebSocket connection (or TLS under one)."""
    return payload.startswith((b"GET ", b"HTTP/1.")) or looks_like_tls(payload) \
        or _frame_with_sip(payload[:64])


def _frame_header(buf: bytes | bytearray):
    """(fin, opcode, mask or None, payload offset, payload length), or None if incomplete."""
    b0, b1 = buf[0], buf[1]
    length = b1 & 0x7F
    pos = 2
    if length == 126:
        if len(buf) < 4:
            return None
        length, pos = int.from_bytes(buf[2:4], "big"), 4
    elif length == 127:
        if len(buf) < 10:
            return None
        length, pos = int.from_bytes(buf[2:10], "big"), 10
    mask = None
    if b1 & 0x80:
        if len(buf) < pos + 4:
            return None
        mask, pos = bytes(buf[pos:pos + 4]), pos + 4
    return bool(b0 & 0x80), b0 & 0x0F, mask, pos, length


def _unmask(payload: bytes, mask: bytes) -> bytes:
    n = len(payload)
    key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
    return (int.from_bytes(payload, "big") ^ key).to_bytes(n, "big") if n else b""


def _frame_with_sip(data: bytes) -> bool:
    """A text or binary frame (masked or not) whose payload starts a SIP message."""
    if len(data) < 2 or data[0] & 0x70 or data[0] & 0x0F not in (TEXT, BINARY):
        return False
    parsed = _frame_header(data)
    if parsed is None:
        return False
    _, _, mask, start, length = parsed
    head = data[start:start + 24]
    if mask is not None:
        head = _unmask(head, mask)
    return length >= 12 and _SIP_START.match(head) is not None


bind_tcp("websocket", claims, "_tcp_websocket", before="tls")
