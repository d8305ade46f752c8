"""SIP calls: messages grouped by Call-ID, their SDP, and the media endpoints they announce.

``CallTable.add_message`` files a parsed message under its call, registers
every SDP media section by the address and port where its sender receives
media (``endpoints``), and reports SIP INFO DTMF once per transaction (UDP
retransmissions do not repeat a digit). Malformed fields of a message (its
own, its SDP's, its INFO body's) become warnings naming the frame
(``malformed.py``); a message's dict lists them under ``malformed``.
"""
from __future__ import annotations

import marshal
import os
import tempfile
from array import array
from dataclasses import dataclass

from sipscen.analysis.dtmf import info_dtmf
from sipscen.analysis.malformed import MalformedFields
from sipscen.analysis.sdp import SdpMedia, parse_sdp, sdp_from_body
from sipscen.analysis.sip import SipMessage


class MessageSpool:
    """Every SIP message read, kept on disk (an anonymous temporary file), not in memory.

    A capture of a long load test holds hundreds of thousands of messages of up
    to 8 KB each: memory holds two integers per message (where it is in the
    spool), the spool holds the message. ``add`` returns that place, ``get``
    reads a message back.
    """

    FLUSH = 1 << 20

    def __init__(self) -> None:
        self._file = None
        self._flushed = 0               # bytes written to the file
        self._buffer = bytearray()      # bytes after those, not yet written

    def add(self, record: tuple) -> tuple[int, int]:
        data = marshal.dumps(record)
        offset = self._flushed + len(self._buffer)
        self._buffer += data
        if len(self._buffer) >= self.FLUSH:
            self._flush()
        return offset, len(data)

    def get(self, offset: int, length: int) -> tuple:
        if offset >= self._flushed:
            start = offset - self._flushed
            return marshal.loads(bytes(self._buffer[start:start + length]))
        return marshal.loads(os.pread(self._file.fileno(), length, offset))

    def _flush(self) -> None:
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="sipscen-messages-")
        os.pwrite(self._file.fileno(), self._buffer, self._flushed)
        self._flushed += len(self._buffer)
        self._buffer = bytearray()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._buffer = bytearray()


# (a record has a 9th item, "malformed": the names of its malformed fields, only when it has some)
_MESSAGE_KEYS = ("time", "src", "dst", "summary", "transport", "method", "status", "raw", "malformed")


class Call:
    """One Call-ID: its state for the analysis, its messages' places in the spool."""

    __slots__ = ("call_id", "spool", "offsets", "lengths", "sdp", "media", "from_", "to",
                 "status", "answered", "ended", "start", "end")

    def __init__(self, call_id: str, spool: MessageSpool, from_: str = "", to: str = ""):
        self.call_id = call_id
        self.spool = spool
        self.offsets = array("q")
        self.lengths = array("l")
        self.sdp: list[tuple] = []          # (time, from, kind, summary, [SdpMedia])
        self.media: list[SdpMedia] = []
        self.from_, self.to = from_, to
        self.status: int | None = None      # final response to the first INVITE
        self.answered = False
        self.ended = False
        self.start: float | None = None
        self.end: float | None = None

    def add(self, record: tuple) -> None:
        offset, length = self.spool.add(record)
        self.offsets.append(offset)
        self.lengths.append(length)
        if self.start is None:
            self.start = record[0]
        self.end = record[0]

    @property
    def messages(self) -> list[dict]:
        return [dict(zip(_MESSAGE_KEYS, self.spool.get(o, n)))
                for o, n in zip(self.offsets, self.lengths)]

    def to_dict(self) -> dict:
        return {
            "call_id": self.call_id, "from": self.from_, "to": self.to,
            "start": self.start, "end": self.end, "status": self.status,
            "answered": self.answered, "messages": self.messages,
            "sdp": [{"time": t, "from": src, "kind": kind, "message": summary,
                     "media": [m.to_dict() for m in media]}
                    for t, src, kind, summary, media in self.sdp],
        }


@dataclass(slots=True)
class Endpoint:
    media: SdpMedia
    call_id: str


class CallTable:
    def __init__(self, warnings: list[str]):
        self.calls: dict[str, Call] = {}
        self.spool = MessageSpool()
        self.endpoints: dict[tuple[bytes, int], Endpoint] = {}
        self.generation = 0             # bumps whenever ``endpoints`` changes
        # (call id, [(addr, port) registered]) per message with SDP, since the analyzer
        # last looked (``Analyzer._check_sdp``): whose streams must be resolved again
        self.sdp_changes: list[tuple[str, list[tuple[bytes, int]]]] = []
        self.info_dtmf: list[dict] = []
        self._info_seen: set[tuple] = set()
        self.warnings = warnings
        self.malformed = MalformedFields(warnings)

    def finish(self) -> None:
        self.malformed.finish()

    def add_message(self, t: float, src: str, dst: str, transport: str, msg: SipMessage,
                    frame: int = 0) -> None:
        """File ``msg`` (read from capture frame number ``frame``, 1-based) under its call."""
        problems = msg.problems
        self._add(t, src, dst, transport, msg, problems)
        if problems:
            self.malformed.note(frame, msg.summary, problems)

    def _add(self, t: float, src: str, dst: str, transport: str, msg: SipMessage,
             problems: list) -> None:
        cid = msg.call_id or "(no Call-ID)"
        call = self.calls.get(cid)
        if call is None:
            call = self.calls[cid] = Call(cid, self.spool, from_=msg.header("from"),
                                          to=msg.header("to"))
        ctype = msg.content_type
        sdp_text = sdp_from_body(ctype, msg.body) if msg.body and ctype else None
        media = parse_sdp(sdp_text, problems) if sdp_text is not None else None
        found = None
        if sdp_text is None and msg.body and ctype and msg.is_request and msg.method == "INFO":
            found = info_dtmf(ctype, msg.body, problems)
        record = (t, src, dst, msg.summary, transport, msg.method, msg.status, msg.raw)
        if problems:
            record += (sorted({name for name, _, _ in problems}),)
        call.add(record)
        cseq_num, cseq_method = msg.cseq
        if not msg.is_request and cseq_method == "INVITE" and msg.status and msg.status >= 200:
            if call.status is None:
                call.status = msg.status
            if 200 <= msg.status < 300:
                call.answered = True
        if msg.is_request and msg.method == "BYE":
            call.ended = True
        if media is not None:
            self._add_sdp(t, src, cid, call, msg, media)
        elif found is not None:
            key = (cid, cseq_num, src, dst)
            if key in self._info_seen:
                return
            self._info_seen.add(key)
            digit, duration = found
            self.info_dtmf.append({
                "digit": digit, "method": "sip-info", "time": t, "duration_ms": duration,
                "volume": None, "ssrc": None, "src": src, "dst": dst, "payload_type": None,
                "call_id": cid,
            })

    def _add_sdp(self, t: float, src: str, cid: str, call: Call, msg: SipMessage,
                 media: list[SdpMedia]) -> None:
        call.sdp.append((t, src, "offer" if msg.is_request else "answer", msg.summary, media))
        registered = []
        for m in media:
            call.media.append(m)
            if m.addr is None or m.port == 0 or not any(m.addr):
                continue
            self.endpoints[(m.addr, m.port)] = Endpoint(m, cid)
            registered.append((m.addr, m.port))
            self.generation += 1
        self.sdp_changes.append((cid, registered))

    def other_media(self, call_id: str, exclude: SdpMedia | None) -> list[SdpMedia]:
        call = self.calls.get(call_id)
        if call is None:
            return []
        return [m for m in call.media if m is not exclude and (exclude is None or
                (m.addr, m.port) != (exclude.addr, exclude.port))]
