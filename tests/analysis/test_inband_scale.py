"""Issue 20: `analyze --inband` on many streams. Its state is found per stream (a
stream's digits never come from a scan of every detector), and memory stays
with the streams active at a time: an idle stream's sink lets its samples,
decoder and detector go, and takes up again when the stream does.

Figures (time and RSS at 2.5k / 20k / 100k streams) are in
bench/bench_inband_streams.py; here: correctness, and memory (tracemalloc,
not time) on the issue's shape, one-packet SSRCs.
"""
from __future__ import annotations

import struct
import tracemalloc

import pytest

from sipscen.analysis import analyze_capture, wire_audio
from sipscen.analysis.audio import encode_g711
from sipscen.analysis.inband import dtmf_audio

PCMU = 0


def write(path, packets) -> None:
    """packets: (time, ssrc, seq, rtp ts, payload) PCMU on 127.0.0.1:20000 -> 127.0.0.2:40000
    (one flow: the streams differ by SSRC, as in the issue)."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for t, ssrc, seq, ts, payload in sorted(packets):
        rtp = struct.pack("!BBHII", 0x80, PCMU, seq & 0xFFFF, ts & 0xFFFFFFFF, ssrc) + payload
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28 + len(rtp), 0, 0x4000, 64, 17, 0,
                         bytes([127, 0, 0, 1]), bytes([127, 0, 0, 2]))
        frame = b"\0" * 12 + b"\x08\x00" + ip + struct.pack("!HHHH", 20000, 40000, 8 + len(rtp), 0) + rtp
        sec = int(t)
        out.append(struct.pack("<IIII", sec, round((t - sec) * 1e6), len(frame), len(frame)) + frame)
    path.write_bytes(b"".join(out))


def digit_packets(ssrc: int, digit: str, t0: float, seq0: int = 0, ts0: int = 0):
    """A 200 ms in-band digit and 100 ms of silence after it, 20 ms PCMU packets."""
    audio = encode_g711(dtmf_audio(digit, duration=0.2, gap=0.1), "PCMU")
    return [(t0 + 0.02 * i, ssrc, seq0 + i, ts0 + 160 * i, audio[160 * i:160 * (i + 1)])
            for i in range(len(audio) // 160)]


def test_each_streams_digits_are_its_own(tmp_path):
    """300 streams on one flow, each its own digit: every digit is found once, on its
    stream, at its time."""
    keys = "0123456789*#ABCD"
    packets, planted = [], {}
    for n in range(300):
        ssrc, digit, t0 = 0x5000 + n, keys[n % 16], 100.0 + 0.05 * n
        packets += digit_packets(ssrc, digit, t0)
        planted[f"0x{ssrc:08x}"] = (digit, t0)
    path = tmp_path / "streams.pcap"
    write(path, packets)
    found = [d for d in analyze_capture(path, inband=True).dtmf if d["method"] == "inband"]
    assert len(found) == 300
    for d in found:
        digit, t0 = planted[d["ssrc"]]
        assert d["digit"] == digit and abs(d["time"] - t0) < 0.03, (d, digit, t0)


def test_a_stream_idle_for_long_is_retired_and_taken_up_again(tmp_path, monkeypatch):
    """Digit 1, then 40 s without a packet (a hold) while other streams start (the
    look for idle sinks retires this one), then digit 2: both found, at their times."""
    monkeypatch.setattr(wire_audio, "SWEEP_MIN", 2)          # look at every new sink
    retired = []
    real = wire_audio.AudioCollector._retire
    monkeypatch.setattr(wire_audio.AudioCollector, "_retire",
                        lambda self, key, sink: (retired.append(key), real(self, key, sink)))
    a = 0x7000
    first = digit_packets(a, "1", 10.0)
    later = digit_packets(a, "2", 50.0, seq0=len(first), ts0=160 * len(first) + 40 * 8000)
    others = [p for n in range(5) for p in digit_packets(0x8000 + n, "9", 20.0 + 5 * n)]
    path = tmp_path / "idle.pcap"
    write(path, first + others + later)
    analysis = analyze_capture(path, inband=True)
    got = [(d["digit"], d["time"]) for d in analysis.dtmf if d["ssrc"] == f"0x{a:08x}"]
    assert [g[0] for g in got] == ["1", "2"]
    assert abs(got[0][1] - 10.0) < 0.03 and abs(got[1][1] - 50.0) < 0.03, got
    assert retired.count((0, PCMU)) >= 2           # idle once during the capture, then at the end
    (stream,) = [s for s in analysis.rtp_streams if s["ssrc"] == f"0x{a:08x}"]
    assert stream["packets"] == len(first) + len(later) and stream["audio"]["codec"] == "PCMU/8000"


def peak(path, inband: bool) -> int:
    tracemalloc.start()
    try:
        analyze_capture(path, inband=inband)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("count", [20_000])
def test_one_packet_ssrcs_cost_little_more_than_without_inband(tmp_path, count):
    """The issue's shape (300k one-packet SSRCs took 2.17 GB with --inband, 241 MB
    without), smaller: what --inband adds stays below what the analysis holds anyway."""
    path = tmp_path / "ssrcs.pcap"
    write(path, [(1000 + 0.001 * i, 0x1000 + i, 1, 160, bytes(range(160))) for i in range(count)])
    plain, inband = peak(path, False), peak(path, True)
    assert inband < 1.8 * plain, (plain, inband)
