"""RFC 4733 telephone-events: every case real senders produce, on captures built here.

Where tshark can decode the events, the digits are cross-checked against it.
"""
from __future__ import annotations

import random

from sipscen.analysis import analyze_capture

SSRC = 0x11223344
PCMA = bytes([0xD5]) * 160


def audio(t0: float, seq: int, ts: int, n: int, ssrc: int = SSRC, pt: int = 8, payload: bytes = PCMA, cap=None):
    return [(t0 + 0.02 * i, cap.rtp(seq + i, ts + 160 * i, ssrc, pt, payload)) for i in range(n)]


def sequence_of_digits(cap, codes, pt=101, ssrc=SSRC, gap_packets=5, **kw):
    """Audio, then each digit (fresh timestamp, marker on its first packet), audio between."""
    pkts, seq, ts, t = [], 1000, 80000, 100.0
    for code in codes:
        pkts += audio(t, seq, ts, gap_packets, ssrc, cap=cap)
        seq += gap_packets
        ts += 160 * gap_packets
        t += 0.02 * gap_packets
        ev, seq = cap.digit_packets(code, seq, ts, t, ssrc, pt, **kw)
        pkts += ev
        ts += 160 * 10
        t += 0.02 * 10
    return pkts


def test_with_sdp_the_receiving_sides_payload_type_is_used(cap, tshark):
    call = cap.Call()
    # Alice receives telephone-event on 101, Bob on 96; Bob's 97 is speex, never an event.
    call.invite(1.0, {8: "PCMA/8000", 101: "telephone-event/8000"},
                {8: "PCMA/8000", 96: "telephone-event/8000", 97: "speex/8000"})
    for t, pkt in sequence_of_digits(cap, [1, 2, 3], pt=96):          # alice -> bob on bob's PT
        call.udp(t, True, pkt)
    for t, pkt in sequence_of_digits(cap, [11, 10], pt=101, ssrc=0x55667788):   # bob -> alice
        call.udp(t, False, pkt)
    # speex frames on 97 that look exactly like events (4 bytes, shared timestamp): not DTMF
    for t, pkt in sequence_of_digits(cap, [7, 7], pt=97, ssrc=0x99999999):
        call.udp(t + 50, True, pkt)
    path = cap.pcap_of(call)
    a = analyze_capture(path)
    by_dir = {}
    for ev in a.dtmf:
        by_dir.setdefault(ev["dst"], []).append(ev["digit"])
    assert "".join(by_dir["127.0.0.2:5000"]) == "123"
    assert "".join(by_dir["127.0.0.1:4000"]) == "#*"
    assert {e["payload_type"] for e in a.dtmf if e["dst"] == "127.0.0.2:5000"} == {96}
    assert all(e["call_id"] == "call-1" for e in a.dtmf)
    ev = a.dtmf[0]
    assert ev["duration_ms"] == 120 and ev["volume"] == 10
    # tshark, told both payload types, sees the same events (plus the fake ones on 97 it was not told about)
    theirs = [(s, e) for s, _ts, e in tshark(path, decode_pts=(96, 101), heuristic=False)]
    assert [e for s, e in theirs if s == SSRC] == [1, 2, 3]
    assert [e for s, e in theirs if s == 0x55667788] == [11, 10]


def test_sdp_without_telephone_event_means_no_events(cap):
    call = cap.Call()
    call.invite(1.0, {8: "PCMA/8000"}, {8: "PCMA/8000", 101: "opus/48000/2"})
    for t, pkt in sequence_of_digits(cap, [5], pt=101):
        call.udp(t, True, pkt)
    a = analyze_capture(cap.pcap_of(call))
    assert a.dtmf == []
    assert a.rtp_streams[0]["payload_types"] == [8, 101]


def test_without_sdp_events_are_found_by_content_on_any_dynamic_pt(cap, tshark):
    pkts = sequence_of_digits(cap, [4, 0, 9], pt=113)
    path = cap.rtp_only(pkts)
    a = analyze_capture(path)
    assert a.digits() == "409"
    assert a.rtp_streams[0]["event_payload_types"] == [113]
    theirs = tshark(path, decode_pts=(113,))
    assert [e for _s, _t, e in theirs] == [4, 0, 9]


def test_small_opus_and_comfort_noise_frames_are_not_events(cap):
    rnd = random.Random(7)
    pkts = []
    seq, ts = 1, 1000
    for i in range(200):   # opus on 96: tiny DTX frames, some exactly 4 bytes with a small first byte
        size = rnd.choice([1, 2, 3, 4, 4, 4])
        payload = bytes([rnd.randrange(0, 16)] + [rnd.randrange(256) for _ in range(size - 1)])
        pkts.append((10 + 0.02 * i, cap.rtp(seq, ts, SSRC, 96, payload)))
        seq += 1
        ts += 960
    for i in range(50):   # comfort noise on 13: 1-byte and 4-byte frames
        pkts.append((20 + 0.02 * i, cap.rtp(seq, ts, SSRC, 13, bytes([i % 17, 0, 0, 0])[: 1 + 3 * (i % 2)])))
        seq += 1
        ts += 160
    ev, seq = cap.digit_packets(8, seq, ts, 30.0, SSRC, 101)
    pkts += ev
    a = analyze_capture(cap.rtp_only(pkts))
    assert a.digits() == "8"
    assert a.rtp_streams[0]["event_payload_types"] == [101]


def test_triple_end_with_one_sequence_number(cap):
    pkts = sequence_of_digits(cap, [1, 1], pt=101, same_end_seq=True)
    a = analyze_capture(cap.rtp_only(pkts))
    assert a.digits() == "11"
    assert all(e["duration_ms"] == 120 for e in a.dtmf)


def test_lost_and_missing_end_packets(cap):
    pkts = sequence_of_digits(cap, [3], pt=101, ends=0)               # no end at all
    more = sequence_of_digits(cap, [4], pt=101, ends=3)
    more = [p for i, p in enumerate(more) if i not in (len(more) - 1, len(more) - 2)]  # two ends lost
    more = [(t + 10, p) for t, p in more]
    a = analyze_capture(cap.rtp_only(pkts + more))
    assert a.digits() == "34"
    assert [e["end"] for e in a.dtmf] == [False, True]


def test_duplicates_and_reordering(cap):
    pkts = sequence_of_digits(cap, [1, 2, 3, 1], pt=101)
    dup = pkts + pkts[5:20]                              # duplicated packets
    rnd = random.Random(3)
    # reorder within small windows (as a network does), keep capture times increasing
    reordered = list(dup)
    for i in range(0, len(reordered) - 4, 4):
        chunk = reordered[i:i + 4]
        rnd.shuffle(chunk)
        reordered[i:i + 4] = chunk
    frames = [(100 + 0.001 * i, p) for i, (_t, p) in enumerate(reordered)]
    a = analyze_capture(cap.rtp_only(frames))
    assert a.digits() == "1231"
    s = a.rtp_streams[0]
    assert s["duplicated"] == 15
    assert s["out_of_order"] > 0
    assert s["lost"] == 0


def test_end_before_last_update(cap):
    pkts, seq = cap.digit_packets(6, 10, 5000, 1.0, SSRC, 101, updates=4, ends=3)
    pkts[3], pkts[4] = pkts[4], pkts[3]        # the first end packet overtakes the last update
    pkts = [(1.0 + 0.02 * i, p) for i, (_t, p) in enumerate(pkts)]
    a = analyze_capture(cap.rtp_only(pkts))
    assert a.digits() == "6"
    assert a.dtmf[0]["duration_ms"] == 100


def test_same_key_twice(cap, tshark):
    path = cap.rtp_only(sequence_of_digits(cap, [5, 5, 5], pt=101))
    a = analyze_capture(path)
    assert a.digits() == "555"
    assert len({e["time"] for e in a.dtmf}) == 3
    assert len(tshark(path, decode_pts=(101,))) == 3


def test_long_press_split_in_segments_is_one_digit(cap):
    """RFC 4733 §2.5.1.3: beyond 0xFFFF units a new segment starts at ts + 0xFFFF, no marker."""
    pkts, seq, t = [], 1, 1.0
    ts0 = 4_294_900_000            # wraps the 32-bit timestamp on the way
    seg_ts = ts0
    total = 0
    for seg in range(3):
        dur = 0
        first = True
        while True:
            dur = min(dur + 160 * 50, 0xFFFF) if seg < 2 else min(dur + 1600, 8000)
            last = (seg < 2 and dur == 0xFFFF) or (seg == 2 and dur == 8000)
            end = seg == 2 and last
            pkts.append((t, cap.rtp(seq, seg_ts, SSRC, 101, cap.event(9, end, 12, dur),
                                    marker=(seg == 0 and first))))
            seq += 1
            t += 0.05
            first = False
            if last:
                break
        total += dur
        seg_ts = (seg_ts + dur) & 0xFFFFFFFF
    a = analyze_capture(cap.rtp_only(pkts))
    assert a.digits() == "9"
    assert a.dtmf[0]["duration_ms"] == round(total / 8)   # 2 * 0xFFFF + 8000 units at 8 kHz


def test_several_events_in_one_packet(cap):
    """RFC 4733 §2.5.1.5: packed events; the second starts at ts + duration of the first."""
    ts = 7000
    pkts = [
        (1.00, cap.rtp(1, ts, SSRC, 101, cap.event(1, True, 10, 400) + cap.event(2, False, 10, 160), marker=True)),
        (1.02, cap.rtp(2, ts + 400, SSRC, 101, cap.event(2, False, 10, 320))),
        (1.04, cap.rtp(3, ts + 400, SSRC, 101, cap.event(2, True, 10, 480))),
        (1.06, cap.rtp(4, ts + 400, SSRC, 101, cap.event(2, True, 10, 480))),
    ]
    a = analyze_capture(cap.rtp_only(pkts), min_stream_packets=1)
    assert a.digits() == "12"
    assert [e["duration_ms"] for e in a.dtmf] == [50, 60]


def test_first_packet_duration_zero(cap):
    pkts = sequence_of_digits(cap, [7, 8], pt=101, first_zero=True)
    a = analyze_capture(cap.rtp_only(pkts))
    assert a.digits() == "78"
    assert a.dtmf[0]["duration_ms"] == 100


def test_all_events_and_flash(cap, tshark):
    codes = list(range(17))
    path = cap.rtp_only(sequence_of_digits(cap, codes, pt=101))
    a = analyze_capture(path)
    assert [e["digit"] for e in a.dtmf] == list("0123456789*#ABCD") + ["flash"]
    assert [e for _s, _t, e in tshark(path, decode_pts=(101,))] == codes


def test_sip_info_dtmf_relay_and_dtmf_bodies(cap):
    call = cap.Call()
    call.invite(1.0, {8: "PCMA/8000"}, {8: "PCMA/8000"})
    info1 = cap.sip("INFO sip:bob@127.0.0.2 SIP/2.0", "call-1", "2 INFO", "Signal=5\r\nDuration=160\r\n",
                    "application/dtmf-relay")
    call.udp(2.0, True, info1, sip_port=True)
    call.udp(2.5, True, info1, sip_port=True)             # UDP retransmission: same digit
    call.udp(3.0, True, cap.sip("INFO sip:bob@127.0.0.2 SIP/2.0", "call-1", "3 INFO", "#",
                                "application/dtmf"), sip_port=True)
    call.udp(3.5, True, cap.sip("INFO sip:bob@127.0.0.2 SIP/2.0", "call-1", "4 INFO",
                                "Signal=11\r\nDuration=250\r\n", "application/dtmf-relay"), sip_port=True)
    a = analyze_capture(cap.pcap_of(call))
    assert a.digits("sip-info") == "5##"
    first = a.dtmf[0]
    assert first["method"] == "sip-info" and first["duration_ms"] == 160
    assert first["src"] == "127.0.0.1:5060" and first["dst"] == "127.0.0.2:5060"
    assert first["call_id"] == "call-1"
    (c,) = a.calls
    assert [m["summary"].split(" ")[0] for m in c["messages"]] == ["INVITE", "200", "ACK", "INFO", "INFO", "INFO", "INFO"]
