"""Real third-party captures give exactly their known digits, with no options."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from sipscen.analysis import analyze_capture

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / ".." / "shared" / "corpus"
MANIFEST = CORPUS / "MANIFEST.json"
SIPP = Path("/usr/share/sip-tester")


def _corpus_cases():
    if not MANIFEST.is_file():
        return []
    captures = json.loads(MANIFEST.read_text())["captures"]
    cases = []
    for rel, info in sorted(captures.items()):
        if "dtmf_digits" in info:
            digits = info["dtmf_digits"]
        else:
            digits = "".join(info["dtmf"].values())
        cases.append(pytest.param(rel, digits, info, id=Path(rel).stem))
    return cases


needs_corpus = pytest.mark.skipif(not MANIFEST.is_file(), reason=f"corpus not found at {CORPUS}")


@needs_corpus
@pytest.mark.parametrize("rel, digits, info", _corpus_cases())
def test_corpus_capture_gives_its_known_digits(rel, digits, info):
    a = analyze_capture(CORPUS / rel)
    assert a.digits() == digits
    assert a.warnings == []
    for ev in a.dtmf:
        assert ev["method"] == "rfc4733"
        assert ev["ssrc"].startswith("0x") and len(ev["ssrc"]) == 10
    if "dtmf" in info:   # digits attributed to the right SSRC
        for ssrc, want in info["dtmf"].items():
            assert "".join(e["digit"] for e in a.dtmf if e["ssrc"] == ssrc) == want
    times = [e["time"] for e in a.dtmf]
    assert times == sorted(times)


@needs_corpus
def test_opus_frames_are_not_events():
    a = analyze_capture(CORPUS / "captures/asterisk-opus-2013785496.pcap")
    (stream,) = a.rtp_streams
    assert stream["payload_types"] == [96, 101]
    assert stream["event_payload_types"] == [101]
    assert {e["payload_type"] for e in a.dtmf} == {101}


SIPP_DIGITS = {**{str(d): str(d) for d in range(10)}, "star": "*", "pound": "#"}


@pytest.mark.skipif(not SIPP.is_dir(), reason="sip-tester samples not installed")
@pytest.mark.parametrize("name, digit", sorted(SIPP_DIGITS.items()))
def test_sipp_samples(name, digit):
    path = SIPP / f"dtmf_2833_{name}.pcap"
    if not path.is_file():
        pytest.skip(f"{path} missing")
    a = analyze_capture(path)
    assert a.digits() == digit
    (ev,) = a.dtmf
    assert ev["payload_type"] == 101
    assert ev["duration_ms"] > 0


@needs_corpus
def test_srtp_corpus_capture_with_its_key():
    info = json.loads(MANIFEST.read_text())["captures"]["captures/srtp-decrypt-marseillaise-srtp.pcap"]["srtp"]
    path = CORPUS / "captures/srtp-decrypt-marseillaise-srtp.pcap"
    a = analyze_capture(path, srtp_keys=[f"{info['suite']} inline:{info['inline_key']}"])
    (s,) = a.rtp_streams
    assert s["ssrc"] == info["ssrc"]
    assert s["packets"] == info["packets"] == 11888
    assert s["srtp"] == {"suite": info["suite"], "key_source": "given",
                         "authenticated": 11888, "auth_failed": 0}
    # without the suite name: the suite is found by authenticating
    b = analyze_capture(path, srtp_keys=[f"inline:{info['inline_key']}"])
    assert b.rtp_streams[0]["srtp"]["authenticated"] == 11888
    assert b.rtp_streams[0]["srtp"]["suite"] == info["suite"]


@needs_corpus
def test_srtp_corpus_capture_with_a_wrong_key_authenticates_nothing():
    path = CORPUS / "captures/srtp-decrypt-marseillaise-srtp.pcap"
    wrong = "AES_CM_128_HMAC_SHA1_80 inline:" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk"
    a = analyze_capture(path, srtp_keys=[wrong])
    (s,) = a.rtp_streams
    # still SRTP (its payload is ciphertext), but nothing authenticates
    assert s["srtp"] is not None
    assert s["srtp"]["authenticated"] == 0
    assert s["srtp"]["auth_failed"] == 11888


@needs_corpus
def test_srtp_corpus_capture_without_key_is_not_decoded():
    a = analyze_capture(CORPUS / "captures/srtp-decrypt-marseillaise-srtp.pcap")
    assert a.packets == 11888
    assert a.digits() == ""
