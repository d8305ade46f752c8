"""The round trip, for real, over a representative subset of the library: run a scenario
with capture, scaffold from its capture, run the scaffold against the same SUT, and
compare the two captures (SIP ladder per dialog and hop, codecs, SRTP, DTMF). The
whole library: bench/roundtrip_scaffold.py."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from sipscen.scaffold.roundtrip import compare, contacts, own_calls, summarise_capture, \
    sut_options
from tests.scaffold.captures import ROOT

SUBSET = [
    ("examples/demo.yaml", None),                       # SRTP, PCMA, RFC 4733 digits
    ("examples/dtmf-sip-info.yaml", None),              # DTMF by SIP INFO
    ("scenarios/callflows/hold-resume.yaml", None),     # the Kamailio SUT, registration, hold
    ("scenarios/callflows/transfer-blind.yaml", None),  # three parties, REFER, NOTIFY
    ("scenarios/callflows/early-media.yaml", None),     # manual answer, 183 with SDP
    ("scenarios/callflows/busy-486.yaml", None),        # a refused call
    ("scenarios/register/digest-auth.yaml", None),      # SIPp inline REGISTERs with auth
    ("scenarios/media/tone-opus.yaml", "srtp=mandatory"),   # opus: baresip agents
]


def original_and_scaffold(sipscen, run_file, tmp_path, rel: str, keyword: str | None):
    path = ROOT / rel
    code, orig = run_file(path, *(("-k", keyword) if keyword else ()))
    # the original must itself have run cleanly: a crash there is no scaffold's finding
    assert orig["status"] == "passed", ("the original run did not pass", orig.get("error"))
    capture = Path(orig["artifacts"]["dir"]) / "capture.pcap"
    assert capture.is_file(), orig
    own = contacts(orig)
    args = [a for s in sut_options(path) for a in ("--sut", s)]
    for cid in own_calls(capture, own) or []:       # another run's packets: its own calls
        args += ["--call", cid]
    out = tmp_path / f"{path.stem}-scaffold.yaml"
    scode, _, err = sipscen("scaffold", capture, "-o", out, *args)
    assert scode == 0, err
    return orig, capture, own, out


@pytest.mark.parametrize("rel, keyword", SUBSET, ids=[Path(r).stem for r, _ in SUBSET])
def test_round_trip(sipscen, run_file, tmp_path, no_leftovers, rel, keyword):
    orig, capture, own, out = original_and_scaffold(sipscen, run_file, tmp_path, rel, keyword)
    code, new = run_file(out)
    failed = [(c["name"], c["expected"], c["actual"]) for c in new["checks"]
              if c["status"] != "passed"]
    assert new["status"] == "passed", (new.get("error"), failed, out.read_text())
    assert code == 0
    diffs = compare(summarise_capture(capture, own),
                    summarise_capture(Path(new["artifacts"]["dir"]) / "capture.pcap",
                                      contacts(new)))
    assert diffs == [], diffs


def test_a_false_expectation_in_a_scaffold_fails(sipscen, run_file, tmp_path, no_leftovers):
    """Negative control: the scaffold of the demo with its DTMF expectation made false
    (1235# for the 1234# sent) fails, at the agent and on the wire."""
    _, _, _, out = original_and_scaffold(sipscen, run_file, tmp_path, "examples/demo.yaml",
                                         None)
    text = out.read_text()
    assert 'digits: "1234#", method: rfc4733}' in text
    out.write_text(re.sub(r'(- dtmf: \{from: alice, to: bob, digits: )"1234#"', r'\1"1235#"',
                          text))
    code, new = run_file(out)
    assert code == 1 and new["status"] == "failed"
    failed = {c["name"] for c in new["checks"] if c["status"] == "failed"}
    assert any(n.startswith("dtmf alice->bob rfc4733") for n in failed), failed


def test_compare_sees_a_different_capture(sipscen, run_file, tmp_path, no_leftovers):
    """Negative control of the comparison: two different calls are told apart; one
    capture against itself is not."""
    _, demo = run_file(ROOT / "examples" / "demo.yaml")
    _, info = run_file(ROOT / "examples" / "dtmf-sip-info.yaml")
    a = summarise_capture(Path(demo["artifacts"]["dir"]) / "capture.pcap", contacts(demo))
    b = summarise_capture(Path(info["artifacts"]["dir"]) / "capture.pcap", contacts(info))
    assert compare(a, a) == []
    diffs = compare(a, b)
    assert any("codec" in d for d in diffs) and any("DTMF" in d for d in diffs), diffs


def test_one_sided_capture_runs_against_the_example_sut(sipscen, run_file, tmp_path,
                                                        no_leftovers):
    """The far end stands in for the leg the capture lacks: through the placeholder (the
    example Kamailio) the call, its codec, media and digits are reproduced; what the
    customer's SBC did itself and the example SUT does not (challenge the INVITE: 407) is
    exactly what fails."""
    from tests.scaffold.captures import traffic_gen

    capture = tmp_path / "phone-side.pcap"
    traffic_gen.write_one_side(capture)
    out = tmp_path / "phone-side.yaml"
    assert sipscen("scaffold", capture, "-o", out)[0] == 0
    code, result = run_file(out)
    failed = {c["name"] for c in result["checks"] if c["status"] != "passed"}
    assert failed == {"sip u4100->sut: sequence", "sip sut->u4100: sequence"}, failed
    passed = {c["name"] for c in result["checks"] if c["status"] == "passed"}
    assert {"call u4100->u4101: answered", "dtmf u4100->u4101 rfc4733 (at u4101)",
            "dtmf u4100->u4101 rfc4733 (wire)", "codec at u4101"} <= passed
