"""Generated SIPp callers and callees with media: ``media: {play_pcap, play_dtmf, one_way_every}``.

The built-in ``uac`` carries no media. When a calling SIPp agent asks for
media, sipscen writes this scenario instead: INVITE with an SDP offer (PCMA,
and telephone-event on payload type 96 — SIPp 3.6 sends ``play_dtmf`` events on
96 whatever the SDP says), ACK, then ``<exec play_pcap_audio>`` (a raw socket:
root or CAP_NET_RAW) and/or ``<exec play_dtmf>``, a hold, BYE.

SIPp 3.6 plays one pcap at a time per call (``play_dtmf`` is played the same
way and would cut a running pcap short), so the digits start once the pcap's
own length has passed. After the last action the call is held for the agent's
``duration`` when given (SIPp ``-d``), else long enough for the digits (about
0.4 s each) plus a second.

Load with media: every call announces a port of its own (SIPp's
``[auto_media_port]``: ``-mp`` + 4 x (call number - 1), modulo 10,000) and the
pcap is played from that port, so each call's RTP has its own addresses and
the analysis links every stream to its call by SDP. ``one_way_every: N``
leaves the caller silent in every Nth call (calls N, 2N, ...: an injection
file read in sequence, ``-inf``), so those calls carry media one way only.
A serving agent with ``play_pcap`` (``build_media_uas``) answers with its own
per-call port and plays the pcap back to the caller's SDP address until BYE.
"""
from __future__ import annotations

import struct
from pathlib import Path
from xml.sax.saxutils import quoteattr

from sipscen.agents.sipp.templates import sdp_body, uas_response

DIGIT_MS = 450
PCAP_HOLD_MS = 3000

_INVITE = """INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:sipp@[local_ip]:[local_port]>
Max-Forwards: 70"""
_OFFER = sdp_body("{port}", [(8, "PCMA/8000"), (96, "telephone-event/8000")], fmtp=["96 0-15"])

# in the dialog: to the callee's Contact through the route set its 200 recorded (a
# record-routing SBC refuses a BYE without its Route); SIPp drops an empty [routes] line
_IN_DIALOG = """{method} [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
From: <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: {cseq} {method}
Contact: <sip:sipp@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0"""


def pcap_duration_ms(path: Path) -> int | None:
    """Time from the first to the last packet of a classic pcap file, or None."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if len(data) < 24:
        return None
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        order = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        order = ">"
    else:
        return None                      # pcapng or not a capture
    scale = 1e9 if magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d") else 1e6
    pos, first, last = 24, None, None
    while pos + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(order + "IIII", data[pos:pos + 16])
        t = sec + frac / scale
        first = t if first is None else first
        last = t
        pos += 16 + incl
    if first is None:
        return None
    return int(round((last - first) * 1000))


def hold_ms(play_dtmf: str | None, duration_ms: int | None) -> int | None:
    """Milliseconds to stay in the call after the last media action (None: use -d)."""
    if duration_ms is not None:
        return None
    return 1000 + DIGIT_MS * len(play_dtmf or "")


def one_way_file(every: int) -> str:
    """SIPp injection file (``-inf``) read in sequence: field0 is 1 on every ``every``-th call."""
    return "SEQUENTIAL\n" + "0;\n" * (every - 1) + "1;\n"


def build_media_uac(play_dtmf: str | None, play_pcap: Path | None,
                    duration_ms: int | None, one_way_every: int | None = None) -> str:
    """The SIPp XML of a caller that plays ``play_pcap`` then ``play_dtmf``."""
    port = ("[auto_media_port]" if play_pcap is not None or not play_dtmf
            else "[rtpstream_audio_port]")
    media = []
    if one_way_every:
        # the injection file's field0 is 1 on every Nth line: that call stays silent
        media.append('<nop><action><assignstr assign_to="oneway_s" value="[field0]"/>'
                     '<todouble assign_to="oneway_d" variable="oneway_s"/>'
                     '<test assign_to="oneway" variable="oneway_d" compare="equal" value="1"/>'
                     '</action></nop>')
    if play_pcap is not None:
        # one pcap play at a time per call in SIPp 3.6 (play_dtmf is one too): wait
        # for the file to finish before the digits
        length = pcap_duration_ms(play_pcap) or PCAP_HOLD_MS
        cond = ' condexec="oneway" condexec_inverse="true"' if one_way_every else ""
        media.append(f"<nop{cond}><action><exec play_pcap_audio={quoteattr(str(play_pcap))}/>"
                     f"</action></nop>")
        media.append(f'<pause milliseconds="{length + 200}"/>')
    if play_dtmf:
        media.append(f"<nop><action><exec play_dtmf={quoteattr(str(play_dtmf))}/></action></nop>")
    hold = hold_ms(play_dtmf, duration_ms)
    pause = '<pause/>' if hold is None else f'<pause milliseconds="{hold}"/>'
    actions = "\n  ".join(media)
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<!-- generated by sipscen: a caller with media (runner/sipscen/agents/sipp/media.py) -->
<scenario name="sipscen-media-uac">
  <send retrans="500"><![CDATA[
{_INVITE}
{_OFFER.format(port=port)}
]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true" rrs="true"/>
  <send><![CDATA[
{_IN_DIALOG.format(method="ACK", cseq=1)}
]]></send>
  <pause milliseconds="300"/>
  {actions}
  {pause}
  <send retrans="500"><![CDATA[
{_IN_DIALOG.format(method="BYE", cseq=2)}
]]></send>
  <recv response="200" crlf="true"/>
</scenario>
"""


_UAS_SDP = sdp_body("[auto_media_port]", [(8, "PCMA/8000")], origin="53655766 2353687638")


def build_media_uas(play_pcap: Path) -> str:
    """The SIPp XML of a callee that answers every call with a port of its own
    (PCMA) and plays ``play_pcap`` to the caller's SDP address until the BYE.

    It answers 200 at once, without a 180: a 180 sent a few microseconds
    before the 200 was forwarded after it by Kamailio's UDP workers at 50
    calls/s (measured), and SIPp's caller aborts a call on a 180 it no longer
    expects."""
    ok = uas_response(200, "OK", _UAS_SDP, record_route=True)
    bye_ok = uas_response(200, "OK", tag=False, record_route=True)
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<!-- generated by sipscen: a callee with media (runner/sipscen/agents/sipp/media.py) -->
<scenario name="sipscen-media-uas">
  <recv request="INVITE" crlf="true"/>
  <send retrans="500"><![CDATA[
{ok}
]]></send>
  <recv request="ACK" crlf="true"/>
  <nop><action><exec play_pcap_audio={quoteattr(str(play_pcap))}/></action></nop>
  <recv request="BYE"/>
  <send><![CDATA[
{bye_ok}
]]></send>
</scenario>
"""
