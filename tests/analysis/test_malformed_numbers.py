"""Issue 20: a malformed number in one SIP message never stops the analysis.

``str.isdigit()`` accepts "²", which ``int()`` refuses; ``int()`` refuses more
than 4,300 digits. Each field that used to crash ``analyze`` (exit 3,
"internal error: ValueError") is sent here exactly so, between well-formed
traffic: the message is read as far as it can be, the field is a warning
naming the frame and the field, and the call after it is analysed in full
(answered, its RTP stream, its RFC 4733 and SIP INFO digits).
"""
from __future__ import annotations

import json

import pytest

from sipscen.analysis.numbers import wire_int

A, B = "127.0.0.1", "127.0.0.2"
HUGE = "9" * 5000
PROBLEM = {"²": "is not a decimal number", HUGE: "is out of range 0-4294967295"}


def good_call(cap, t0: float = 10.0) -> list[tuple[float, bytes]]:
    """A normal call after the hostile frames: INVITE/200/ACK with SDP, RTP with the
    digits 1 and 2 (RFC 4733), a SIP INFO with Signal=5."""
    call = cap.Call()
    call.invite(t0, {8: "PCMA/8000", 101: "telephone-event/8000"},
                {8: "PCMA/8000", 101: "telephone-event/8000"}, call_id="good-call")
    seq = 1
    for code in (1, 2):
        packets, seq = cap.digit_packets(code, seq, 1000 * seq, t0 + 1 + seq * 0.1, 0x42, 101)
        for t, p in packets:
            call.udp(t, True, p)
    for i in range(10):
        call.udp(t0 + 3 + 0.02 * i, False, cap.rtp(i, 160 * i, 0x43, 8, bytes(range(160))))
    call.udp(t0 + 4, True, cap.sip(f"INFO sip:bob@{B} SIP/2.0", "good-call", "2 INFO",
                                   "Signal=5\r\nDuration=100\r\n", "application/dtmf-relay"), sip_port=True)
    return call.frames(1)


def message(first: str, call_id: str = "bad-call", cseq: str = "1 INVITE", body: str = "",
            ctype: str = "application/sdp", clen: str | None = None, clen_name: str = "Content-Length") -> bytes:
    head = [first, f"Via: SIP/2.0/UDP {A}:5060;branch=z9hG4bK-bad", f"From: <sip:alice@{A}>;tag=a",
            f"To: <sip:bob@{B}>", f"Call-ID: {call_id}", f"CSeq: {cseq}"]
    if body:
        head.append(f"Content-Type: {ctype}")
    head.append(f"{clen_name}: {len(body.encode()) if clen is None else clen}")
    return ("\r\n".join(head) + "\r\n\r\n" + body).encode()


def udp(cap, t: float, payload: bytes) -> tuple[float, bytes]:
    return t, cap.link(1, cap.udp_ip(A, B, 5060, 5060, payload))


OPTIONS = f"OPTIONS sip:bob@{B} SIP/2.0"


def analyse(cap, sipscen, hostile: list[tuple[float, bytes]], pcapng: bool = False) -> dict:
    """Two well-formed frames, the hostile ones (frames 3, 4, ...), then the good call:
    ``analyze --json`` and the console view both exit 0; returns the JSON."""
    lead = [udp(cap, 0.1, message(OPTIONS, "lead", "1 OPTIONS")),
            udp(cap, 0.2, message("SIP/2.0 200 OK", "lead", "1 OPTIONS"))]
    frames = lead + hostile + good_call(cap)
    if pcapng:
        path = cap.write_pcapng(cap.path(".pcapng"), [(1, 6)], [(t, 0, f) for t, f in frames])
    else:
        path = cap.write_pcap(cap.path(), frames)
    code, out, err = sipscen("analyze", "--json", "-", path)
    assert code == 0 and not err, err
    report = json.loads(out)
    code, text, err = sipscen("analyze", path)
    assert code == 0 and not err, err
    assert "good-call" in text
    # the rest of the capture: the good call, its stream, its digits
    (good,) = [c for c in report["calls"] if c["call_id"] == "good-call"]
    assert good["answered"] and good["status"] == 200
    assert [(d["digit"], d["method"]) for d in report["dtmf"] if d["call_id"] == "good-call"] == [
        ("1", "rfc4733"), ("2", "rfc4733"), ("5", "sip-info")]
    assert any(s["call_id"] == "good-call" and s["packets"] == 10 for s in report["rtp_streams"])
    return report


def bad_call(report: dict) -> dict:
    (call,) = [c for c in report["calls"] if c["call_id"] == "bad-call"]
    return call


def warning(report: dict, frame: int, field: str) -> str:
    found = [w for w in report["warnings"] if w.startswith(f"frame {frame}: {field} ")]
    assert len(found) == 1, report["warnings"]
    return found[0]



def sdp(cap, rtpmap=None, extra_pts: str = "") -> str:
    text = cap.sdp(A, 4000, rtpmap or {8: "PCMA/8000", 101: "telephone-event/8000"})
    return text.replace(" RTP/AVP 8 101", f" RTP/AVP 8 101{extra_pts}")


# ---------------------------------------------------------------- Content-Length
@pytest.mark.parametrize("name", ["Content-Length", "l"])
@pytest.mark.parametrize("value", ["²", HUGE])
def test_content_length_over_udp(cap, sipscen, name, value):
    inv = message(f"INVITE sip:bob@{B} SIP/2.0", body=sdp(cap), clen=value, clen_name=name)
    report = analyse(cap, sipscen, [udp(cap, 1.0, inv)])
    text = warning(report, 3, "Content-Length")
    assert PROBLEM[value] in text and f"(INVITE sip:bob@{B})" in text
    if value == HUGE:
        assert "(5000 characters)" in text and len(text) < 200
    # the body was read to the end of the datagram: its SDP is there
    call = bad_call(report)
    assert [m["port"] for s in call["sdp"] for m in s["media"]] == [4000]
    assert call["messages"][0]["malformed"] == ["Content-Length"]


@pytest.mark.parametrize("name", ["Content-Length", "l"])
@pytest.mark.parametrize("value", ["²", HUGE])
def test_content_length_over_tcp(cap, sipscen, name, value):
    """Framed with no body (the framing cannot use the length either); the junk after
    it is skipped and the next message on the same connection is read."""
    inv = message(f"INVITE sip:bob@{B} SIP/2.0", body=sdp(cap), clen=value, clen_name=name)
    bye = message(f"BYE sip:bob@{B} SIP/2.0", cseq="2 BYE")
    isn = 5000
    frames = [(1.0, cap.link(1, cap.tcp_ip(A, B, 40000, 5060, isn, flags="S"))),
              (1.1, cap.link(1, cap.tcp_ip(A, B, 40000, 5060, isn + 1, inv))),
              (1.2, cap.link(1, cap.tcp_ip(A, B, 40000, 5060, isn + 1 + len(inv), bye)))]
    report = analyse(cap, sipscen, frames)
    assert PROBLEM[value] in warning(report, 4, "Content-Length")
    call = bad_call(report)
    assert [m["summary"] for m in call["messages"]] == [f"INVITE sip:bob@{B}", f"BYE sip:bob@{B}"]
    assert call["sdp"] == []
    assert "non-SIP bytes in a SIP TCP stream skipped" in report["warnings"]


def test_one_warning_per_field_with_the_count_and_the_last_frame(cap, sipscen):
    hostile = [udp(cap, 1.0 + i, message(f"INVITE sip:bob@{B} SIP/2.0", body=sdp(cap), clen="²"))
               for i in range(4)]
    report = analyse(cap, sipscen, hostile)
    assert warning(report, 3, "Content-Length").endswith(
        "; 3 more message(s) with a malformed Content-Length, the last in frame 6")
    assert sum("Content-Length" in w for w in report["warnings"]) == 1


def test_frame_numbers_in_a_pcapng(cap, sipscen):
    inv = message(f"INVITE sip:bob@{B} SIP/2.0", body=sdp(cap), clen="²")
    report = analyse(cap, sipscen, [udp(cap, 1.0, inv), udp(cap, 1.1, inv)], pcapng=True)
    assert warning(report, 3, "Content-Length").endswith("the last in frame 4")


# ---------------------------------------------------------------- status code
@pytest.mark.parametrize("code", ["2OO", "2²3", "²00", HUGE])
def test_status_code(cap, sipscen, code):
    """A response whose code is not 3 ASCII digits: kept (status null), flagged, and
    never taken for a request nor for an answer."""
    ok = message(f"SIP/2.0 {code} OK", body=sdp(cap))
    report = analyse(cap, sipscen, [udp(cap, 1.0, message(f"INVITE sip:bob@{B} SIP/2.0")),
                                    udp(cap, 1.1, ok)])
    assert "is not a 3-digit number" in warning(report, 4, "status code")
    call = bad_call(report)
    response = call["messages"][1]
    assert response["status"] is None and response["malformed"] == ["status code"]
    assert response["summary"].startswith(code[:24]) and response["summary"].endswith("OK (INVITE)")
    assert call["status"] is None and not call["answered"]
    assert [m["port"] for s in call["sdp"] for m in s["media"]] == [4000]    # its SDP still read


def test_status_code_over_tcp(cap, sipscen):
    ok = message("SIP/2.0 2OO OK", body=sdp(cap))
    frames = [(1.0, cap.link(1, cap.tcp_ip(B, A, 5060, 40000, 77, flags="S"))),
              (1.1, cap.link(1, cap.tcp_ip(B, A, 5060, 40000, 78, ok)))]
    report = analyse(cap, sipscen, frames)
    warning(report, 4, "status code")
    assert bad_call(report)["messages"][0]["summary"] == "2OO OK (INVITE)"


# ---------------------------------------------------------------- SDP
@pytest.mark.parametrize("value", ["²", HUGE])
def test_sdp_payload_type_in_m_line(cap, sipscen, value):
    inv = message(f"INVITE sip:bob@{B} SIP/2.0", body=sdp(cap, extra_pts=f" {value}"))
    report = analyse(cap, sipscen, [udp(cap, 1.0, inv)])
    warning(report, 3, "SDP payload type")
    (media,) = bad_call(report)["sdp"][0]["media"]
    assert media["payload_types"] == [8, 101] and media["telephone_event"] == [101]


@pytest.mark.parametrize("line,field", [
    ("a=rtpmap:² PCMA/8000", "SDP a=rtpmap payload type"),
    (f"a=rtpmap:{HUGE} PCMA/8000", "SDP a=rtpmap payload type"),
    ("a=rtpmap:8 PCMA/²", "SDP a=rtpmap clock rate"),
    (f"a=rtpmap:8 PCMA/{HUGE}", "SDP a=rtpmap clock rate"),
])
def test_sdp_rtpmap(cap, sipscen, line, field):
    body = sdp(cap).replace("a=rtpmap:8 PCMA/8000", line)
    report = analyse(cap, sipscen, [udp(cap, 1.0, message(f"INVITE sip:bob@{B} SIP/2.0", body=body))])
    warning(report, 3, field)
    (media,) = bad_call(report)["sdp"][0]["media"]
    assert media["rtpmap"]["101"] == "telephone-event/8000"       # the other attributes are read
    if "clock rate" in field:
        assert media["rtpmap"]["8"] == "PCMA/8000"                # the default clock


@pytest.mark.parametrize("port", ["²", HUGE, "65536"])
def test_sdp_port(cap, sipscen, port):
    body = sdp(cap).replace("m=audio 4000 ", f"m=audio {port} ")
    report = analyse(cap, sipscen, [udp(cap, 1.0, message(f"INVITE sip:bob@{B} SIP/2.0", body=body))])
    warning(report, 3, "SDP m= port")
    assert bad_call(report)["sdp"][0]["media"] == []


# ---------------------------------------------------------------- SIP INFO
@pytest.mark.parametrize("body,ctype,field,digit", [
    ("Signal=7\r\nDuration=²\r\n", "application/dtmf-relay", "INFO Duration", "7"),
    (f"Signal=7\r\nDuration={HUGE}\r\n", "application/dtmf-relay", "INFO Duration", "7"),
    ("Signal=²\r\nDuration=100\r\n", "application/dtmf-relay", "INFO Signal", None),
    (f"Signal={'1' * 5000}\r\n", "application/dtmf-relay", "INFO Signal", None),
    ("²\r\n", "application/dtmf", "INFO Signal", None),
    ("Signal=9\r\nDuration=²\r\n", "application/dtmf", "INFO Duration", "9"),
])
def test_info_bodies(cap, sipscen, body, ctype, field, digit):
    info = message(f"INFO sip:bob@{B} SIP/2.0", cseq="3 INFO", body=body, ctype=ctype)
    report = analyse(cap, sipscen, [udp(cap, 1.0, info)])
    warning(report, 3, field)
    got = [(d["digit"], d["duration_ms"]) for d in report["dtmf"] if d["call_id"] == "bad-call"]
    assert got == ([(digit, None)] if digit else [])


# ---------------------------------------------------------------- the helper
@pytest.mark.parametrize("text,value", [
    ("0", 0), ("160", 160), ("007", 7), (b"42", 42), ("0" * 5000 + "5", 5),
    ("²", None), ("①", None), ("٣", None), ("+5", None), (" 5", None), ("5_0", None), ("", None),
    (HUGE, None), (b"\xc2\xb2", None), ("4294967296", None),
])
def test_wire_int(text, value):
    assert wire_int(text) == value


def test_wire_int_bounds():
    assert wire_int("127", 0, 127) == 127 and wire_int("128", 0, 127) is None
    assert wire_int("0", 1, 10) is None
