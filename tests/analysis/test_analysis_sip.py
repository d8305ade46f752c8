"""SIP over UDP and TCP: reassembly, framing, grouping into calls, SDP."""
from __future__ import annotations

from pathlib import Path

import pytest

from sipscen.analysis import analyze_capture
from sipscen.analysis.sdp import parse_sdp
from sipscen.analysis.sip import parse_message

A, B = "127.0.0.1", "127.0.0.2"


def tcp_capture(cap, segments, extra=()):
    """segments: (time, from_a, seq_offset, payload); SYNs first."""
    isn_a, isn_b = 1000, 900000
    frames = [(0.1, cap.link(1, cap.tcp_ip(A, B, 40000, 5060, isn_a, flags="S"))),
              (0.2, cap.link(1, cap.tcp_ip(B, A, 5060, 40000, isn_b, flags="SA")))]
    for t, from_a, off, payload in segments:
        if from_a:
            frames.append((t, cap.link(1, cap.tcp_ip(A, B, 40000, 5060, isn_a + 1 + off, payload))))
        else:
            frames.append((t, cap.link(1, cap.tcp_ip(B, A, 5060, 40000, isn_b + 1 + off, payload))))
    frames += list(extra)
    return cap.write_pcap(cap.path(), frames)


def invite_and_ok(cap, call_id="tcp-call"):
    inv = cap.sip(f"INVITE sip:bob@{B} SIP/2.0", call_id, "1 INVITE",
                  cap.sdp(A, 4000, {8: "PCMA/8000", 101: "telephone-event/8000"}))
    ok = cap.sip("SIP/2.0 200 OK", call_id, "1 INVITE", cap.sdp(B, 5000, {8: "PCMA/8000", 96: "telephone-event/8000"}))
    ack = cap.sip(f"ACK sip:bob@{B} SIP/2.0", call_id, "1 ACK")
    return inv, ok, ack


def test_tcp_message_split_over_segments_and_joined_in_one(cap):
    inv, ok, ack = invite_and_ok(cap)
    bye = cap.sip(f"BYE sip:bob@{B} SIP/2.0", "tcp-call", "2 BYE")
    a1, a2, a3 = inv[:100], inv[100:len(inv) - 5], inv[len(inv) - 5:]
    segs = [
        (1.0, True, 0, a1), (1.01, True, len(a1), a2), (1.02, True, len(a1) + len(a2), a3),
        (1.05, False, 0, ok),
        (1.10, True, len(inv), ack + bye),               # two messages in one segment
    ]
    a = analyze_capture(tcp_capture(cap, segs))
    (c,) = a.calls
    assert [m["summary"] for m in c["messages"]] == [
        f"INVITE sip:bob@{B}", "200 OK (INVITE)", f"ACK sip:bob@{B}", f"BYE sip:bob@{B}"]
    assert all(m["transport"] == "tcp" for m in c["messages"])
    assert c["messages"][0]["time"] == pytest.approx(1.02)     # complete when its last byte arrived
    assert c["messages"][0]["raw"] == inv.decode()
    assert c["status"] == 200 and c["answered"] is True
    assert [s["media"][0]["telephone_event"] for s in c["sdp"]] == [[101], [96]]


def test_tcp_reordered_retransmitted_and_keepalive(cap):
    inv, ok, ack = invite_and_ok(cap)
    half = len(inv) // 2
    segs = [
        (1.0, True, half, inv[half:]),                   # second half first
        (1.01, True, 0, inv[:half]),
        (1.02, True, 0, inv[:half]),                     # retransmission
        (1.03, True, len(inv), b"\r\n\r\n"),             # keep-alive
        (1.04, True, len(inv) + 4, ack[:50]),
        (1.05, True, len(inv) + 4 + 30, ack[30:]),       # overlapping segment
    ]
    a = analyze_capture(tcp_capture(cap, segs))
    (c,) = a.calls
    assert [m["summary"].split()[0] for m in c["messages"]] == ["INVITE", "ACK"]
    assert c["messages"][1]["raw"] == ack.decode()


def test_tcp_capture_started_mid_stream(cap):
    inv, ok, ack = invite_and_ok(cap)
    frames = [
        (1.0, cap.link(1, cap.tcp_ip(A, B, 40000, 5060, 5555, inv[40:]))),   # tail of a message: ignored
        (1.1, cap.link(1, cap.tcp_ip(A, B, 40000, 5060, 5555 + len(inv) - 40, ack))),
    ]
    a = analyze_capture(cap.write_pcap(cap.path(), frames))
    assert [m["summary"].split()[0] for m in a.calls[0]["messages"]] == ["ACK"]


def test_sdp_over_tcp_maps_rtp_to_the_call_and_its_event_pt(cap):
    inv, ok, ack = invite_and_ok(cap, "tcp-media")
    segs = [(1.0, True, 0, inv), (1.01, False, 0, ok), (1.02, True, len(inv), ack)]
    rtp_frames = []
    pk, _ = cap.digit_packets(2, 10, 1000, 2.0, 0x1234, 96)     # a -> b on bob's PT 96
    for t, p in pk:
        rtp_frames.append((t, cap.link(1, cap.udp_ip(A, B, 4000, 5000, p))))
    a = analyze_capture(tcp_capture(cap, segs, rtp_frames))
    assert a.digits() == "2"
    assert a.dtmf[0]["call_id"] == "tcp-media"
    assert a.rtp_streams[0]["call_id"] == "tcp-media"


def test_calls_grouped_by_call_id(cap):
    call = cap.Call()
    call.invite(1.0, {8: "PCMA/8000"}, {8: "PCMA/8000"}, call_id="one")
    call.invite(2.0, {0: "PCMU/8000"}, {0: "PCMU/8000"}, call_id="two")
    call.udp(3.0, True, cap.sip(f"BYE sip:bob@{B} SIP/2.0", "one", "2 BYE"), sip_port=True)
    call.udp(3.1, False, cap.sip("SIP/2.0 486 Busy Here", "two", "1 INVITE"), sip_port=True)
    a = analyze_capture(cap.pcap_of(call))
    assert [c["call_id"] for c in a.calls] == ["one", "two"]
    one, two = a.calls
    assert len(one["messages"]) == 4 and one["messages"][-1]["summary"].startswith("BYE")
    assert one["messages"][0]["src"] == "127.0.0.1:5060" and one["messages"][0]["dst"] == "127.0.0.2:5060"
    assert two["messages"][-1]["summary"] == "486 Busy Here (INVITE)"


def test_raw_is_capped(cap):
    call = cap.Call()
    call.udp(1.0, True, cap.sip(f"MESSAGE sip:bob@{B} SIP/2.0", "big", "1 MESSAGE", "y" * 20000, "text/plain"),
             sip_port=True)
    a = analyze_capture(cap.pcap_of(call))
    raw = a.calls[0]["messages"][0]["raw"]
    assert len(raw) < 8300 and raw.endswith("[... truncated]")


def test_parse_message_compact_and_folded_headers():
    msg = parse_message(b"INVITE sip:x@y SIP/2.0\r\ni: abc\r\nSubject: one\r\n two\r\nl: 4\r\n"
                        b"c: application/sdp\r\nCSeq: 7 INVITE\r\n\r\nv=0\r\nEXTRA")
    assert msg.call_id == "abc" and msg.header("subject") == "one two"
    assert msg.body == "v=0\r" and msg.cseq == (7, "INVITE") and msg.content_type == "application/sdp"
    assert parse_message(b"\x80\x08 not sip") is None
    assert parse_message(b"HELLO world\r\n\r\n") is None


def test_parse_sdp_session_level_connection_and_crypto():
    media = parse_sdp("v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 7000 RTP/SAVP 0 8 101\r\n"
                      "a=rtpmap:101 telephone-event/16000\r\n"
                      "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n"
                      "m=video 0 RTP/AVP 96\r\n")
    audio, video = media
    assert audio.address == "10.0.0.1" and audio.port == 7000 and audio.secure
    assert audio.telephone_events == {101: 16000}
    assert audio.codec(8) == ("PCMA", 8000) and audio.codec(18) is None
    assert len(audio.crypto) == 1 and video.port == 0


TORTURE = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "rfc4475"


@pytest.mark.skipif(not TORTURE.is_dir(), reason=f"corpus not found at {TORTURE}")
def test_rfc4475_torture_messages_never_crash(cap):
    files = sorted(TORTURE.glob("*.dat"))
    assert files
    frames = [(1.0 + i, cap.link(1, cap.udp_ip(A, B, 5060, 5060, f.read_bytes()))) for i, f in enumerate(files)]
    a = analyze_capture(cap.write_pcap(cap.path(), frames))
    assert a.packets == len(files)
    n = sum(len(c["messages"]) for c in a.calls)
    assert n >= len(files) - 8          # a few are not SIP enough to parse (bad version, NUL bytes...)
    for f in files:
        parse_message(f.read_bytes())   # direct parsing: no exception either


def test_non_sip_tcp_flows_are_ignored_quietly(cap):
    inv, ok, ack = invite_and_ok(cap)
    tls = bytes([0x16, 0x03, 0x01, 0x00, 0x50]) + bytes(range(80))
    frames = [
        (0.1, cap.link(1, cap.tcp_ip(A, B, 40001, 5061, 77, flags="S"))),
        (0.2, cap.link(1, cap.tcp_ip(A, B, 40001, 5061, 78, tls))),
        (0.3, cap.link(1, cap.tcp_ip(A, B, 40001, 5061, 78 + len(tls), inv))),   # SIP-looking bytes inside TLS
    ]
    a = analyze_capture(tcp_capture(cap, [(1.0, True, 0, inv)], frames))
    (c,) = a.calls
    assert len(c["messages"]) == 1 and c["messages"][0]["dst"] == f"{B}:5060"
    assert a.warnings == []
