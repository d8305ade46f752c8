"""SIP calls: messages grouped by Call-ID, their SDP, and the media endpoints they announce.

``CallTable.add_message`` files a parsed message under its call, registers
every SDP media section by the address and port where its sender receives
media (``endpoints``), and reports SIP INFO DTMF once per transaction (UDP
retransmissions do not repeat a digit).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sipscen.analysis.dtmf import info_dtmf
from sipscen.analysis.sdp import SdpMedia, parse_sdp, sdp_from_body
from sipscen.analysis.sip import SipMessage


@dataclass
class Call:
    call_id: str
    messages: list[dict] = field(default_factory=list)
    sdp: list[dict] = field(default_factory=list)
    media: list[SdpMedia] = field(default_factory=list)
    from_: str = ""
    to: str = ""
    status: int | None = None       # final response to the first INVITE
    answered: bool = False
    ended: bool = False

    def to_dict(self) -> dict:
        first = self.messages[0]["time"] if self.messages else None
        last = self.messages[-1]["time"] if self.messages else None
        return {
            "call_id": self.call_id, "from": self.from_, "to": self.to,
            "start": first, "end": last, "status": self.status, "answered": self.answered,
            "messages": self.messages, "sdp": self.sdp,
        }


@dataclass
class Endpoint:
    media: SdpMedia
    call_id: str


class CallTable:
    def __init__(self, warnings: list[str]):
        self.calls: dict[str, Call] = {}
        self.endpoints: dict[tuple[bytes, int], Endpoint] = {}
        self.generation = 0             # bumps whenever ``endpoints`` changes
        self.info_dtmf: list[dict] = []
        self._info_seen: set[tuple] = set()
        self.warnings = warnings

    def add_message(self, t: float, src: str, dst: str, transport: str, msg: SipMessage) -> None:
        cid = msg.call_id or "(no Call-ID)"
        call = self.calls.get(cid)
        if call is None:
            call = self.calls[cid] = Call(cid, from_=msg.header("from"), to=msg.header("to"))
        call.messages.append({
            "time": t, "src": src, "dst": dst, "summary": msg.summary, "transport": transport,
            "method": msg.method, "status": msg.status, "raw": msg.raw,
        })
        cseq_num, cseq_method = msg.cseq
        if not msg.is_request and cseq_method == "INVITE" and msg.status and msg.status >= 200:
            if call.status is None:
                call.status = msg.status
            if 200 <= msg.status < 300:
                call.answered = True
        if msg.is_request and msg.method == "BYE":
            call.ended = True
        ctype = msg.content_type
        if not msg.body or not ctype:
            return
        sdp_text = sdp_from_body(ctype, msg.body)
        if sdp_text is not None:
            self._add_sdp(t, src, cid, call, msg, sdp_text)
        elif msg.is_request and msg.method == "INFO":
            found = info_dtmf(ctype, msg.body)
            if found is None:
                return
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

    def _add_sdp(self, t: float, src: str, cid: str, call: Call, msg: SipMessage, text: str) -> None:
        media = parse_sdp(text)
        call.sdp.append({
            "time": t, "from": src, "kind": "offer" if msg.is_request else "answer",
            "message": msg.summary, "media": [m.to_dict() for m in media],
        })
        for m in media:
            call.media.append(m)
            if m.addr is None or m.port == 0 or not any(m.addr):
                continue
            self.endpoints[(m.addr, m.port)] = Endpoint(m, cid)
            self.generation += 1

    def other_media(self, call_id: str, exclude: SdpMedia | None) -> list[SdpMedia]:
        call = self.calls.get(call_id)
        if call is None:
            return []
        return [m for m in call.media if m is not exclude and (exclude is None or
                (m.addr, m.port) != (exclude.addr, exclude.port))]
