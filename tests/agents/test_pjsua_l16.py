"""L16 between two PJSUA agents (issue 9). The wheel's L16 comes as
L16/44100/1 and L16/44100/2; the stereo one crashed the worker as soon as
anything was connected to the call's audio (PJMEDIA 2.15.1's mono conference
bridge: `conference.c: write_port: Assertion tx_buf_count <= tx_buf_cap`,
or SIGSEGV with the receive tap). The agent never enables stereo variants:
`codecs: [L16]` is 44.1 kHz mono. Real PJSUA2 and tcpdump."""
from __future__ import annotations

import os

import pytest

from sipscen.analysis import analyze_capture

SCENARIO = """
name: l16
timeout: 30s
agents:
  bob:
    type: pjsua
    codecs: [L16]
    steps:
      - wait: {event: media_active}
      - play: {tone: {frequencies: [600], duration: 1s}}
      - wait: {event: disconnected}
  alice:
    type: pjsua
    codecs: [L16]
    steps:
      - call: {to: bob}
      - wait: {event: media_active}
      - play: {tone: {frequencies: [1000], duration: 1s}}
      - sleep: 200ms
      - hangup: {}
expect:
  - codec: {between: [alice, bob], codec: L16}
  - audio: {from: alice, to: bob, tone: {frequency: 1000Hz, min_duration: 700ms}}
  - audio: {from: bob, to: alice, tone: {frequency: 600Hz, min_duration: 700ms}}
"""


@pytest.mark.integration
@pytest.mark.skipif(os.geteuid() != 0, reason="capturing on lo needs root")
def test_l16_call_with_tones_both_ways_at_the_agents_and_on_the_wire(
        run_json, tmp_path, no_leftovers):
    code, sc, out = run_json(SCENARIO)
    assert code == 0 and sc["status"] == "passed", (out, sc.get("error"))
    names = {c["name"] for c in sc["checks"]}
    assert {"audio alice->bob (at bob)", "audio alice->bob (wire)",
            "audio bob->alice (at alice)", "audio bob->alice (wire)"} <= names
    pcap = next((tmp_path / "art").glob("*/capture.pcap"))
    a = analyze_capture(pcap, keep_audio=True)
    raw = pcap.read_bytes()                     # the SDP on the wire: mono L16 only
    assert b"L16/44100/2" not in raw and b"L16/44100" in raw
    assert {s["audio"]["codec"] for s in a.rtp_streams if s.get("audio")} == {"L16/44100"}
