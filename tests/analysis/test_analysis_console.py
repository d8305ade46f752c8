"""`render_analysis`: readable tables of calls, streams and DTMF."""
from __future__ import annotations

import io
import json

from rich.console import Console

from sipscen.analysis import analyze_capture
from sipscen.cli import main
from sipscen.report.analysis_console import render_analysis


def make(cap):
    call = cap.Call()
    call.invite(1_700_000_000.0, {8: "PCMA/8000", 101: "telephone-event/8000"},
                {8: "PCMA/8000", 101: "telephone-event/8000"}, call_id="render-me")
    pk, _ = cap.digit_packets(12, 1, 1000, 1_700_000_001.0, 0xABCDEF01, 101)
    for t, p in pk:
        call.udp(t, True, p)
    return cap.pcap_of(call)


def test_render_tables(cap):
    a = analyze_capture(make(cap))
    buf = io.StringIO()
    render_analysis(a, Console(file=buf, width=200, color_system=None))
    text = buf.getvalue()
    assert "1 calls, 1 RTP streams, 1 DTMF events" in text
    assert "render-me" in text and "0xabcdef01" in text
    assert "DTMF: A" in text and "plain RTP" in text
    assert "127.0.0.1:4000 -> 127.0.0.2:5000" in text


def test_cli_analyze_json_and_exit_codes(cap, capsys):
    path = make(cap)
    out = io.StringIO()
    assert main(["analyze", "--json", "-", str(path)], stdout=out, stderr=io.StringIO()) == 0
    data = json.loads(out.getvalue())
    assert set(data) >= {"packets", "warnings", "calls", "rtp_streams", "dtmf"}
    assert data["dtmf"][0]["digit"] == "A" and data["dtmf"][0]["ssrc"] == "0xabcdef01"
    bad = cap.path()
    bad.write_bytes(b"GIF89a not a capture")
    err = io.StringIO()
    assert main(["analyze", str(bad)], stdout=io.StringIO(), stderr=err) == 2
    assert "not a pcap or pcapng capture" in err.getvalue()
    assert main(["analyze", "--srtp-key", "zzz", str(path)], stdout=io.StringIO(), stderr=io.StringIO()) == 2
