"""Media truth with real PJSUA2 calls and real tcpdump: tones, one-way audio,
in-band DTMF, talk-off, RTP quality through the impairment relay."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from sipscen.analysis import analyze_capture
from tests.checks.concealment import concealed

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(os.geteuid() != 0, reason="capturing on lo needs root")]

TONE = """
name: tone-{srtp}
timeout: 30s
agents:
  bob:
    type: pjsua
    codecs: [PCMA]
    srtp: {{use: {srtp}}}
    steps:
      - wait: {{event: disconnected}}
  alice:
    type: pjsua
    codecs: [PCMA]
    srtp: {{use: {srtp}}}
    steps:
      - call: {{to: bob}}
      - wait: {{event: media_active}}
      - play: {{tone: {{frequencies: [{freq}], duration: 1200ms}}}}
      - hangup: {{}}
expect:
  - audio: {{from: alice, to: bob, tone: {{frequency: 1kHz, min_duration: 800ms}}}}
  - audio: {{from: bob, to: alice, not_silent: true}}
"""


def checks(scenario):
    return {c["name"]: c for c in scenario["checks"]}


@pytest.mark.parametrize("srtp", ["disabled", "mandatory"])
def test_a_1khz_tone_from_alice_is_found_at_bob_and_on_the_wire(run_json, tmp_path, srtp, no_leftovers):
    code, sc, out = run_json(TONE.format(srtp=srtp, freq=1000))
    c = checks(sc)
    for where in ("at bob", "wire"):
        tone = c[f"audio alice->bob ({where})"]
        assert tone["status"] == "passed", out
        assert tone["actual"]["frequencies"][0] == pytest.approx(1000, abs=10)
        assert tone["actual"]["tone_seconds"] >= 0.8
    # bob sent nothing: the other direction fails, and says it is one-way audio
    assert code == 1
    for where in ("at alice", "wire"):
        back = c[f"audio bob->alice ({where})"]
        assert back["status"] == "failed"
        assert "one-way audio: bob->alice is silent while alice->bob carries audio" in back["message"]
    stream = next(s for s in sc["wire"]["rtp_streams"] if s["audio"] and s["audio"]["frequencies"])
    if srtp == "mandatory":
        assert stream["srtp"]["authenticated"] == stream["packets"]
    else:
        assert stream["srtp"] is None


def test_a_wrong_tone_fails_and_says_what_was_heard(run_json, tmp_path, no_leftovers):
    code, sc, out = run_json(TONE.format(srtp="disabled", freq=1300))
    c = checks(sc)["audio alice->bob (at bob)"]
    assert code == 1 and c["status"] == "failed"
    assert "heard 1300 Hz" in c["message"] and "one-way" not in c["message"]


INBAND = """
name: inband
timeout: 30s
agents:
  bob:
    type: pjsua
    codecs: [PCMU]
    steps:
      - wait: {event: dtmf, digits: "19*#", timeout: 10s}
      - wait: {event: disconnected}
  alice:
    type: pjsua
    codecs: [PCMU]
    steps:
      - call: {to: bob}
      - wait: {event: media_active}
      - dtmf: {digits: "19*#", method: inband, duration: 70ms, gap: 60ms}
      - sleep: 300ms
      - hangup: {}
expect:
  - dtmf: {from: alice, to: bob, digits: "19*#", method: inband}
"""


def test_inband_dtmf_end_to_end_at_the_agent_and_on_the_wire(run_json, tmp_path, no_leftovers):
    code, sc, out = run_json(INBAND)
    assert code == 0, out
    got = sc["agents"]["bob"]["dtmf_received"]
    assert [(d["digit"], d["method"]) for d in got] == [(d, "inband") for d in "19*#"]
    assert all(50 <= d["duration_ms"] <= 100 for d in got)
    wire = [d for d in sc["wire"]["dtmf"] if d["method"] == "inband"]
    assert "".join(d["digit"] for d in wire) == "19*#"
    assert {d["payload_type"] for d in wire} == {0}
    assert all(-14 <= d["level_dbfs"] <= -6 for d in wire)          # Q.23 level: about -7 dBm0 per tone
    assert [d["method"] for d in sc["agents"]["alice"]["dtmf_sent"]] == ["inband"] * 4


@pytest.fixture
def speech(tmp_path):
    if not shutil.which("espeak-ng") or not shutil.which("sox"):
        pytest.skip("espeak-ng and sox needed")
    raw, out = tmp_path / "speech22.wav", tmp_path / "speech.wav"
    subprocess.run(["espeak-ng", "-w", str(raw), "Your call is important to us. Please press one "
                    "for sales, two for support, or hold the line for an operator."],
                   check=True, capture_output=True, timeout=60)
    subprocess.run(["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(out)],
                   check=True, capture_output=True, timeout=60)
    return out


TALKOFF = """
name: talk-off
timeout: 40s
agents:
  bob:
    type: pjsua
    codecs: [PCMA]
    steps:
      - wait: {{event: disconnected, timeout: 30s}}
  alice:
    type: pjsua
    codecs: [PCMA]
    steps:
      - call: {{to: bob}}
      - wait: {{event: media_active}}
      - play: {{file: {speech}}}
      - play: {{tone: {{frequencies: [350, 440], duration: 1s}}}}
      - play: {{tone: {{frequencies: [440, 480], duration: 1s}}}}
      - play: {{tone: {{frequencies: [480, 620], duration: 1s}}}}
      - play: {{tone: {{frequencies: [425], duration: 1s}}}}
      - hangup: {{}}
expect:
  - audio: {{from: alice, to: bob, not_silent: true}}
"""


def test_talk_off_speech_and_call_progress_tones_give_no_digits(run_json, tmp_path, speech, no_leftovers):
    code, sc, out = run_json(TALKOFF.format(speech=speech))
    assert code == 0, out
    assert checks(sc)["audio alice->bob (at bob)"]["actual"]["active_seconds"] > 8
    assert sc["agents"]["bob"]["dtmf_received"] == []
    assert sc["wire"]["dtmf"] == []
    # the same capture analysed again, in-band detection explicitly on
    a = analyze_capture(sc["artifacts"]["pcap"], inband=True)
    assert a.dtmf == [] and sum(s["packets"] for s in a.rtp_streams) > 500


IMPAIRED = """
name: impaired
timeout: 30s
agents:
  bob:
    type: pjsua
    codecs: [PCMU]
    impair: {{loss: {loss}, delay: 30ms, jitter: 10ms, duplicate: 2%, seed: 3}}
    steps:
      - wait: {{event: disconnected, timeout: 20s}}
  alice:
    type: pjsua
    codecs: [PCMU]
    steps:
      - call: {{to: bob}}
      - wait: {{event: media_active}}
      - play: {{tone: {{frequencies: [1000], duration: 3s}}}}
      - hangup: {{}}
expect:
  - rtp: {{from: alice, to: bob, min_packets: 100, min_mos: 4.2}}
  - rtp: {{from: bob, to: alice, min_packets: 100, max_loss: 0%}}
"""


def test_impairment_relay_lowers_mos_in_one_direction_only(run_json, tmp_path, no_leftovers):
    code, sc, out = run_json(IMPAIRED.format(loss="12%"))
    c = checks(sc)
    assert code == 1
    for where in ("at bob", "wire"):
        into_bob = c[f"rtp alice->bob ({where})"]
        assert into_bob["status"] == "failed" and "MOS" in into_bob["message"], out
        assert 5 <= into_bob["actual"]["loss_pct"] <= 25
        assert into_bob["actual"]["mos"] < 3.6
        assert c[f"rtp bob->alice ({'at alice' if where == 'at bob' else 'wire'})"]["status"] == "passed"
    imp = sc["agents"]["bob"]["impair"]
    assert imp["counts"]["dropped"] > 10 and imp["counts"]["duplicated"] > 0
    # every PJSUA agent went through its face: no RTP between the real addresses
    faces = {sc["agents"][n]["media_face"] for n in ("alice", "bob")}
    for s in sc["wire"]["rtp_streams"]:
        hosts = {s["src"].rsplit(":", 1)[0], s["dst"].rsplit(":", 1)[0]}
        assert hosts & faces, s


def test_no_impairment_keeps_the_verdicts_clean(run_json, tmp_path, no_leftovers):
    code, sc, out = run_json(IMPAIRED.format(loss="0%"))
    assert code == 0, out
    assert checks(sc)["rtp alice->bob (wire)"]["actual"]["loss_pct"] == 0


# ITU-T Q.24 / Bellcore: 40 ms tones, 40 ms pauses; twist +4 dB (high group louder) and
# -8 dB (high group quieter); light noise; through PCMA, heard at bob's tap and on the wire
# (dtmf_audio's twist_db is how much quieter the high group is)
EDGE = """
name: inband-edge
timeout: 40s
agents:
  bob:
    type: pjsua
    codecs: [PCMA]
    steps:
      - wait: {{event: disconnected, timeout: 30s}}
  alice:
    type: pjsua
    codecs: [PCMA]
    steps:
      - call: {{to: bob}}
      - wait: {{event: media_active}}
      - play: {{file: {high_louder}}}
      - play: {{file: {high_quieter}}}
      - sleep: 300ms
      - hangup: {{}}
expect:
  - dtmf: {{from: alice, to: bob, digits: "{digits}{digits}", method: inband}}
  - dtmf: {{from: alice, to: bob, digits: "{digits}{wrong}", method: inband}}
"""
EDGE_DIGITS = "1234567890*#ABCD"


def _edge_wav(path, twist_db: float, seed: int):
    import numpy as np
    from sipscen.analysis.audio import write_wav
    from sipscen.analysis.inband import dtmf_audio
    tones = dtmf_audio(EDGE_DIGITS, duration=0.04, gap=0.04, twist_db=twist_db).astype(float)
    audio = np.concatenate([np.zeros(1600), tones, np.zeros(1600)])
    audio += np.random.default_rng(seed).normal(0, 32768 * 10 ** (-35 / 20) / np.sqrt(2), len(audio))
    write_wav(path, audio.clip(-32768, 32767).astype(np.int16), 8000)
    return path


def test_inband_dtmf_at_the_q24_edge_at_the_agent_and_on_the_wire(run_json, tmp_path, no_leftovers):
    wrong = EDGE_DIGITS[:-1] + "1"                      # the negative control: one digit off
    text = EDGE.format(high_louder=_edge_wav(tmp_path / "high-louder.wav", -4.0, 1),
                       high_quieter=_edge_wav(tmp_path / "high-quieter.wav", 8.0, 2),
                       digits=EDGE_DIGITS, wrong=wrong)
    for attempt in range(3):          # again only when bob's own log says it concealed audio
        code, sc, out = run_json(text, name=f"edge{attempt}.yaml")
        c = sc["checks"]
        right, wrong_rows = c[:2], c[2:]
        # the wire: every attempt
        assert [(r["evidence"], r["status"]) for r in c if r["evidence"] == "wire"] == \
            [("wire", "passed"), ("wire", "failed")], out
        wire = [d for d in sc["wire"]["dtmf"] if d["method"] == "inband"]
        assert "".join(d["digit"] for d in wire) == EDGE_DIGITS * 2
        if right[0]["status"] == "passed" or not concealed(sc, "bob"):
            break
    assert code == 1, out
    assert [r["status"] for r in right] == ["passed", "passed"], out
    assert {r["evidence"] for r in right} == {"agent", "wire"}
    assert [r["status"] for r in wrong_rows] == ["failed", "failed"], out
    got = [d for d in sc["agents"]["bob"]["dtmf_received"] if d["method"] == "inband"]
    assert "".join(d["digit"] for d in got) == EDGE_DIGITS * 2
    assert all(25 <= d["duration_ms"] <= 60 for d in got), got
