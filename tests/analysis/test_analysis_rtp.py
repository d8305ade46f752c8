"""RTP stream statistics: packets, lost, duplicated, out of order, jitter — against tshark and RFC 3550."""
from __future__ import annotations

import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from sipscen.analysis import analyze_capture

G711A = Path("/usr/share/sip-tester/g711a.pcap")


def tshark_streams(path: Path) -> dict[int, tuple[int, int]]:
    """ssrc -> (packets, lost) from tshark -z rtp,streams."""
    exe = shutil.which("tshark")
    if exe is None:
        pytest.skip("tshark not installed")
    out = subprocess.run([exe, "-n", "-r", str(path), "--enable-heuristic=rtp_udp", "-q", "-z", "rtp,streams"],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    res = {}
    for line in out.splitlines():
        m = re.search(r"(0x[0-9A-Fa-f]{8})\s+\S+\s+(\d+)\s+(-?\d+) \(", line)
        if m:
            res[int(m.group(1), 16)] = (int(m.group(2)), int(m.group(3)))
    return res


def reference_jitter_ms(arrivals, clock=8000):
    """RFC 3550 §6.4.1 / A.8, written out plainly: (time, rtp timestamp) in arrival order."""
    j, prev = 0.0, None
    for t, ts in arrivals:
        transit = t * clock - ts
        if prev is not None:
            j += (abs(transit - prev) - j) / 16
        prev = transit
    return j * 1000 / clock


def test_loss_duplicates_reordering_and_jitter(cap, tshark_stats=tshark_streams):
    rnd = random.Random(11)
    ssrc = 0xCAFEF00D
    seqs = [s for s in range(65500, 65500 + 300) if s not in (65530, 65531, 65600, 65700, 65701)]  # 5 lost, wraps
    order = list(seqs)
    for i in (50, 120, 200):                  # three adjacent swaps -> out of order
        order[i], order[i + 1] = order[i + 1], order[i]
    t0 = 100.0
    pkts, arrivals = [], []
    for k, s in enumerate(order):
        idx = s - 65500
        t = t0 + idx * 0.02 + rnd.uniform(0, 0.004)
        t = max(t, pkts[-1][0] + 1e-5) if pkts else t
        pkts.append((t, cap.rtp(s, 1000 + 160 * idx, ssrc, 8, b"\xd5" * 160)))
        arrivals.append((t, 1000 + 160 * idx))
    path = cap.rtp_only(pkts)
    a = analyze_capture(path)
    (s,) = a.rtp_streams
    assert s["packets"] == 295 and s["lost"] == 5
    assert s["out_of_order"] == 3 and s["duplicated"] == 0
    assert s["jitter_ms"] == pytest.approx(reference_jitter_ms(arrivals), abs=0.002)
    assert tshark_stats(path)[ssrc] == (295, 5)
    # now with duplicates: each counted, not taken for new packets
    dup = pkts + [(pkts[-1][0] + 0.001 * (i + 1), pkts[10 + i][1]) for i in range(4)]
    b = analyze_capture(cap.rtp_only(dup))
    (s2,) = b.rtp_streams
    assert s2["packets"] == 299 and s2["duplicated"] == 4 and s2["lost"] == 5


def test_streams_per_ssrc_and_direction(cap):
    pkts = []
    for i in range(20):
        pkts.append((1 + 0.02 * i, ("127.0.0.1", 4000, "127.0.0.2", 5000, cap.rtp(i, 160 * i, 1, 0, b"\xff" * 160))))
        pkts.append((1 + 0.02 * i + 0.001, ("127.0.0.2", 5000, "127.0.0.1", 4000, cap.rtp(i, 160 * i, 1, 0, b"\xff" * 160))))
        pkts.append((1 + 0.02 * i + 0.002, ("127.0.0.1", 4000, "127.0.0.2", 5000, cap.rtp(i, 160 * i, 2, 8, b"\xd5" * 160))))
    frames = [(t, cap.link(1, cap.udp_ip(a, b, sp, dp, p))) for t, (a, sp, b, dp, p) in pkts]
    a = analyze_capture(cap.write_pcap(cap.path(), frames))
    got = sorted((s["ssrc"], s["src"], s["dst"], tuple(s["payload_types"]), s["packets"]) for s in a.rtp_streams)
    assert got == [
        ("0x00000001", "127.0.0.1:4000", "127.0.0.2:5000", (0,), 20),
        ("0x00000001", "127.0.0.2:5000", "127.0.0.1:4000", (0,), 20),
        ("0x00000002", "127.0.0.1:4000", "127.0.0.2:5000", (8,), 20),
    ]
    for s in a.rtp_streams:
        assert s["srtp"] is None and s["call_id"] is None and s["lost"] == 0
        assert s["first_time"] < s["last_time"]


def test_clock_rate_from_sdp_for_jitter(cap):
    call = cap.Call()
    call.invite(1.0, {111: "opus/48000/2"}, {111: "opus/48000/2"})
    rnd = random.Random(5)
    arrivals = []
    for i in range(100):
        t = 2.0 + 0.02 * i + rnd.uniform(0, 0.003)
        call.udp(t, True, cap.rtp(i, 960 * i, 7, 111, bytes(rnd.randrange(256) for _ in range(60))))
        arrivals.append((t, 960 * i))
    a = analyze_capture(cap.pcap_of(call))
    (s,) = a.rtp_streams
    assert s["codecs"] == {"111": "opus/48000"}
    assert s["jitter_ms"] == pytest.approx(reference_jitter_ms(arrivals, 48000), abs=0.002)
    assert a.dtmf == []          # opus on a dynamic PT declared by SDP: never events


@pytest.mark.skipif(not G711A.is_file(), reason="sip-tester samples not installed")
def test_sipp_g711_sample_matches_tshark():
    a = analyze_capture(G711A)
    ts = tshark_streams(G711A)
    assert {int(s["ssrc"], 16): (s["packets"], s["lost"]) for s in a.rtp_streams} == ts
    assert a.rtp_streams[0]["payload_types"] == [8]


def test_header_extensions_csrcs_and_padding(cap):
    """WebRTC-style packets (X bit, CSRC, padding): counted, and events inside still decoded."""
    import struct

    def pkt(seq, ts, pt, payload, marker=False, pad=0):
        b0 = 0x80 | 0x10 | 0x01 | (0x20 if pad else 0)        # X, one CSRC, maybe P
        head = struct.pack("!BBHII", b0, (0x80 if marker else 0) | pt, seq, ts, 0xE0E0E0E0)
        head += struct.pack("!I", 0xC5C5C5C5) + struct.pack("!HH", 0xBEDE, 1) + b"\x10\xaa\x00\x00"
        return head + payload + (bytes(pad - 1) + bytes([pad]) if pad else b"")

    call = cap.Call()
    call.invite(1.0, {111: "opus/48000/2", 126: "telephone-event/48000"},
                {111: "opus/48000/2", 126: "telephone-event/48000"})
    seq, ts, t = 1, 0, 2.0
    for i in range(50):
        call.udp(t, True, pkt(seq, ts, 111, bytes([0x78]) + bytes(30), pad=4 if i % 7 == 0 else 0))
        seq, ts, t = seq + 1, ts + 960, t + 0.02
    for k in range(4):
        end = k >= 2
        call.udp(t, True, pkt(seq, ts, 126, cap.event(12, end, 7, 960 * (k + 1)), marker=k == 0))
        seq, t = seq + 1, t + 0.02
    for i in range(20):
        ts += 960
        call.udp(t, True, pkt(seq, ts, 111, bytes([0x78]) + bytes(30)))
        seq, t = seq + 1, t + 0.02
    a = analyze_capture(cap.pcap_of(call))
    (s,) = a.rtp_streams
    assert s["packets"] == 74 and s["lost"] == 0 and s["payload_types"] == [111, 126]
    assert a.digits() == "A"
    assert a.dtmf[0]["duration_ms"] == 80 and a.dtmf[0]["volume"] == 7


@pytest.mark.parametrize("a_ip, b_ip", [("127.0.0.1", "127.0.0.2"), ("::1", "::2")])
def test_long_stream_counts_match_tshark_on_ipv4_and_ipv6(cap, a_ip, b_ip):
    rnd = random.Random(21)
    pkts = []
    seq = 40000
    for i in range(1200):
        if rnd.random() < 0.02:
            seq += 1                     # a lost packet
        pkts.append((10 + 0.02 * i, cap.rtp(seq & 0xFFFF, 160 * i, 0xAB, 0, b"\xff" * 160)))
        seq += 1
    path = cap.rtp_only(pkts, src=(a_ip, 4000), dst=(b_ip, 5000))
    a = analyze_capture(path)
    (s,) = a.rtp_streams
    assert s["packets"] == 1200 and s["last_time"] == pytest.approx(10 + 0.02 * 1199)
    assert tshark_streams(path)[0xAB] == (1200, s["lost"])
    assert s["lost"] > 10


def test_rtp_looking_dns_and_ntp_are_not_streams(cap):
    frames = []
    for i in range(20):
        dns = bytes([0x80 | (i & 0x3F), 0x00]) + bytes(30)          # a DNS id that looks like RTP v2
        frames.append((1 + i * 0.01, cap.link(1, cap.udp_ip("127.0.0.1", "127.0.0.53", 40000, 53, dns))))
        frames.append((1 + i * 0.01, cap.link(1, cap.udp_ip("127.0.0.1", "127.0.0.9", 123, 123, b"\x80" * 48))))
    frames.append((2, cap.link(1, cap.udp_ip("127.0.0.1", "127.0.0.2", 4000, 5000, cap.rtp(1, 1, 9, 0, b"\xff" * 160)))))
    frames.append((3, cap.link(1, cap.udp_ip("127.0.0.1", "127.0.0.2", 4000, 5000, cap.rtp(2, 161, 9, 0, b"\xff" * 160)))))
    a = analyze_capture(cap.write_pcap(cap.path(), frames))
    assert [s["ssrc"] for s in a.rtp_streams] == ["0x00000009"]
