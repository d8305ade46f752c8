"""Opus on real calls (issue 9): two baresip agents (the pjsua2 wheel has no
opus) each send a sine over opus, plain and SDES-SRTP; the tone frequency is
judged on the wire both ways (libopus decodes the capture). baresip records
nothing it receives (a null sink), so the wire is the evidence.
Real baresip, tcpdump, libopus."""
from __future__ import annotations

import json
import os
import shutil

import pytest

from sipscen.analysis import analyze_capture, opus

from ..engine.conftest import ROOT

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(os.geteuid() != 0, reason="capturing on lo needs root"),
              pytest.mark.skipif(shutil.which("baresip") is None, reason="baresip needed"),
              pytest.mark.skipif(not opus.available(), reason="libopus.so.0 needed")]

SCENARIO = ROOT / "scenarios" / "media" / "tone-opus.yaml"


def run(sipscen, tmp_path, path):
    report = tmp_path / "r.json"
    code, out, err = sipscen("run", path, "--json", report, "--artifacts", tmp_path / "art", "-q")
    return code, json.loads(report.read_text())["scenarios"], out + err


def test_opus_tones_both_ways_plain_and_srtp_on_the_wire(sipscen, tmp_path, no_leftovers):
    code, scenarios, out = run(sipscen, tmp_path, SCENARIO)
    assert code == 0, out
    assert len(scenarios) == 2
    for sc in scenarios:
        c = {x["name"]: x for x in sc["checks"]}
        assert sc["status"] == "passed", out
        assert c["audio alice->bob (wire)"]["actual"]["frequencies"][0] == pytest.approx(1000, abs=5)
        assert c["audio bob->alice (wire)"]["actual"]["frequencies"][0] == pytest.approx(600, abs=5)
    # the capture, read again on its own: opus both ways at 48 kHz, SRTP authenticated
    for pcap in sorted((tmp_path / "art").glob("*/capture.pcap")):
        a = analyze_capture(pcap, keep_audio=True)
        streams = [s for s in a.rtp_streams if s.get("audio")]
        assert len(streams) == 2, pcap
        assert {s["audio"]["codec"] for s in streams} == {"OPUS/48000"}
        assert sorted(round(s["audio"]["frequencies"][0], -1) for s in streams) == [600, 1000]
        if "encrypted-true" in pcap.parent.name:
            assert all(s["srtp"]["authenticated"] == s["packets"] > 50 for s in streams)


def test_a_wrong_opus_tone_fails_naming_what_the_wire_carried(sipscen, tmp_path, no_leftovers):
    text = SCENARIO.read_text().replace("frequency: 1000Hz", "frequency: 1500Hz")
    path = tmp_path / "wrong.yaml"
    path.write_text(text.replace("  - {srtp: mandatory, encrypted: true}\n", ""))
    code, scenarios, out = run(sipscen, tmp_path, path)
    assert code == 1, out
    c = {x["name"]: x for x in scenarios[0]["checks"]}
    wrong = c["audio alice->bob (wire)"]
    assert wrong["status"] == "failed" and "heard 1000 Hz" in wrong["message"], wrong
    assert c["audio bob->alice (wire)"]["status"] == "passed"
