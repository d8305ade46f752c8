"""One captured SIP message as the scaffold reads it: start line, headers, body, SDP.

Built from the analysis contract (``Analysis.iter_calls()``: each message's
``time``, ``src``, ``dst``, ``method``, ``status``, ``raw``; each call's ``sdp``),
never from the analyser's internals. Headers are parsed with the ``sip``
expectation family's own parser (``checks.sip.parse_raw``), compact names expanded.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from sipscen.checks.sip import parse_raw

COMPACT = {"i": "call-id", "m": "contact", "e": "content-encoding", "l": "content-length",
           "c": "content-type", "f": "from", "s": "subject", "k": "supported", "t": "to",
           "v": "via", "r": "refer-to", "b": "referred-by", "o": "event", "u": "allow-events",
           "x": "session-expires"}

_URI = re.compile(r"^(?P<scheme>sips?|tel):(?:(?P<user>[^@;?>]*)@)?(?P<hostport>[^;?>]*)"
                  r"(?P<rest>.*)$", re.I)


@dataclass(frozen=True)
class Uri:
    scheme: str
    user: str
    host: str
    port: int | None
    params: str          # ";..." and "?..." as written

    @property
    def hostport(self) -> str:
        return f"{self.host}:{self.port}" if self.port else self.host

    def header_param(self, name: str) -> str | None:
        """A ``?Name=value`` header parameter (e.g. Replaces in a Refer-To), unescaped."""
        _, _, query = self.params.partition("?")
        for part in query.split("&"):
            key, sep, value = part.partition("=")
            if sep and key.lower() == name.lower():
                return _unescape(value)
        return None


def _unescape(text: str) -> str:
    return re.sub(r"%([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), text)


def parse_uri(text: str) -> Uri | None:
    """``sip:user@host:port;params?headers`` (inside <> or bare), None when it is not one."""
    text = text.strip()
    if "<" in text:
        text = text[text.index("<") + 1:]
        text = text.split(">", 1)[0]
    m = _URI.match(text)
    if m is None:
        return None
    hostport = m.group("hostport")
    host, port = hostport, None
    if hostport.startswith("["):
        end = hostport.find("]")
        host = hostport[:end + 1]
        tail = hostport[end + 1:]
        if tail.startswith(":") and tail[1:].isdigit():
            port = int(tail[1:])
    elif hostport.count(":") == 1:
        host, _, port_text = hostport.partition(":")
        port = int(port_text) if port_text.isdigit() else None
    return Uri(m.group("scheme").lower(), _unescape(m.group("user") or ""), host, port,
               m.group("rest") or "")


def header_params(value: str) -> dict[str, str]:
    """The ``;name=value`` parameters after a name-addr (``tag``, ``expires``, ...)."""
    rest = value[value.index(">") + 1:] if ">" in value else value.split(";", 1)[-1] \
        if ";" in value else ""
    out = {}
    for part in rest.split(";"):
        key, _, val = part.strip().partition("=")
        if key:
            out[key.lower()] = val.strip().strip('"')
    return out


@dataclass
class Msg:
    """A SIP message of the capture (one per send; ``retransmission`` marks repeats)."""

    index: int
    time: float
    src: str
    dst: str
    transport: str
    call_id: str
    method: str                 # a request's method; a response's CSeq method
    status: int | None
    first_line: str
    headers: dict[str, list[str]]
    body: str
    raw: str
    frame: int | None = None
    sdp: list[dict] | None = None       # media sections (the analysis' SDP of this message)
    retransmission: bool = False
    forwarded_from: "Msg | None" = None  # a proxy's copy: the message it relays
    notes: list[str] = field(default_factory=list)

    @property
    def is_request(self) -> bool:
        return self.status is None

    def header(self, name: str) -> str:
        values = self.headers.get(name.lower())
        return values[0] if values else ""

    def has(self, name: str) -> bool:
        return name.lower() in self.headers

    @property
    def cseq(self) -> tuple[int, str]:
        num, _, method = self.header("cseq").partition(" ")
        return (int(num) if num.strip().isdigit() else -1), method.strip().upper()

    @property
    def ruri(self) -> Uri | None:
        parts = self.first_line.split(" ")
        return parse_uri(parts[1]) if self.is_request and len(parts) >= 2 else None

    @property
    def reason(self) -> str:
        return self.first_line.split(" ", 2)[2] if self.status is not None and \
            self.first_line.count(" ") >= 2 else ""

    def uri_of(self, name: str) -> Uri | None:
        value = self.header(name)
        return parse_uri(value) if value else None

    def tag(self, name: str) -> str:
        return header_params(self.header(name)).get("tag", "")

    @property
    def label(self) -> str:
        """``INVITE`` or ``200 (INVITE)``: what a ladder shows."""
        return self.method if self.is_request else f"{self.status} ({self.method})"

    @property
    def direction(self) -> str | None:
        """The SDP direction of the first audio section (sendrecv when not written)."""
        media = self.audio
        return (media.get("direction") or "sendrecv") if media else None

    @property
    def audio(self) -> dict | None:
        for m in self.sdp or []:
            if m.get("media") == "audio":
                return m
        return None


def build_msg(index: int, call_id: str, m: dict) -> Msg:
    raw = m.get("raw") or ""
    headers, body = parse_raw(raw)
    headers = {COMPACT.get(k, k): v for k, v in headers.items()} if any(
        len(k) == 1 for k in headers) else headers
    first = raw.replace("\r\n", "\n").split("\n", 1)[0]
    status = m.get("status")
    if status is None and first.startswith("SIP/2.0 "):
        code = first[8:].split(" ", 1)[0]
        status = int(code) if len(code) == 3 and code.isdigit() else 0   # 0: unreadable
    method = str(m.get("method") or "").upper()
    return Msg(index=index, time=float(m["time"]), src=m.get("src", ""), dst=m.get("dst", ""),
               transport=m.get("transport") or "udp", call_id=call_id, method=method,
               status=int(status) if status is not None else None, first_line=first,
               headers=headers, body=body, raw=raw)
