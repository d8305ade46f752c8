"""Fuzzing: random and mutated capture bytes never raise anything but CaptureFileError.

Bounded and seeded: a fixed number of iterations, reproducible failures.
"""
from __future__ import annotations

import random
import struct

from sipscen.analysis import analyze_capture
from sipscen.core.errors import CaptureFileError

SEED = 20261126


def seed_capture(cap, linktype=1):
    call = cap.Call()
    call.invite(1.0, {8: "PCMA/8000", 101: "telephone-event/8000"}, {8: "PCMA/8000", 101: "telephone-event/8000"})
    seq = 1
    for code in (1, 2):
        pk, seq = cap.digit_packets(code, seq, 1000 * seq, 2.0 + seq * 0.1, 0x42, 101)
        for t, p in pk:
            call.udp(t, True, p)
    for i in range(10):
        call.udp(3 + 0.02 * i, False, cap.rtp(i, 160 * i, 0x43, 8, bytes(range(160))))
    info = cap.sip("INFO sip:bob@127.0.0.2 SIP/2.0", "call-1", "2 INFO", "Signal=5\r\nDuration=100\r\n",
                   "application/dtmf-relay")
    call.udp(4.0, True, info, sip_port=True)
    return call.frames(linktype)


def run(path):
    try:
        a = analyze_capture(path)
    except CaptureFileError:
        return None
    d = a.to_dict()
    assert isinstance(d["packets"], int) and isinstance(d["warnings"], list)
    assert len(d["warnings"]) <= 8, d["warnings"]          # warnings per kind, never per packet
    return d


def test_mutated_captures(cap):
    rnd = random.Random(SEED)
    bases = []
    for lt in (1, 113, 276, 101, 0):
        bases.append(cap.write_pcap(cap.path(), seed_capture(cap, lt), lt).read_bytes())
    recs = [(t, 0, f) for t, f in seed_capture(cap, 1)]
    bases.append(cap.write_pcapng(cap.path(".pcapng"), [(1, 9)], recs).read_bytes())
    path = cap.path()
    for i in range(300):
        data = bytearray(rnd.choice(bases))
        kind = i % 4
        if kind == 0:                        # flip random bytes
            for _ in range(rnd.randrange(1, 20)):
                data[rnd.randrange(len(data))] = rnd.randrange(256)
        elif kind == 1:                      # truncate anywhere
            del data[rnd.randrange(len(data)):]
        elif kind == 2:                      # splice a random run of junk
            pos = rnd.randrange(len(data))
            data[pos:pos + rnd.randrange(1, 64)] = rnd.randbytes(rnd.randrange(1, 64))
        else:                                # mutate only headers past the file header
            for _ in range(5):
                pos = rnd.randrange(24, len(data))
                data[pos] ^= 1 << rnd.randrange(8)
        path.write_bytes(bytes(data))
        run(path)


def test_random_bytes_and_random_frames(cap):
    rnd = random.Random(SEED + 1)
    path = cap.path()
    for i in range(100):
        path.write_bytes(rnd.randbytes(rnd.randrange(0, 400)))
        run(path)
    # valid containers full of random frames, for every link type
    for lt in (0, 1, 12, 101, 108, 113, 228, 229, 276):
        frames = []
        for k in range(200):
            body = rnd.randbytes(rnd.randrange(0, 120))
            if k % 3 == 0:     # random bytes behind plausible headers
                body = cap.link(lt, b"\x45" + rnd.randbytes(8) + bytes([rnd.choice([6, 17])]) + rnd.randbytes(60))
            if k % 3 == 1:
                body = cap.link(lt, cap.udp_ip("127.0.0.1", "127.0.0.2", 1, 2, b"\x80" + rnd.randbytes(40)))
            frames.append((k * 0.01, body))
        d = run(cap.write_pcap(path, frames, lt))
        assert d is not None and d["packets"] == 200


def test_pcapng_block_garbage(cap):
    rnd = random.Random(SEED + 2)
    path = cap.path(".pcapng")
    shb = struct.pack("<IIIHHqI", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1, 28)
    for i in range(100):
        blocks = [shb]
        for _ in range(rnd.randrange(1, 6)):
            btype = rnd.choice([1, 2, 3, 6, 5, 0x0A0D0D0A, rnd.randrange(1 << 32)])
            body = rnd.randbytes(rnd.randrange(0, 40) * 4)
            n = len(body) + 12 + rnd.choice([0, 0, 0, 4, -4])
            blocks.append(struct.pack("<II", btype, max(0, n)) + body + struct.pack("<I", max(0, n)))
        path.write_bytes(b"".join(blocks))
        run(path)


def test_tcp_segment_chaos(cap):
    """Random SIP-ish TCP segments: any order, overlaps, gaps, sequence wrap, FIN/RST mid-message."""
    rnd = random.Random(SEED + 3)
    msg = cap.sip("INVITE sip:bob@127.0.0.2 SIP/2.0", "tcp-fuzz", "1 INVITE",
                  cap.sdp("127.0.0.1", 4000, {8: "PCMA/8000"}))
    stream = msg * 3 + b"\r\n" + msg[: len(msg) // 2]
    path = cap.path()
    for i in range(60):
        isn = rnd.choice([0, 1000, 0xFFFFFF00, rnd.randrange(1 << 32)])
        frames = [(0.0, cap.link(1, cap.tcp_ip("127.0.0.1", "127.0.0.2", 4000, 5060, isn, flags="S")))]
        honest = i % 2 == 0          # half the runs: real bytes at their real sequence numbers
        for k in range(rnd.randrange(5, 40)):
            start = rnd.randrange(0, len(stream))
            chunk = stream[start:start + rnd.randrange(1, 700)]
            if rnd.random() < 0.1 and not honest:
                chunk = rnd.randbytes(len(chunk))
            flags = rnd.choice(["PA", "PA", "PA", "A", "FA", "R"] if not honest else ["PA", "A"])
            shift = 0 if honest else rnd.choice([0, 0, 0, -5, 7, 1 << 31])
            seq = (isn + 1 + start + shift) & 0xFFFFFFFF
            frames.append((0.01 * (k + 1), cap.link(1, cap.tcp_ip("127.0.0.1", "127.0.0.2", 4000, 5060, seq,
                                                                  chunk, flags=flags))))
        d = run(cap.write_pcap(path, frames))
        assert d is not None
        if honest:                   # whatever was framed starts where a real message starts
            for c in d["calls"]:
                assert all(m["summary"] == "INVITE sip:bob@127.0.0.2" for m in c["messages"]), c["messages"]
