"""SDP bodies: media address and port, payload-type map, telephone-event and SRTP.

An SDP describes where its sender wants to *receive* media (``c=``/``m=``),
which payload types mean what to it (``a=rtpmap``), and — with SDES — the key
with which it will *send* (``a=crypto``, RFC 4568).
"""
from __future__ import annotations

import sys

from dataclasses import dataclass, field

from sipscen.analysis.layers import addr_bytes
from sipscen.analysis.numbers import U32, number_problem, wire_int

# Static payload types (RFC 3551): name, clock rate.
STATIC_PT = {
    0: ("PCMU", 8000), 3: ("GSM", 8000), 4: ("G723", 8000), 5: ("DVI4", 8000),
    6: ("DVI4", 16000), 7: ("LPC", 8000), 8: ("PCMA", 8000), 9: ("G722", 8000),
    10: ("L16", 44100), 11: ("L16", 44100), 12: ("QCELP", 8000), 13: ("CN", 8000),
    14: ("MPA", 90000), 15: ("G728", 8000), 16: ("DVI4", 11025), 17: ("DVI4", 22050),
    18: ("G729", 8000),
}


@dataclass(slots=True)
class SdpMedia:
    """One ``m=`` section."""

    kind: str                      # audio, video, ...
    address: str                   # connection address (text)
    addr: bytes | None             # connection address bytes, None if not an IP
    port: int
    proto: str                     # RTP/AVP, RTP/SAVP, ...
    payload_types: list[int]
    rtpmap: dict[int, tuple[str, int]] = field(default_factory=dict)  # pt -> (name, clock)
    crypto: list[str] = field(default_factory=list)                   # raw a=crypto values
    direction: str = "sendrecv"

    @property
    def telephone_events(self) -> dict[int, int]:
        """payload type -> clock rate of every telephone-event binding."""
        return {pt: rate for pt, (name, rate) in self.rtpmap.items() if name.lower() == "telephone-event"}

    @property
    def secure(self) -> bool:
        return "SAVP" in self.proto.upper()

    def codec(self, pt: int) -> tuple[str, int] | None:
        if pt in self.rtpmap:
            return self.rtpmap[pt]
        if pt in STATIC_PT and pt in self.payload_types:
            return STATIC_PT[pt]
        return None

    def to_dict(self) -> dict:
        return {
            "media": self.kind, "address": self.address, "port": self.port, "proto": self.proto,
            "payload_types": self.payload_types,
            "rtpmap": {str(pt): f"{n}/{r}" for pt, (n, r) in sorted(self.rtpmap.items())},
            "telephone_event": sorted(self.telephone_events),
            "crypto": list(self.crypto), "direction": self.direction,
        }


_CODECS: dict[tuple[str, int], tuple[str, int]] = {}


def _codec(name: str, rate: int) -> tuple[str, int]:
    """One shared (name, rate) tuple per codec (a capture repeats a few thousands of times)."""
    key = (name, rate)
    found = _CODECS.get(key)
    if found is None:
        if len(_CODECS) >= 4096:
            return key
        found = _CODECS[key] = key
    return found


def parse_sdp(text: str, problems: list | None = None) -> list[SdpMedia]:
    """The media sections of an SDP body; tolerant of junk (skips what it cannot read).

    A number that is not one (an ``m=`` port, an RTP payload type, an
    ``a=rtpmap`` payload type or clock rate) skips its section, payload type
    or attribute and is listed in ``problems`` as ``(field, value, problem)``."""
    flag = problems.append if problems is not None else _ignore
    session_addr = ""
    session_dir = "sendrecv"
    media: list[SdpMedia] = []
    cur: SdpMedia | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if len(line) < 2 or line[1] != "=":
            continue
        kind, value = line[0], line[2:].strip()
        if kind == "m":
            parts = value.split()
            if len(parts) < 3:
                cur = None
                continue
            port_text = parts[1].split("/")[0]
            port = wire_int(port_text, 0, 65535)
            if port is None:
                flag(("SDP m= port", port_text, number_problem(port_text, 0, 65535)))
                cur = None
                continue
            rtp = "RTP" in parts[2].upper()     # else the formats are not payload types (udptl t38, BFCP *)
            pts = []
            for p in parts[3:]:
                pt = wire_int(p, 0, 127)
                if pt is not None:
                    pts.append(pt)
                elif rtp:
                    flag(("SDP payload type", p, number_problem(p, 0, 127)))
            cur = SdpMedia(sys.intern(parts[0]), session_addr,
                           addr_bytes(session_addr) if session_addr else None,
                           port, sys.intern(parts[2]), pts, direction=session_dir)
            media.append(cur)
        elif kind == "c":
            parts = value.split()
            if len(parts) >= 3:
                address = parts[2].split("/")[0]
                if cur is None:
                    session_addr = address
                else:
                    cur.address = address
                    cur.addr = addr_bytes(address)
        elif kind == "a":
            name, _, arg = value.partition(":")
            lname = name.lower()
            if lname in ("sendrecv", "sendonly", "recvonly", "inactive"):
                if cur is None:
                    session_dir = sys.intern(lname)
                else:
                    cur.direction = sys.intern(lname)
            if cur is None:
                continue
            if lname == "rtpmap":
                pt_text, _, enc = arg.strip().partition(" ")
                pt = wire_int(pt_text, 0, 127)
                if pt is None:
                    flag(("SDP a=rtpmap payload type", pt_text, number_problem(pt_text, 0, 127)))
                    continue
                fields = enc.strip().split("/")
                rate = wire_int(fields[1], 1, U32) if len(fields) > 1 else 8000
                if rate is None:
                    flag(("SDP a=rtpmap clock rate", fields[1], number_problem(fields[1], 1, U32)))
                    rate = 8000
                cur.rtpmap[pt] = _codec(fields[0], rate)
            elif lname == "crypto":
                cur.crypto.append(arg.strip())
    return media


def _ignore(_item) -> None:
    """Stands in for ``problems.append`` when the caller does not collect them."""


def sdp_from_body(content_type: str, body: str) -> str | None:
    """The SDP inside a SIP body (plain or one part of a multipart body)."""
    ctype = content_type.lower()
    if ctype.startswith("application/sdp"):
        return body
    if ctype.startswith("multipart/"):
        boundary = None
        for param in content_type.split(";")[1:]:
            k, _, v = param.strip().partition("=")
            if k.strip().lower() == "boundary":
                boundary = v.strip().strip('"')
        if not boundary:
            return None
        for part in body.split("--" + boundary):
            head, sep, pbody = part.partition("\r\n\r\n")
            if not sep:
                head, sep, pbody = part.partition("\n\n")
            if sep and "application/sdp" in head.lower():
                return pbody
    return None
