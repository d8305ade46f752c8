"""Third-party captures (../shared/corpus, the RFC 2833 samples of Debian's sip-tester):
RTP without SIP. Each scaffolds into a scenario that validates, says what it had to
assume, carries the known digits; a few run for real and pass."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from sipscen.scenario.build import validate_file
from sipscen.scenario.loader import load_yaml
from tests.scaffold.captures import CORPUS

MANIFEST = CORPUS / "MANIFEST.json"
SIPP_SAMPLES = Path("/usr/share/sip-tester")


def _cases():
    cases = []
    if MANIFEST.is_file():
        for rel, meta in json.loads(MANIFEST.read_text())["captures"].items():
            digits = meta.get("dtmf_digits")
            if digits is None and isinstance(meta.get("dtmf"), dict):
                digits = "".join(meta["dtmf"].values())
            cases.append(pytest.param(CORPUS / rel, digits, id=Path(rel).stem))
    names = {"star": "*", "pound": "#"}
    for pcap in sorted(SIPP_SAMPLES.glob("dtmf_2833_*.pcap")):
        tail = pcap.stem.rsplit("_", 1)[1]
        cases.append(pytest.param(pcap, names.get(tail, tail), id=pcap.stem))
    return cases


CASES = _cases()


@pytest.mark.skipif(not CASES, reason=f"no corpus at {CORPUS} and no {SIPP_SAMPLES}")
@pytest.mark.parametrize("capture, digits", CASES)
def test_scaffolds_and_validates(sipscen, tmp_path, capture, digits):
    out = tmp_path / "s.yaml"
    code, _, err = sipscen("scaffold", capture, "-o", out)
    assert code == 0, err
    assert validate_file(out) == []
    assert "warning: the capture holds no SIP" in err        # the assumed call setup is said
    doc = load_yaml(out.read_text(), "s.yaml")
    sent = [e["dtmf"] for e in doc["expect"] if "dtmf" in e]
    rfc = "".join(d["digits"] for d in sent if d["method"] == "rfc4733")
    assert rfc == (digits or ""), (rfc, digits)


@pytest.mark.skipif(not MANIFEST.is_file(), reason=f"corpus not found at {CORPUS}")
def test_srtp_with_the_key(sipscen, tmp_path):
    meta = json.loads(MANIFEST.read_text())["captures"][
        "captures/srtp-decrypt-marseillaise-srtp.pcap"]["srtp"]
    out = tmp_path / "srtp.yaml"
    capture = CORPUS / "captures" / "srtp-decrypt-marseillaise-srtp.pcap"
    code, _, err = sipscen("scaffold", capture, "-o", out, "--srtp-key",
                           f"{meta['suite']} inline:{meta['inline_key']}")
    assert code == 0, err
    doc = load_yaml(out.read_text(), "srtp.yaml")
    assert doc["agents"]["caller"]["srtp"] == {"use": "mandatory"}
    assert {"srtp": {"between": ["caller", "callee"]}} in doc["expect"]
    assert "AES_CM_128_HMAC_SHA1_80" in err                  # the suite it cannot check
    # without the key the stream is not known to be SRTP: no srtp expectation is invented
    code, _, _ = sipscen("scaffold", capture, "-o", tmp_path / "plain.yaml")
    assert code == 0 and "srtp" not in (tmp_path / "plain.yaml").read_text().split("expect:")[1]


RUN = ["asterisk-ulaw-2013785496", "asterisk-dtmf_2833_1_noend", "dtmf_2833_pound"]


@pytest.mark.parametrize("capture, digits", [c for c in CASES if c.id in RUN] or
                         [pytest.param(None, None, marks=pytest.mark.skip("no corpus"))])
def test_corpus_scaffold_runs(sipscen, run_file, tmp_path, no_leftovers, capture, digits):
    out = tmp_path / f"{capture.stem}.yaml"
    assert sipscen("scaffold", capture, "-o", out)[0] == 0
    code, result = run_file(out)
    failed = [(c["name"], c["actual"]) for c in result["checks"] if c["status"] != "passed"]
    assert code == 0 and result["status"] == "passed", failed
    heard = [c for c in result["checks"] if c["name"].startswith("dtmf caller->callee rfc4733")]
    assert heard and all(c["actual"] == digits for c in heard)
