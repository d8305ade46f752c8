"""SIP over WebSocket (RFC 7118) on captures these tests make: the opening
handshake, masked and unmasked frames, 16- and 64-bit lengths, several frames
in one TCP segment, one frame over several segments (also reordered and
retransmitted), a message fragmented over frames with a ping in between, a
connection joined after its handshake, and what is not WebSocket. Each capture
is cross-checked against tshark's websocket/sip dissection: the same SIP
messages, in the same order. (Captures of real browsers are cross-checked in
tests/webrtc/test_scenarios.py.)"""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from sipscen.analysis.analyze import analyze_capture

from .conftest import link, sip, tcp_ip, write_pcap

C, S = "127.0.0.1", "127.0.0.1"
CP, SP = 40100, 8088          # the browser's port, the server's WebSocket port
MASK = b"\x11\x22\x33\x44"

UPGRADE = (b"GET / HTTP/1.1\r\nHost: 127.0.0.1:8088\r\nUpgrade: websocket\r\n"
           b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: sip\r\n\r\n")
SWITCHED = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            b"Sec-WebSocket-Protocol: sip\r\n\r\n")


def frame(payload: bytes, opcode: int = 1, fin: bool = True, mask: bytes | None = None) -> bytes:
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    bit = 0x80 if mask else 0
    if n < 126:
        head += bytes([bit | n])
    elif n < 65536:
        head += bytes([bit | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([bit | 127]) + n.to_bytes(8, "big")
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        head += mask
    return head + payload


class Conn:
    """One TCP connection's segments, both directions, as capture frames."""

    def __init__(self, handshake: bool = True):
        self.frames: list[tuple[float, bytes]] = []
        self.seq = {True: 1000, False: 5000}         # client, server
        self.t = 1.0
        if handshake:
            self._add(True, b"", "S")
            self._add(False, b"", "SA")
            self.seq[True] += 1
            self.seq[False] += 1
            self.send(True, UPGRADE)
            self.send(False, SWITCHED)

    def _add(self, client: bool, data: bytes, flags: str = "PA", seq: int | None = None):
        src, dst, sport, dport = (C, S, CP, SP) if client else (S, C, SP, CP)
        self.t += 0.01
        self.frames.append((self.t, link(1, tcp_ip(src, dst, sport, dport,
                                                    self.seq[client] if seq is None else seq,
                                                    data, flags))))

    def send(self, client: bool, data: bytes) -> None:
        self._add(client, data)
        self.seq[client] += len(data)

    def split(self, client: bool, data: bytes, parts: int, order=None, repeat=()) -> None:
        """``data`` in ``parts`` segments, sent in ``order`` (indexes), ``repeat`` ones twice."""
        size = -(-len(data) // parts)
        chunks = [(self.seq[client] + i * size, data[i * size:(i + 1) * size])
                  for i in range(parts)]
        for i in order or range(parts):
            seq, chunk = chunks[i]
            self._add(client, chunk, seq=seq)
            if i in repeat:
                self._add(client, chunk, seq=seq)
        self.seq[client] += len(data)

    def write(self, path):
        return write_pcap(path, self.frames)


def invite(n: int = 1, body_size: int = 0) -> bytes:
    return sip("INVITE sip:bob@127.0.0.1 SIP/2.0", f"ws-call-{n}", f"{n} INVITE",
               body="v=0\r\n" + "a=x-pad:" + "p" * body_size + "\r\n" if body_size else "")


def answer(n: int = 1, code: str = "200 OK") -> bytes:
    return sip(f"SIP/2.0 {code}", f"ws-call-{n}", f"{n} INVITE")


def ours(path, keylogs=()) -> list[tuple[str, str, str]]:
    a = analyze_capture(path, tls_keylogs=keylogs)
    messages = sorted((m for c in a.calls for m in c["messages"]), key=lambda m: m["time"])
    return [(m["transport"], m.get("method") if m.get("status") is None else str(m["status"]),
             _call_id(m)) for m in messages], a.warnings


def _call_id(m: dict) -> str:
    for line in m["raw"].splitlines():
        if line.lower().startswith("call-id:"):
            return line.split(":", 1)[1].strip()
    return ""


def theirs(path, port: int = SP) -> list[tuple[str, str]]:
    exe = shutil.which("tshark")
    if exe is None:
        pytest.skip("tshark not installed")
    res = subprocess.run([exe, "-n", "-r", str(path), "-d", f"tcp.port=={port},http",
                          "-Y", "websocket && sip", "-T", "fields", "-E", "occurrence=a",
                          "-E", "aggregator=|", "-e", "sip.Method", "-e", "sip.Status-Code",
                          "-e", "sip.Call-ID"],
                         capture_output=True, text=True, timeout=120, check=True,
                         env={**os.environ, "HOME": str(path.parent)})
    out = []
    for line in res.stdout.splitlines():
        fields = [f.split("|") if f else [] for f in (line.split("\t") + ["", "", ""])[:3]]
        n = max(map(len, fields))
        methods, codes, call_ids = (f + [""] * (n - len(f)) for f in fields)
        # one packet, several messages: requests' methods and responses' codes each in order
        requests = [(m, c) for m, c in zip(methods, call_ids) if m]
        responses = [(c, i) for c, i in zip(codes, call_ids[len(requests):]) if c]
        out += requests + responses
    return out


def same_as_tshark(path) -> list:
    mine, warnings = ours(path)
    assert warnings == []
    assert [t for t, _, _ in mine] == ["ws"] * len(mine)
    assert [(what, cid) for _, what, cid in mine] == theirs(path)
    return mine


def test_masked_and_unmasked_frames_one_per_segment(tmp_path):
    c = Conn()
    c.send(True, frame(invite(1, 200), mask=MASK))          # 16-bit length, masked
    c.send(False, frame(answer(1, "100 Trying")))
    c.send(False, frame(answer(1)))
    c.send(True, frame(sip("ACK sip:bob@127.0.0.1 SIP/2.0", "ws-call-1", "1 ACK"), mask=MASK))
    mine = same_as_tshark(c.write(tmp_path / "ws.pcap"))
    assert [w for _, w, _ in mine] == ["INVITE", "100", "200", "ACK"]


def test_several_frames_in_one_segment_and_a_64_bit_length(tmp_path):
    c = Conn()
    c.send(True, frame(invite(1), mask=MASK) + frame(invite(2), mask=MASK))
    c.split(True, frame(invite(3, 70000), mask=MASK), 3)     # a 64-bit length, 3 segments
    c.send(False, frame(answer(1)) + frame(answer(2)) + frame(answer(3)))
    mine = same_as_tshark(c.write(tmp_path / "ws.pcap"))
    assert [(w, cid) for _, w, cid in mine] == [
        ("INVITE", "ws-call-1"), ("INVITE", "ws-call-2"), ("INVITE", "ws-call-3"),
        ("200", "ws-call-1"), ("200", "ws-call-2"), ("200", "ws-call-3")]


def test_one_frame_over_segments_reordered_and_retransmitted(tmp_path):
    c = Conn()
    c.split(True, frame(invite(1, 900), mask=MASK), 4, order=[0, 2, 1, 3], repeat=(1,))
    c.split(False, frame(answer(1)), 3, repeat=(0, 2))
    mine = same_as_tshark(c.write(tmp_path / "ws.pcap"))
    assert [w for _, w, _ in mine] == ["INVITE", "200"]      # once each


def test_a_message_fragmented_over_frames_with_a_ping_between(tmp_path):
    c = Conn()
    text = invite(1, 300)
    parts = [text[:100], text[100:250], text[250:]]
    c.send(True, frame(parts[0], opcode=1, fin=False, mask=MASK))
    c.send(True, frame(b"keepalive", opcode=9, mask=MASK))    # a ping between fragments
    c.send(True, frame(parts[1], opcode=0, fin=False, mask=MASK)
           + frame(parts[2], opcode=0, fin=True, mask=MASK))
    c.send(False, frame(b"keepalive", opcode=10) + frame(answer(1)))
    mine = same_as_tshark(c.write(tmp_path / "ws.pcap"))
    assert [w for _, w, _ in mine] == ["INVITE", "200"]
    a = analyze_capture(tmp_path / "ws.pcap")
    raw = next(m["raw"] for call in a.calls for m in call["messages"] if m["method"] == "INVITE")
    assert raw.encode() == text                                # joined whole, unmasked


def test_a_connection_joined_after_its_handshake(tmp_path):
    c = Conn(handshake=False)
    c.send(True, frame(invite(1), mask=MASK))
    c.send(False, frame(answer(1)))
    mine, warnings = ours(c.write(tmp_path / "ws.pcap"))
    assert [(t, w) for t, w, _ in mine] == [("ws", "INVITE"), ("ws", "200")]
    assert warnings == []


def test_what_is_not_sip_over_websocket_is_left_alone(tmp_path):
    c = Conn(handshake=False)
    c.send(True, b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n")   # plain HTTP
    c.send(False, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
    c.send(True, frame(b"\x00\x01binary junk", opcode=2, mask=MASK))
    mine, warnings = ours(c.write(tmp_path / "http.pcap"))
    assert mine == [] and warnings == []


def test_a_close_frame_ends_what_is_read(tmp_path):
    c = Conn()
    c.send(True, frame(invite(1), mask=MASK) + frame(b"\x03\xe8", opcode=8, mask=MASK)
           + frame(invite(2), mask=MASK))                      # after the close: not read
    mine, _ = ours(c.write(tmp_path / "ws.pcap"))
    assert [cid for _, _, cid in mine] == ["ws-call-1"]


def test_a_lost_segment_is_a_warning_not_a_wrong_message(tmp_path):
    c = Conn()
    data = frame(invite(1, 600), mask=MASK)
    size = len(data) // 3
    c._add(True, data[:size], seq=c.seq[True])
    c._add(True, data[2 * size:], seq=c.seq[True] + 2 * size)        # the middle never came
    c.seq[True] += len(data)
    for n in range(2, 300):          # enough later data that the reassembly gives up waiting
        c.send(True, frame(invite(n, 3000), mask=MASK))
    mine, warnings = ours(c.write(tmp_path / "ws.pcap"))
    assert ("ws", "INVITE", "ws-call-1") not in mine
    assert any("lost TCP segments" in w for w in warnings)
