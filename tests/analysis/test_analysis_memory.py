"""Memory grows with streams and events, never with packets (tracemalloc peak, not time)."""
from __future__ import annotations

import struct
import tracemalloc

from sipscen.analysis import analyze_capture, pcap


def write_capture(path, packets: int, streams: int = 50) -> None:
    """Ethernet/IPv4/UDP/RTP, ``streams`` flows round-robin, raw struct for speed."""
    rec = struct.Struct("<IIII").pack
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        chunk = []
        for i in range(packets):
            s = i % streams
            n = i // streams
            rtp = struct.pack("!BBHII", 0x80, 8, n & 0xFFFF, (160 * n) & 0xFFFFFFFF, 0x1000 + s) + b"\xd5" * 40
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28 + len(rtp), 0, 0x4000, 64, 17, 0,
                             bytes([127, 0, 0, 1]), bytes([127, 0, 1, 1 + s]))
            frame = b"\0" * 12 + b"\x08\x00" + ip + struct.pack("!HHHH", 4000 + 2 * s, 6000, 8 + len(rtp), 0) + rtp
            t = 1000 + n * 0.02 + s * 1e-4
            chunk.append(rec(int(t), int((t % 1) * 1e6), len(frame), len(frame)) + frame)
            if len(chunk) >= 10000:
                f.write(b"".join(chunk))
                chunk = []
        f.write(b"".join(chunk))


def peak_bytes(path) -> tuple[int, dict]:
    tracemalloc.start()
    try:
        a = analyze_capture(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, a.to_dict()


def test_peak_memory_does_not_grow_with_packets(tmp_path, monkeypatch):
    # smaller read chunks than the default 4 MiB, so that small files span many of them
    monkeypatch.setattr(pcap, "CHUNK", 1 << 18)
    small, large = tmp_path / "small.pcap", tmp_path / "large.pcap"
    write_capture(small, 15_000)         # ~1.4 MB: several read chunks
    write_capture(large, 60_000)         # 4x the packets, same streams
    p_small, d_small = peak_bytes(small)
    p_large, d_large = peak_bytes(large)
    assert d_small["packets"] == 15_000 and d_large["packets"] == 60_000
    assert len(d_large["rtp_streams"]) == 50 and all(s["lost"] == 0 for s in d_large["rtp_streams"])
    assert p_large < p_small * 1.25 + 1_000_000, (p_small, p_large)
