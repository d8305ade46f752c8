"""SIP messages on the wire: parsing, and TCP stream reassembly and framing.

``parse_message`` reads one message (request or response) tolerantly: folded
headers, compact header names, missing Content-Length on UDP; a number it
cannot read (Content-Length, status code, CSeq) is listed in the message's
``problems`` and the rest of the message is still read.
``TcpSipReassembler`` rebuilds each TCP flow's byte stream from segments
ordered by sequence number (retransmissions, overlaps and reordering), then
cuts it into messages by Content-Length — several messages per segment and
one message over several segments both work.  Per-flow memory is bounded.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from sipscen.analysis.numbers import number_problem, wire_int

RAW_CAP = 8192  # bytes of message text kept for the ladder
MAX_FLOW_BUFFER = 1 << 20
MAX_PENDING_SEGMENTS = 256

_COMPACT = {
    "i": "call-id", "l": "content-length", "c": "content-type", "f": "from", "t": "to",
    "m": "contact", "v": "via", "k": "supported", "s": "subject", "e": "content-encoding",
    "o": "event", "r": "refer-to", "b": "referred-by", "u": "allow-events", "x": "session-expires",
}
_METHOD_RE = re.compile(rb"[A-Za-z][A-Za-z0-9.!%*_+`'~-]* \S+ SIP/2\.0\r?\n")
# at a message boundary a response may carry a malformed status code (flagged, still read)
_START_RE = re.compile(rb"(?:[A-Z][A-Za-z0-9.!%*_+`'~-]* \S+ SIP/2\.0\r?\n|SIP/2\.0 )")
# joining a TCP stream in the middle: only well-known methods count as a message start
_KNOWN = (rb"(?:INVITE|ACK|BYE|CANCEL|OPTIONS|REGISTER|PRACK|SUBSCRIBE|NOTIFY|PUBLISH|INFO|REFER"
          rb"|MESSAGE|UPDATE) \S+ SIP/2\.0\r?\n|SIP/2\.0 \d{3}[ \r\n]")
_SYNC_RE = re.compile(_KNOWN)
_RESYNC_RE = re.compile(rb"\n(?=" + _KNOWN + rb")")
_CLEN_RE = re.compile(rb"(?im)^(?:content-length|l)[ \t]*:([^\r\n]*)")


@dataclass
class SipMessage:
    is_request: bool
    method: str            # request method, or the CSeq method of a response
    status: int | None     # response code
    reason: str
    uri: str
    headers: dict[str, list[str]] = field(default_factory=dict)
    body: str = ""
    raw: str = ""
    status_text: str = ""  # the status code as written (also when it is not a number)
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # malformed.Problem

    def header(self, name: str) -> str:
        vals = self.headers.get(name.lower())
        return vals[0] if vals else ""

    @property
    def call_id(self) -> str:
        return self.header("call-id").strip()

    @property
    def cseq(self) -> tuple[int, str]:
        num, _, method = self.header("cseq").strip().partition(" ")
        value = wire_int(num)
        return (-1 if value is None else value), method.strip().upper()

    @property
    def content_type(self) -> str:
        return self.header("content-type").strip()

    @property
    def summary(self) -> str:
        if self.is_request:
            return f"{self.method} {self.uri}"
        cseq_method = self.cseq[1]
        code = self.status if self.status is not None else self.status_text
        text = f"{code} {self.reason}".rstrip()
        return f"{text} ({cseq_method})" if cseq_method else text


def looks_like_sip(payload: bytes) -> bool:
    """Cheap test on the start of a UDP payload or TCP segment."""
    if payload[:8] == b"SIP/2.0 ":
        return True
    return bool(payload[:1].isalpha() and _METHOD_RE.match(payload, 0, 256))


def parse_message(data: bytes, udp: bool = True) -> SipMessage | None:
    """Parse one SIP message; None when ``data`` is not SIP.

    A malformed number does not make it "not SIP": a status code that is not
    three digits leaves ``status`` None; a Content-Length that is not a number
    reads the body to the end of the datagram (UDP) or as none (TCP, where the
    framing could not use it either); each is listed in ``problems``."""
    text = data.decode("utf-8", "replace")
    head, sep, body = text.partition("\r\n\r\n")
    if not sep:
        head, sep, body = text.partition("\n\n")
    lines = head.split("\n")
    first = lines[0].rstrip("\r")
    if first.startswith("SIP/2.0 "):
        code, _, reason = first[8:].partition(" ")
        status = wire_int(code, 0, 999) if len(code) == 3 else None
        msg = SipMessage(False, "", status, reason.strip(), "", status_text=code)
        if status is None:
            msg.problems.append(("status code", code, "is not a 3-digit number"))
    else:
        parts = first.split(" ")
        if len(parts) != 3 or parts[2] != "SIP/2.0" or not parts[0].isascii() or not parts[0][:1].isalpha():
            return None
        msg = SipMessage(True, parts[0], None, "", parts[1])
    headers: dict[str, list[str]] = {}
    last = None
    for line in lines[1:]:
        line = line.rstrip("\r")
        if not line:
            continue
        if line[0] in " \t" and last is not None:
            headers[last][-1] += " " + line.strip()
            continue
        name, colon, value = line.partition(":")
        if not colon:
            continue
        name = name.strip().lower()
        name = _COMPACT.get(name, name)
        headers.setdefault(name, []).append(value.strip())
        last = name
    msg.headers = headers
    if "content-length" in headers:
        clen_text = msg.header("content-length")
        clen = wire_int(clen_text)
        if clen is not None:
            body = body[:clen] if clen < len(body) else body
        else:
            msg.problems.append(("Content-Length", clen_text, number_problem(clen_text)))
            if not udp:
                body = ""
    elif not udp:
        body = ""
    if "cseq" in headers:
        num = msg.header("cseq").strip().partition(" ")[0]
        if wire_int(num) is None:
            msg.problems.append(("CSeq", num, number_problem(num)))
    msg.body = body
    if not msg.is_request:
        msg.method = msg.cseq[1]
    msg.raw = text if len(data) <= RAW_CAP else data[:RAW_CAP].decode("utf-8", "replace") + "\n[... truncated]"
    return msg


class _Flow:
    __slots__ = ("next_seq", "buf", "pending", "pending_bytes", "sip", "resync")

    def __init__(self) -> None:
        self.sip: bool | None = None           # unknown until the first bytes in order
        self.resync = False                    # after a gap: the buffer starts mid-message
        self.next_seq: int | None = None
        self.buf = bytearray()
        self.pending: dict[int, bytes] = {}
        self.pending_bytes = 0


class TcpSipReassembler:
    """Per-flow TCP reassembly; ``segment`` returns the complete SIP messages it finished."""

    def __init__(self, warnings: list[str]):
        self.flows: dict[tuple, _Flow] = {}
        self.warnings = warnings
        self._warned: set[str] = set()

    def _warn(self, kind: str, text: str) -> None:
        if kind not in self._warned:
            self._warned.add(kind)
            self.warnings.append(text)

    def segment(self, key: tuple, seq: int, flags: int, payload: bytes) -> list[bytes]:
        flow = self.flows.get(key)
        if flags & 0x02:  # SYN
            flow = self.flows[key] = _Flow()
            flow.next_seq = (seq + 1) & 0xFFFFFFFF
            return []
        out: list[bytes] = []
        if payload:
            if flow is None or flow.next_seq is None:
                if not _SYNC_RE.match(payload, 0, 256):
                    return []  # mid-stream and not at a message start: wait for one
                flow = self.flows[key] = _Flow()
                flow.next_seq = seq
                flow.sip = True
            if flow.sip is False:
                return []      # another protocol (TLS, HTTP...): not buffered
            if flow.sip is None and seq == flow.next_seq:
                flow.sip = looks_like_sip(payload) or payload[:1] in (b"\r", b"\n")
                if not flow.sip:
                    flow.pending.clear()
                    return []
            self._add(flow, seq, payload)
            out = self._frame(flow)
        if flags & 0x05 and flow is not None:  # FIN or RST: forget the flow
            self.flows.pop(key, None)
        return out

    def _add(self, flow: _Flow, seq: int, payload: bytes) -> None:
        rel = (seq - flow.next_seq) & 0xFFFFFFFF
        if rel >= 0x80000000:
            rel -= 0x100000000
        if rel > 0:
            if seq not in flow.pending:
                flow.pending[seq] = payload
                flow.pending_bytes += len(payload)
            if len(flow.pending) > MAX_PENDING_SEGMENTS or flow.pending_bytes > MAX_FLOW_BUFFER:
                self._warn("gap", "TCP stream with a gap (lost segment): SIP resynchronised after it")
                flow.buf.clear()
                flow.resync = True
                first = min(flow.pending, key=lambda s: (s - flow.next_seq) & 0xFFFFFFFF)
                flow.next_seq = first
            else:
                return
        elif rel < 0:
            if rel + len(payload) <= 0:
                return  # retransmission of bytes we have
            payload = payload[-rel:]
            seq = flow.next_seq
        if rel <= 0:
            flow.buf += payload
            flow.next_seq = (flow.next_seq + len(payload)) & 0xFFFFFFFF
        while flow.pending:
            nxt = flow.pending.pop(flow.next_seq, None)
            if nxt is None:
                # drop stale segments entirely behind next_seq, trim overlapping ones
                moved = False
                for s in list(flow.pending):
                    r = (s - flow.next_seq) & 0xFFFFFFFF
                    if r >= 0x80000000:
                        data = flow.pending.pop(s)
                        flow.pending_bytes -= len(data)
                        over = 0x100000000 - r
                        if over < len(data):
                            flow.buf += data[over:]
                            flow.next_seq = (flow.next_seq + len(data) - over) & 0xFFFFFFFF
                            moved = True
                if not moved:
                    break
                continue
            flow.pending_bytes -= len(nxt)
            flow.buf += nxt
            flow.next_seq = (flow.next_seq + len(nxt)) & 0xFFFFFFFF

    def _frame(self, flow: _Flow) -> list[bytes]:
        out = []
        buf = flow.buf
        if flow.resync:
            m = _RESYNC_RE.search(buf)
            if m is None:
                if len(buf) > 512:
                    del buf[:-512]
                return out
            del buf[:m.end()]
            flow.resync = False
        while buf:
            start = 0
            while start < len(buf) and buf[start] in (13, 10):
                start += 1  # keep-alive CRLFs
            if start:
                del buf[:start]
                if not buf:
                    break
            if not _START_RE.match(buf, 0, 512):
                if len(buf) < 16 and b"\n" not in buf:
                    break  # too short to judge yet
                self._warn("junk", "non-SIP bytes in a SIP TCP stream skipped")
                m = _RESYNC_RE.search(buf)
                if m is None:
                    del buf[:-512]
                    flow.resync = True
                    break
                del buf[:m.end()]
            end = buf.find(b"\r\n\r\n")
            sep = 4
            if end < 0:
                end = buf.find(b"\n\n")
                sep = 2
            if end < 0:
                if len(buf) > MAX_FLOW_BUFFER:
                    self._warn("huge", "SIP header block over 1 MiB in a TCP stream: dropped")
                    buf.clear()
                break
            m = _CLEN_RE.search(buf, 0, end)
            # read as parse_message reads it; not a number: framed with no body (and flagged there)
            clen = (wire_int(m.group(1).decode("utf-8", "replace").strip()) or 0) if m else 0
            total = end + sep + clen
            if total > len(buf):
                if clen > MAX_FLOW_BUFFER:
                    self._warn("huge", "SIP message claiming a body over 1 MiB in a TCP stream: dropped")
                    buf.clear()
                break
            out.append(bytes(buf[:total]))
            del buf[:total]
        return out
