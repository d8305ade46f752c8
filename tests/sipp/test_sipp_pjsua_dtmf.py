"""SIPp -> PJSUA with RFC 2833 DTMF from <exec play_dtmf>: digits at PJSUA and on the wire."""
from __future__ import annotations

import shutil

import pytest

from sipscen.core.results import PASSED

from .conftest import ROOT, by_name, needs_sipp, run_file

pytestmark = [pytest.mark.integration, needs_sipp,
              pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump not installed")]


def test_sipp_play_dtmf_reaches_pjsua_and_the_wire(tmp_path):
    pytest.importorskip("pjsua2")
    result = run_file(ROOT / "examples" / "sipp-dtmf" / "sipp-to-pjsua-dtmf.yaml", tmp_path)
    assert result.status == PASSED, (result.error, [c.to_dict() for c in result.failed_checks])
    checks = by_name(result.checks)
    assert checks["dtmf caller->bob rfc4733 (at bob)"].actual == "1234#"
    assert checks["dtmf caller->bob rfc4733 (wire)"].actual == "1234#"
    digits = [d for d in result.wire["dtmf"] if d["payload_type"] == 96]
    assert "".join(d["digit"] for d in digits) == "1234#"


def test_generated_caller_plays_dtmf_without_any_xml(tmp_path):
    pytest.importorskip("pjsua2")
    result = run_file(ROOT / "examples" / "sipp-dtmf" / "generated-caller-dtmf.yaml", tmp_path)
    assert result.status == PASSED, (result.error, [c.to_dict() for c in result.failed_checks])
    assert by_name(result.checks)["dtmf caller->bob rfc4733 (at bob)"].actual == "159#"
    assert "caller.media_xml" in result.artifacts


PCAP = "/usr/share/sip-tester/g711a.pcap"


@pytest.mark.skipif(not shutil.os.path.exists(PCAP), reason=f"{PCAP} (sip-tester) not found")
def test_generated_caller_plays_a_pcap_then_dtmf(tmp_path):
    pytest.importorskip("pjsua2")
    path = tmp_path / "pcap.yaml"
    path.write_text(f"""name: sipp-pcap-then-dtmf
timeout: 30s
agents:
  bob:
    type: pjsua
    codecs: [PCMA]
    steps:
      - wait: {{event: dtmf, digits: "7", timeout: 15s}}
      - wait: {{event: disconnected, timeout: 10s}}
  caller:
    type: sipp
    target: bob
    user: bob
    duration: 4s
    media: {{play_pcap: {PCAP}, play_dtmf: "7"}}
expect:
  - dtmf: {{from: caller, to: bob, digits: "7", method: rfc4733}}
""")
    result = run_file(path, tmp_path)
    assert result.status == PASSED, (result.error, [c.to_dict() for c in result.failed_checks])
    call = result.agents["bob"]["calls"][0]
    assert call["rtp"]["rx_packets"] > 100      # the pcap's audio arrived at PJSUA
    streams = [s for s in result.wire["rtp_streams"] if 8 in s["payload_types"]]
    assert streams and max(s["packets"] for s in streams) > 100


def test_media_with_inline_messages_is_a_scenario_error(tmp_path):
    path = tmp_path / "bad-media.yaml"
    path.write_text("name: bad-media\ncapture: {enabled: false}\nagents:\n  caller:\n"
                    "    type: sipp\n    target: '127.0.0.1:5060'\n    media: {play_dtmf: '1'}\n"
                    "    messages: ['OPTIONS sip:x SIP/2.0']\n")
    result = run_file(path, tmp_path)
    assert result.status == "error" and result.exit_status == 2
    assert "media.play_pcap/play_dtmf drive sipscen's generated caller" in result.error
