"""Field-level fuzzing of the dissector (issue 20): hypothesis writes SIP and SDP
by their grammar, with the numbers in them drawn from hostile sets (Unicode
digits that ``str.isdigit()`` accepts and ``int()`` refuses, 5,000-digit
values, signs, underscores, letters), builds real pcaps (UDP datagrams, TCP
connections) and runs ``sipscen analyze`` (``--json`` and the console view).

Asserted for every capture: exit 0, never "internal error"; the well-formed
call placed after the hostile messages is still analysed; every malformed
number is a warning naming its field and the frame that first carried it
(``frame N: FIELD 'value' ...``). Bit flips found none of these; crafted
fields found them all (tests/test_fuzz.py mutates whole files).

Derandomized (a fixed seed), bounded (``MAX_EXAMPLES``, an alarm per example).
"""
from __future__ import annotations

import io
import json
import signal
import struct
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings, strategies as st

from sipscen.cli import main

MAX_EXAMPLES = 150
PER_EXAMPLE = 20            # seconds: a hang fails the example, never blocks the suite
U32 = 2 ** 32 - 1

SETTINGS = settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])

# digits int() refuses although str.isdigit() says yes (superscripts, circled),
# and decimal digits of other scripts (int() takes those: not ASCII, not SIP)
NOT_ASCII_DIGITS = "²³¹①⑨٣০߃๓９"


def bad_number(text: str, low: int, high: int) -> bool:
    """The grammar's verdict on a decimal field: malformed unless 1*DIGIT (ASCII)
    with a value in [low, high]."""
    t = text.strip(" \t")
    if not (t.isascii() and t.isdigit()):
        return True
    if len(t.lstrip("0")) > 12:
        return True
    return not low <= int(t) <= high


# ----------------------------------------------------------------- numbers
@st.composite
def number(draw, low: int = 0, high: int = U32, spaces: bool = False) -> str:
    """A decimal field's text: mostly well-formed, else Unicode digits, thousands of
    digits, out of [low, high], signs and junk. ``spaces``: may hold blanks (a
    header value; not a space-separated SDP or CSeq token)."""
    kind = draw(st.sampled_from(["ok", "ok", "ok", "unicode", "huge", "junk", "range", "sign"]))
    if kind == "ok":
        return str(draw(st.integers(low, min(high, 10 ** 6))))
    if kind == "unicode":
        base = list(str(draw(st.integers(0, 999))))
        base[draw(st.integers(0, len(base) - 1))] = draw(st.sampled_from(NOT_ASCII_DIGITS))
        return "".join(base)
    if kind == "huge":
        return draw(st.sampled_from(["9", "1", "4"])) * draw(st.sampled_from([4301, 5000, 20, 11]))
    if kind == "range":
        return str(draw(st.sampled_from([high + 1, 2 ** 32, 2 ** 64])))
    if kind == "sign":
        return draw(st.sampled_from(["+5", "-1", "5_0", "0x1F", "1e3", "1.5", "²"]
                                    + (["", " ", "5 5"] if spaces else [])))
    text = draw(st.text(alphabet="0123456789aZO²-+_." + (" " if spaces else ""), min_size=1, max_size=6))
    return text if not text.strip().isdigit() else text + "x"     # never a valid number


# ----------------------------------------------------------------- messages
@dataclass
class Msg:
    first: str
    headers: list[str]
    body: str = ""
    ctype: str = ""
    clen: str | None = None                    # None: the right length
    kinds: set[str] = field(default_factory=set)        # malformed fields it carries
    body_kinds: set[str] = field(default_factory=set)   # ... inside its body

    def bytes(self) -> bytes:
        head = [self.first, *self.headers]
        if self.ctype:
            head.append(f"Content-Type: {self.ctype}")
        return ("\r\n".join(head) + "\r\n\r\n" + self.body).encode()


@st.composite
def sdp_body(draw) -> tuple[str, set[str]]:
    kinds: set[str] = set()
    lines = ["v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-"]
    lines.append(draw(st.sampled_from(["c=IN IP4 127.0.0.1", "c=IN IP6 ::1", "c=IN IP4 999.1.1.1",
                                       "c=IN IP4 127.0.0.1/127/3", "c=IN", "c=IN IP4 ²"])))
    lines.append("t=0 0")
    for _ in range(draw(st.integers(1, 2))):
        port = draw(st.one_of(st.integers(0, 65535).map(str), number(0, 65535)))
        proto = draw(st.sampled_from(["RTP/AVP", "RTP/SAVP", "UDP/TLS/RTP/SAVPF", "udptl", "TCP/BFCP"]))
        pts = draw(st.lists(number(0, 127), min_size=1, max_size=4))
        if bad_number(port, 0, 65535):
            kinds.add("SDP m= port")
        elif "RTP" in proto.upper() and any(bad_number(p, 0, 127) for p in pts):
            kinds.add("SDP payload type")
        lines.append(f"m=audio {port}{draw(st.sampled_from(['', '/2']))} {proto} {' '.join(pts)}")
        good_section = not bad_number(port, 0, 65535)
        for _ in range(draw(st.integers(0, 3))):
            kind = draw(st.sampled_from(["rtpmap", "rtpmap", "fmtp", "crypto", "dir"]))
            if kind == "rtpmap":
                pt = draw(number(0, 127))
                rate = draw(st.one_of(number(1, U32), st.none()))
                name = draw(st.sampled_from(["PCMA", "telephone-event", "opus", "G722", "²"]))
                text = f"a=rtpmap:{pt} {name}"
                if rate is not None:
                    text += f"/{rate}" + draw(st.sampled_from(["", "/2", "/x"]))
                if good_section and bad_number(pt, 0, 127):
                    kinds.add("SDP a=rtpmap payload type")
                elif good_section and rate is not None and bad_number(rate, 1, U32):
                    kinds.add("SDP a=rtpmap clock rate")
                lines.append(text)
            elif kind == "fmtp":
                lines.append(f"a=fmtp:{draw(number())} " + draw(st.sampled_from(
                    ["0-16", "0-²", "minptime=10;useinbandfec=1", "mode=" + "9" * 5000, ""])))
            elif kind == "crypto":
                lines.append(f"a=crypto:{draw(number())} " + draw(st.sampled_from(
                    ["AES_CM_128_HMAC_SHA1_80", "AES_CM_256_HMAC_SHA1_32", "²"])) + " inline:"
                    + draw(st.sampled_from(["WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz",
                                            "²", "QUJD", "x" * 300]))
                    + draw(st.sampled_from(["", f"|2^{draw(number())}", f"|{draw(number())}:4",
                                            f"|1:{draw(number())}"])))
            else:
                lines.append(draw(st.sampled_from(["a=sendonly", "a=inactive", "a=recvonly"])))
    return "\r\n".join(lines) + "\r\n", kinds


@st.composite
def info_body(draw) -> tuple[str, str, set[str]]:
    kinds: set[str] = set()
    if draw(st.booleans()):
        ctype = "application/dtmf-relay"
        signal_text = draw(st.one_of(number(0, 16), st.sampled_from(["5", "*", "#", "A", "flash", "17", "²"])))
        lines = [f"Signal={signal_text}"]
        if _bad_signal(signal_text):
            kinds.add("INFO Signal")
        if draw(st.booleans()):
            duration = draw(number())
            lines.append(f"Duration={duration}")
            if bad_number(duration, 0, U32):
                kinds.add("INFO Duration")
        return "\r\n".join(lines) + "\r\n", ctype, kinds
    ctype = "application/dtmf"
    signal_text = draw(st.one_of(st.sampled_from(["5", "#", "²", "①", "11", "9" * 5000]), number(0, 16)))
    if signal_text.strip() and _bad_signal(signal_text):
        kinds.add("INFO Signal")
    return signal_text + "\r\n", ctype, kinds


def _bad_signal(text: str) -> bool:
    v = text.strip().upper()
    if len(v) == 1 and v in "0123456789*#ABCD":
        return False
    if v in ("FLASH", "HF", "HOOKFLASH"):
        return False
    return bad_number(v, 10, 16)


@st.composite
def message(draw, n: int) -> Msg:
    """One SIP message with hostile fields (Call-ID ``fuzz-N``)."""
    kinds: set[str] = set()
    what = draw(st.sampled_from(["sdp", "sdp", "info", "info", "multipart", "none"]))
    if draw(st.booleans()) or (what == "info" and draw(st.integers(0, 4))):
        method = "INFO" if what == "info" else draw(st.sampled_from(["INVITE", "BYE", "OPTIONS"]))
        first = f"{method} sip:bob@127.0.0.2 SIP/2.0"
    else:
        method = draw(st.sampled_from(["INVITE", "INFO", "BYE"]))
        code = draw(st.one_of(st.sampled_from(["200", "2OO", "²00", "1000", "99", "", "4①4", "486"]),
                              number(100, 699)))
        reason = draw(st.sampled_from(["OK", "", "Busy Here", "²"]))
        first = f"SIP/2.0 {code}" + (f" {reason}" if reason else "")
        if bad_number(code, 0, 999) or len(code.strip()) != 3:
            kinds.add("status code")
    cseq = draw(number())
    if bad_number(cseq, 0, U32):
        kinds.add("CSeq")
    via_port = draw(number(0, 65535))
    headers = [
        f"Via: SIP/2.0/{draw(st.sampled_from(['UDP', 'TCP', '²']))} 127.0.0.1:{via_port}"
        f";branch=z9hG4bK-{n};rport={draw(number())}",
        f"From: <sip:alice@127.0.0.1>;tag={n}", "To: <sip:bob@127.0.0.2>",
        f"Call-ID: fuzz-{n}", f"CSeq: {cseq} {method}",
        f"Max-Forwards: {draw(number())}", f"Expires: {draw(number())}",
    ]
    msg = Msg(first, headers, kinds=kinds)
    if what == "sdp":
        msg.body, msg.body_kinds = draw(sdp_body())
        msg.ctype = "application/sdp"
    elif what == "multipart":
        sdp, msg.body_kinds = draw(sdp_body())
        boundary = draw(st.sampled_from(["b1", "unique-boundary-1", "²", "x" * 80]))
        msg.ctype = f'multipart/mixed;boundary="{boundary}"'
        msg.body = (f"--{boundary}\r\nContent-Type: application/sdp\r\n\r\n{sdp}\r\n"
                    f"--{boundary}\r\nContent-Type: application/isup\r\n\r\n\x01\x02\r\n--{boundary}--\r\n")
    elif what == "info":
        msg.body, msg.ctype, kinds_info = draw(info_body())
        # the body is read as DTMF only in an INFO request
        msg.body_kinds = kinds_info if first.startswith("INFO ") else set()
    msg.clen = draw(st.one_of(st.none(), st.none(), number(len(msg.body.encode()), U32, spaces=True)))
    if msg.clen is not None and bad_number(msg.clen, 0, U32):
        msg.kinds.add("Content-Length")
    name = draw(st.sampled_from(["Content-Length", "l", "content-length", "CONTENT-LENGTH "]))
    msg.headers.append(f"{name}: {msg.clen if msg.clen is not None else len(msg.body.encode())}")
    return msg


# ----------------------------------------------------------------- frames
def _ip(proto: int, src: int, dst: int, payload: bytes) -> bytes:
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0x4000, 64, proto, 0,
                     bytes([127, 0, 0, src]), bytes([127, 0, 0, dst]))
    return b"\x00" * 12 + b"\x08\x00" + ip + payload


def udp_frame(sport: int, dport: int, payload: bytes) -> bytes:
    return _ip(17, 1, 2, struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload)


def tcp_frame(sport: int, dport: int, seq: int, flags: int, payload: bytes = b"") -> bytes:
    return _ip(6, 1, 2, struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, flags, 65535, 0, 0)
               + payload)


def write_pcap(path: Path, frames: list[bytes]) -> None:
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1)]
    for i, frame in enumerate(frames):
        out.append(struct.pack("<IIII", 1_700_000_000 + i, 0, len(frame), len(frame)) + frame)
    path.write_bytes(b"".join(out))


GOOD = Msg("BYE sip:bob@127.0.0.2 SIP/2.0",
           ["Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-good", "From: <sip:alice@127.0.0.1>;tag=g",
            "To: <sip:bob@127.0.0.2>;tag=h", "Call-ID: good-call", "CSeq: 2 BYE", "Content-Length: 0"])


def capture(messages: list[Msg], tcp: bool) -> tuple[list[bytes], dict[str, int]]:
    """Frames of the messages (each a datagram, or each on a TCP connection of its
    own), then the well-formed BYE; and the frame (1-based) that first carries
    each kind of malformed field."""
    frames: list[bytes] = []
    first: dict[str, int] = {}
    for i, msg in enumerate([*messages, GOOD]):
        data = msg.bytes()
        kinds = set(msg.kinds)
        # a body is read when its length is known (TCP) or up to the datagram's end (UDP)
        if not tcp or "Content-Length" not in msg.kinds:
            kinds |= msg.body_kinds
        if tcp and msg.clen is not None and "Content-Length" not in kinds and \
                int(msg.clen) != len(msg.body.encode()):
            kinds = set()           # waits for body bytes that never come: never a message
        if tcp:
            sport, isn = 30000 + i, 1000 * i
            frames.append(tcp_frame(sport, 5060, isn, 0x02))              # SYN
            frames.append(tcp_frame(sport, 5060, isn + 1, 0x18, data))    # PSH ACK
            at = len(frames)
            frames.append(tcp_frame(sport, 5060, isn + 1 + len(data), 0x11))   # FIN ACK
        else:
            frames.append(udp_frame(5060, 5060, data))
            at = len(frames)
        for kind in kinds:
            first.setdefault(kind, at)
    return frames, first


@contextmanager
def alarm(seconds: int):
    def hang(signum, frame):
        raise TimeoutError(f"no answer within {seconds}s: a hang")
    old = signal.signal(signal.SIGALRM, hang)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def cli(*argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with alarm(PER_EXAMPLE):
        code = main([str(a) for a in argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@st.composite
def case(draw):
    n = draw(st.integers(1, 3))
    return [draw(message(i)) for i in range(n)], draw(st.booleans())


@SETTINGS
@given(data=case())
def test_malformed_fields_are_warnings_and_the_rest_is_analysed(tmp_path_factory, data):
    messages, tcp = data
    frames, first = capture(messages, tcp)
    for kind in first:
        event(f"{'tcp' if tcp else 'udp'}: {kind}")     # what the run covered (--hypothesis-show-statistics)
    path = tmp_path_factory.mktemp("fields") / "fields.pcap"
    write_pcap(path, frames)
    code, out, err = cli("analyze", "--json", "-", path)
    assert code == 0 and "internal error" not in err, (code, err[-2000:])
    report = json.loads(out)
    assert any(c["call_id"] == "good-call" for c in report["calls"]), "the capture after them was lost"
    warnings = report["warnings"]
    for kind, frame in sorted(first.items()):
        assert any(w.startswith(f"frame {frame}: {kind} ") for w in warnings), (kind, frame, warnings)
    flagged = {w.split(": ", 1)[1] for w in warnings if w.startswith("frame ")}
    for text in flagged:            # and nothing else is called malformed
        assert any(text.startswith(f"{kind} ") for kind in first), (text, first)
    code, out, err = cli("analyze", path)
    assert code == 0 and "internal error" not in err, (code, err[-2000:])
    assert "good-call" in out
