"""Containers, link types, IPv6, damaged files: the same call reads the same everywhere."""
from __future__ import annotations

import pytest
from scapy.layers.inet import IP, UDP, fragment
from scapy.utils import wrpcap, wrpcapng
from scapy.layers.l2 import Ether

from sipscen.analysis import analyze_capture
from sipscen.analysis.pcap import CaptureReader
from sipscen.core.errors import CaptureFileError, ExitStatus

SSRC = 0x0BADCAFE


def make_call(cap, a="127.0.0.1", b="127.0.0.2", digits=(1, 2)):
    call = cap.Call(a=a, b=b)
    call.invite(1.0, {0: "PCMU/8000", 101: "telephone-event/8000"}, {0: "PCMU/8000", 118: "telephone-event/8000"})
    seq, ts, t = 100, 1000, 2.0
    for code in digits:
        for i in range(3):
            call.udp(t, True, cap.rtp(seq, ts, SSRC, 0, b"\xff" * 160))
            seq, ts, t = seq + 1, ts + 160, t + 0.02
        pk, seq = cap.digit_packets(code, seq, ts, t, SSRC, 118)
        for tt, p in pk:
            call.udp(tt, True, p)
        ts, t = ts + 1600, t + 0.2
    return call


def check(a, digits="12", dst="127.0.0.2:5000"):
    assert a.digits() == digits
    assert a.dtmf[0]["dst"] == dst
    assert a.dtmf[0]["payload_type"] == 118
    assert a.dtmf[0]["call_id"] == "call-1"
    (c,) = a.calls
    assert [m["summary"].split()[0] for m in c["messages"]] == ["INVITE", "200", "ACK"]
    assert c["messages"][0]["raw"].startswith("INVITE sip:bob@127.0.0.2 SIP/2.0\r\n")
    assert len(c["sdp"]) == 2
    (s,) = a.rtp_streams
    assert s["ssrc"] == f"0x{SSRC:08x}" and s["call_id"] == "call-1"
    assert s["payload_types"] == [0, 118]
    assert s["packets"] == 22 and s["lost"] == 0 and s["duplicated"] == 0
    assert a.warnings == []


@pytest.mark.parametrize("linktype, vlan", [
    (1, 0), (1, 1), (1, 2), (113, 0), (276, 0), (101, 0), (228, 0), (12, 0), (0, 0), (108, 0),
], ids=["ethernet", "802.1Q", "QinQ", "sll", "sll2", "raw", "raw-ipv4", "raw-bsd", "null", "loop"])
def test_link_types(cap, linktype, vlan):
    path = cap.pcap_of(make_call(cap), linktype, vlan=vlan)
    a = analyze_capture(path)
    check(a)
    assert a.packets == 3 + 2 * (3 + 8)


@pytest.mark.parametrize("linktype", [1, 229, 276, 0])
def test_ipv6(cap, linktype):
    call = make_call(cap, a="::1", b="::2")
    a = analyze_capture(cap.pcap_of(call, linktype))
    check(a, dst="[::2]:5000")


def test_ipv6_extension_headers_are_skipped(cap):
    pkts = []
    seq = 1
    for code in (3, 4):
        ev, seq = cap.digit_packets(code, seq, 1000 * seq, seq * 0.1, SSRC, 101)
        pkts += ev
    frames = [(t, cap.link(1, cap.udp_ip("fe80::1", "fe80::2", 4000, 5000, p, ext_headers=True)))
              for t, p in pkts]
    a = analyze_capture(cap.write_pcap(cap.path(), frames))
    assert a.digits() == "34"
    assert a.rtp_streams[0]["src"] == "[fe80::1]:4000"


@pytest.mark.parametrize("endian, nanos", [("<", False), (">", False), ("<", True), (">", True)])
def test_pcap_byte_orders_and_resolutions(cap, endian, nanos):
    call = make_call(cap)
    path = cap.write_pcap(cap.path(), call.frames(1), 1, endian=endian, nanos=nanos)
    a = analyze_capture(path)
    check(a)
    assert a.calls[0]["messages"][0]["time"] == pytest.approx(1.0, abs=1e-6)
    assert a.dtmf[0]["time"] == pytest.approx(2.06, abs=1e-6)


@pytest.mark.parametrize("endian", ["<", ">"])
def test_pcapng_interfaces_with_own_link_types_and_resolutions(cap, endian):
    call = make_call(cap)
    frames = call.frames(1)
    # interface 0: Ethernet, microseconds; 1: Linux cooked v2, nanoseconds; 2: raw IP, 2^-20 s
    ifaces = [(1, None), (276, 9), (101, 0x80 | 20)]
    recs = []
    for i, (t, ip) in enumerate(sorted(call.records, key=lambda r: r[0])):
        k = i % 3
        recs.append((t, k, cap.link(ifaces[k][0], ip)))
    path = cap.write_pcapng(cap.path(".pcapng"), ifaces, recs, endian=endian)
    a = analyze_capture(path)
    check(a)
    assert a.packets == len(frames)
    times = [m["time"] for m in a.calls[0]["messages"]]
    assert times == pytest.approx([1.0, 1.001, 1.002], abs=1e-5)


def test_pcapng_simple_packet_blocks(cap):
    call = make_call(cap)
    recs = [(t, 0, f) for t, f in call.frames(1)]
    path = cap.write_pcapng(cap.path(".pcapng"), [(1, None)], recs, simple=True)
    a = analyze_capture(path)
    assert a.digits() == "12"
    assert a.packets == len(recs)


def test_files_written_by_scapy(cap):
    call = make_call(cap)
    pkts = []
    for t, f in call.frames(1):
        p = Ether(f)
        p.time = t
        pkts.append(p)
    p1, p2 = cap.path(".pcap"), cap.path(".pcapng")
    wrpcap(str(p1), pkts)
    wrpcapng(str(p2), pkts)
    check(analyze_capture(p1))
    check(analyze_capture(p2))


def test_ip_fragments_are_reassembled(cap):
    big = cap.sip("MESSAGE sip:bob@127.0.0.2 SIP/2.0", "frag-1", "1 MESSAGE", "x" * 3000, "text/plain")
    frags = fragment(IP(src="127.0.0.1", dst="127.0.0.2") / UDP(sport=5060, dport=5060) / big, fragsize=1000)
    assert len(frags) == 4
    frags = [frags[2], frags[0], frags[3], frags[1]]          # out of order
    frames = [(0.5 + i * 0.001, cap.link(1, bytes(f))) for i, f in enumerate(frags)]
    lone = fragment(IP(src="127.0.0.1", dst="127.0.0.2", id=77) / UDP(sport=5060, dport=5060) / big, fragsize=1000)
    frames.append((0.9, cap.link(1, bytes(lone[1]))))          # a datagram missing fragments
    frames += make_call(cap).frames(1)
    a = analyze_capture(cap.write_pcap(cap.path(), sorted(frames, key=lambda r: r[0])))
    assert a.digits() == "12"
    msg = next(c for c in a.calls if c["call_id"] == "frag-1")["messages"][0]
    assert msg["summary"] == "MESSAGE sip:bob@127.0.0.2" and msg["time"] == pytest.approx(0.503)
    assert any("could not be reassembled" in w for w in a.warnings)


def test_ipv6_fragments_are_reassembled(cap):
    from scapy.layers.inet6 import IPv6, IPv6ExtHdrFragment, fragment6
    big = cap.sip("MESSAGE sip:bob@[::2] SIP/2.0", "frag-6", "1 MESSAGE", "z" * 3000, "text/plain")
    pkt = IPv6(src="::1", dst="::2") / IPv6ExtHdrFragment() / UDP(sport=5060, dport=5060) / big
    frags = fragment6(pkt, 1280)
    assert len(frags) >= 3
    frames = [(1.0 + i * 0.001, cap.link(1, bytes(f))) for i, f in enumerate(frags)]
    a = analyze_capture(cap.write_pcap(cap.path(), frames))
    (c,) = a.calls
    assert c["call_id"] == "frag-6" and c["messages"][0]["src"] == "[::1]:5060"
    assert a.warnings == []


def test_truncated_file_keeps_what_was_read(cap):
    path = cap.pcap_of(make_call(cap))
    data = path.read_bytes()
    cut = cap.path()
    cut.write_bytes(data[: len(data) - 30])          # the last record is cut short
    a = analyze_capture(cut)
    assert a.packets == 3 + 2 * (3 + 8) - 1
    assert a.digits() == "12"
    assert any("truncated" in w for w in a.warnings)


def test_damaged_record_length_stops_with_a_warning(cap):
    path = cap.pcap_of(make_call(cap))
    data = bytearray(path.read_bytes())
    # corrupt the length of the 4th record (after 3 SIP messages)
    pos = 24
    for _ in range(3):
        pos += 16 + int.from_bytes(data[pos + 8:pos + 12], "little")
    data[pos + 8:pos + 12] = (0x7FFFFFFF).to_bytes(4, "little")
    bad = cap.path()
    bad.write_bytes(bytes(data))
    a = analyze_capture(bad)
    assert a.packets == 3
    assert len(a.calls) == 1
    assert any("damaged" in w for w in a.warnings)


def test_truncated_pcapng(cap):
    recs = [(t, 0, f) for t, f in make_call(cap).frames(1)]
    path = cap.write_pcapng(cap.path(".pcapng"), [(1, None)], recs)
    data = path.read_bytes()
    cut = cap.path(".pcapng")
    cut.write_bytes(data[:-7])
    a = analyze_capture(cut)
    assert a.packets == len(recs) - 1
    assert any("truncated" in w for w in a.warnings)


@pytest.mark.parametrize("content, message", [
    (b"", "empty file"),
    (b"hello, this is not a capture at all" * 3, "not a pcap or pcapng"),
    (b"\xd4\xc3\xb2\xa1\x02\x00", "header is truncated"),
])
def test_not_a_capture(cap, content, message):
    path = cap.path()
    path.write_bytes(content)
    with pytest.raises(CaptureFileError, match=message) as err:
        analyze_capture(path)
    assert err.value.status == ExitStatus.INVALID_INPUT


def test_missing_file_and_directory(cap):
    with pytest.raises(CaptureFileError, match="no such file"):
        analyze_capture(cap.tmp / "absent.pcap")
    with pytest.raises(CaptureFileError, match="directory"):
        analyze_capture(cap.tmp)


def test_unsupported_link_type(cap):
    path = cap.write_pcap(cap.path(), [(1.0, b"\x00" * 40)], linktype=105)
    with pytest.raises(CaptureFileError, match=r"unsupported link type 105 \(IEEE 802.11\)"):
        analyze_capture(path)
    ng = cap.write_pcapng(cap.path(".pcapng"), [(127, None)], [(1.0, 0, b"\x00" * 40)])
    with pytest.raises(CaptureFileError, match="unsupported link type 127"):
        analyze_capture(ng)


def test_pcapng_mixed_supported_and_unsupported_interfaces(cap):
    call = make_call(cap)
    recs = [(t, 0, f) for t, f in call.frames(1)] + [(5.0, 1, b"\x00" * 30)]
    a = analyze_capture(cap.write_pcapng(cap.path(".pcapng"), [(1, None), (105, None)], recs))
    assert a.digits() == "12"
    assert any("unsupported link type 105" in w for w in a.warnings)


def test_reader_yields_raw_records(cap):
    path = cap.pcap_of(make_call(cap), 113)
    with CaptureReader(path) as r:
        recs = list(r.records())
    assert len(recs) == 3 + 2 * 11
    t, lt, data = recs[0]
    assert lt == 113 and t == pytest.approx(1.0) and data[14:16] == b"\x08\x00"


def test_pcapng_several_sections_and_obsolete_packet_block(cap):
    """A second section (other byte order, own interfaces) and a Packet Block (type 2)."""
    import struct
    call = make_call(cap)
    frames = call.frames(1)
    half = len(frames) // 2
    first = cap.write_pcapng(cap.path(".pcapng"), [(1, None)], [(t, 0, f) for t, f in frames[:half]], endian="<")
    second = cap.write_pcapng(cap.path(".pcapng"), [(113, 9)],
                              [(t, 0, cap.link(113, f[14:])) for t, f in frames[half:-1]], endian=">")
    t, f = frames[-1]
    ticks = round(t * 1e9)                       # the second section's interface counts nanoseconds
    frame = cap.link(113, f[14:])
    body = struct.pack(">HHIIII", 0, 0, ticks >> 32, ticks & 0xFFFFFFFF, len(frame), len(frame)) + frame
    body += b"\0" * (-len(body) % 4)
    pb = struct.pack(">II", 2, len(body) + 12) + body + struct.pack(">I", len(body) + 12)
    path = cap.path(".pcapng")
    path.write_bytes(first.read_bytes() + second.read_bytes() + pb)
    a = analyze_capture(path)
    check(a)
    assert a.packets == len(frames)
    assert a.dtmf[-1]["time"] == pytest.approx(frames[-8][0], abs=1e-6)
