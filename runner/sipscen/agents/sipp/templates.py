"""SIP message templates shared by the generated SIPp scenarios (answer.py, media.py).

SIPp fills the ``[...]`` keywords when it sends; the ``{...}`` fields are ours.
A ``[last_...]`` line whose header the request did not carry is dropped by SIPp.
"""
from __future__ import annotations

from typing import Iterable


def uas_response(code: int, reason: str, body: str = "Content-Length: 0", *,
                 tag: bool = True, record_route: bool = False) -> str:
    """A response to the request just received, echoing its dialog headers; ``tag``
    adds our To tag (a dialog-forming response), ``record_route`` echoes the route set
    a record-routing proxy put in."""
    lines = [f"SIP/2.0 {code} {reason}", "[last_Via:]"]
    if record_route:
        lines.append("[last_Record-Route:]")
    lines += ["[last_From:]",
              "[last_To:]" + (";tag=[pid]SIPpTag01[call_number]" if tag else ""),
              "[last_Call-ID:]", "[last_CSeq:]",
              "Contact: <sip:[local_ip]:[local_port];transport=[transport]>", body]
    return "\n".join(lines)


def sdp_body(port: str, formats: Iterable[tuple[int, str]], *, fmtp: Iterable[str] = (),
             origin: str = "53655765 2353687637") -> str:
    """Content-Type, Content-Length and an audio SDP on ``port`` (a SIPp keyword or a
    number) offering ``formats`` ((payload type, rtpmap) pairs) in that order."""
    formats = list(formats)
    lines = ["Content-Type: application/sdp", "Content-Length: [len]", "", "v=0",
             f"o=sipp {origin} IN IP[local_ip_type] [local_ip]", "s=-",
             "c=IN IP[media_ip_type] [media_ip]", "t=0 0",
             f"m=audio {port} RTP/AVP " + " ".join(str(pt) for pt, _ in formats)]
    lines += [f"a=rtpmap:{pt} {rtpmap}" for pt, rtpmap in formats]
    lines += [f"a=fmtp:{line}" for line in fmtp]
    lines.append("a=sendrecv")
    return "\n".join(lines)
