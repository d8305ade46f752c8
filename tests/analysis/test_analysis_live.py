"""End to end on the loopback: tcpdump captures a real SIPp call that sends RFC 2833 digits.

SIPp's ``play_dtmf`` sends telephone-events on payload type 96 (fixed, so both
SDPs declare ``96 telephone-event/8000``). Captured on ``lo`` (Ethernet) and on
``any`` (Linux cooked v2) at once; both captures must give the digits, the
call and the stream, and agree with tshark.
"""
from __future__ import annotations

import shutil
import struct

import pytest

from sipscen.analysis import analyze_capture
from sipscen.analysis.pcap import CaptureReader
from sipscen.capture.tcpdump import Capture, port_filter
from sipscen.core import process
from sipscen.core.ports import PortAllocator

pytestmark = pytest.mark.integration

SDP = """v=0
o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0 96
a=rtpmap:0 PCMU/8000
a=rtpmap:96 telephone-event/8000
"""

UAC = f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="dtmf uac">
<send retrans="500"><![CDATA[
INVITE sip:bob@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: alice <sip:alice@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: bob <sip:bob@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: sip:alice@[local_ip]:[local_port]
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

{SDP}]]></send>
<recv response="100" optional="true"/>
<recv response="200" rtd="true"/>
<send><![CDATA[
ACK sip:bob@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: alice <sip:alice@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: bob <sip:bob@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Contact: sip:alice@[local_ip]:[local_port]
Max-Forwards: 70
Content-Length: 0

]]></send>
<nop><action><exec play_dtmf="159#"/></action></nop>
<pause milliseconds="2500"/>
<send retrans="500"><![CDATA[
BYE sip:bob@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: alice <sip:alice@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: bob <sip:bob@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 2 BYE
Contact: sip:alice@[local_ip]:[local_port]
Max-Forwards: 70
Content-Length: 0

]]></send>
<recv response="200" crlf="true"/>
</scenario>
"""

UAS = f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="dtmf uas">
<recv request="INVITE" crlf="true"/>
<send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Content-Type: application/sdp
Content-Length: [len]

{SDP}]]></send>
<recv request="ACK" crlf="true"/>
<recv request="BYE"/>
<send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
</scenario>
"""


@pytest.mark.skipif(not (shutil.which("sipp") and shutil.which("tcpdump")), reason="sipp/tcpdump not installed")
def test_sipp_call_with_dtmf_captured_on_lo_and_any(tmp_path, tshark):
    ports = PortAllocator()
    uas_port, uac_port = ports.port(), ports.port()
    uas_media, uac_media = ports.range(4), ports.range(4)
    cp1, cp2 = ports.port(), ports.port()
    (tmp_path / "uac.xml").write_text(UAC)
    (tmp_path / "uas.xml").write_text(UAS)
    bpf = port_filter([uas_port, uac_port, uas_media, uac_media])
    caps = [Capture(tmp_path / "lo.pcap", "lo", bpf), Capture(tmp_path / "any.pcap", "any", bpf)]
    procs = []
    try:
        for c in caps:
            c.start()
        sipp = process.find_tool("sipp")
        common = ["-i", "127.0.0.1", "-mi", "127.0.0.1", "-ci", "127.0.0.1", "-nostdin", "-m", "1",
                  "-timeout", "20s", "-t", "u1"]
        uas = process.start("uas", [sipp, "-sf", tmp_path / "uas.xml", "-p", uas_port, "-mp", uas_media[0],
                                    "-cp", cp1, *common], log_dir=tmp_path)
        procs.append(uas)
        uac = process.start("uac", [sipp, "-sf", tmp_path / "uac.xml", f"127.0.0.1:{uas_port}",
                                    "-p", uac_port, "-mp", uac_media[0], "-cp", cp2, *common], log_dir=tmp_path)
        procs.append(uac)
        assert uac.wait(30) == 0, uac.stderr_tail()
        assert uas.wait(10) == 0, uas.stderr_tail()
    finally:
        for p in procs:
            p.stop(grace=2)
        for c in caps:
            c.stop()
        ports.release()
    for name in ("lo.pcap", "any.pcap"):
        a = analyze_capture(tmp_path / name)
        assert a.digits() == "159#", name
        (call,) = a.calls
        assert [m["summary"].split()[0] for m in call["messages"]] == ["INVITE", "200", "ACK", "BYE", "200"]
        assert all(e["call_id"] == call["call_id"] for e in a.dtmf)
        assert {e["payload_type"] for e in a.dtmf} == {96}
        assert all(e["dst"] == f"127.0.0.1:{uas_media[0]}" for e in a.dtmf)
        theirs = tshark(tmp_path / name, heuristic=False)          # tshark learns PT 96 from the SDP too
        assert "".join("0123456789*#ABCD"[e] for _s, _t, e in theirs) == "159#"
    # the same media without its SIP (a capture started mid-call): events found by content
    with CaptureReader(tmp_path / "lo.pcap") as reader:
        frames = [(t, f) for t, _lt, f in reader.records() if b"SIP/2.0" not in f]
    rtp_only = tmp_path / "rtp-only.pcap"
    with open(rtp_only, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for t, f in frames:
            out.write(struct.pack("<IIII", int(t), round((t - int(t)) * 1e6), len(f), len(f)) + f)
    b = analyze_capture(rtp_only)
    assert b.calls == [] and b.digits() == "159#"
    # the stream to the callee's media port (not the first stream: which stream the
    # capture shows first is a race between the two SIPp processes)
    (events,) = [s for s in b.rtp_streams if s["dst"] == f"127.0.0.1:{uas_media[0]}"]
    assert events["event_payload_types"] == [96]
