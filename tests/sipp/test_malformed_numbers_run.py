"""Issue 20, end to end: real SIPp sends numbers `int()` refuses ("²" as UTF-8, a
5,000-digit Content-Length, ``l: ²``, a CSeq, SDP payload types and rtpmap, a
SIP INFO's Signal and Duration) to the real Kamailio SUT while two real PJSUA
agents make a call (scenarios/malformed/numbers-next-to-a-call.yaml).

Before the fix, the capture analysis stopped at the first of them ("capture
analysis failed: invalid literal for int()", every wire check an error, exit
3). Now each field is a warning naming its frame, and the call's wire checks
(codec, RFC 4733 digits, SIP counts) give their verdicts.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from sipscen.core.results import FAILED, PASSED

from .conftest import SCENARIOS, copy_scenario, needs_kamailio, needs_sipp, run_file

pytestmark = [pytest.mark.integration, needs_sipp, needs_kamailio]

SCENARIO = SCENARIOS / "malformed" / "numbers-next-to-a-call.yaml"
FIELDS = {   # field -> what the first warning about it quotes
    "Content-Length": "'²' is not a decimal number",
    "CSeq": "'3²' is not a decimal number",
    "SDP payload type": "'²' is not a decimal number",
    "SDP a=rtpmap clock rate": "'²' is not a decimal number",
    "SDP a=rtpmap payload type": "'²' is not a decimal number",
    "INFO Signal": "'²' is not a DTMF event",
    "INFO Duration": "'999999999999999999999999'... (5000 characters) is out of range",
}


def _frame(path: Path, number: int) -> bytes:
    """Frame ``number`` (1-based) read by scapy: a reader independent of sipscen's."""
    from scapy.utils import rdpcap
    return bytes(rdpcap(str(path))[number - 1])


def test_the_call_is_judged_on_the_wire_next_to_the_malformed_numbers(tmp_path):
    pytest.importorskip("pjsua2")
    result = run_file(SCENARIO, tmp_path)
    assert result.status == PASSED, (result.error, [c.to_dict() for c in result.failed_checks])
    assert result.exit_status in (None, 0) and not result.error
    assert not any("capture analysis failed" in (c.message or "") for c in result.checks)
    wire_checks = [c for c in result.checks if c.evidence == "wire"]
    assert {c.name for c in wire_checks} >= {"codec alice<->bob (wire)",
                                             "dtmf alice->bob rfc4733 (wire)"}
    assert all(c.status == PASSED for c in wire_checks)
    # every malformed field is a warning of the analysis, naming the frame that carried it
    warnings = result.wire["warnings"]
    pcap = Path(result.artifacts["pcap"])
    for field, quoted in FIELDS.items():
        (text,) = [w for w in warnings if w.split(": ", 1)[-1].startswith(f"{field} ")]
        frame = int(text.split(":", 1)[0].removeprefix("frame "))
        assert f"{field} {quoted}" in text, text
        assert b"\xc2\xb2" in _frame(pcap, frame) or b"9" * 5000 in _frame(pcap, frame), (field, frame)
    (clen,) = [w for w in warnings if ": Content-Length " in w]
    assert clen.endswith("; 2 more message(s) with a malformed Content-Length, the last in frame "
                         + clen.rsplit(" ", 1)[-1])         # '²', 5,000 digits and 'l: ²'
    # the messages themselves are in the analysis, each marked with what was malformed
    attacker = [m for c in result.wire["calls"] for m in c["messages"] if m.get("malformed")]
    assert sorted(m["method"] for m in attacker) == ["INFO", "INVITE", "OPTIONS", "OPTIONS", "OPTIONS"]


def test_negative_control_a_wrong_digit_fails_on_the_wire(tmp_path):
    """The same run expecting digits the call did not carry: the wire check fails
    with what the capture held (a verdict, not an analysis error)."""
    pytest.importorskip("pjsua2")
    path = copy_scenario(SCENARIO, tmp_path, {
        'dtmf: {from: alice, to: bob, digits: "12", method: rfc4733}':
        'dtmf: {from: alice, to: bob, digits: "13", method: rfc4733}'})
    result = run_file(path, tmp_path)
    assert result.status == FAILED and not result.error
    failed = {c.name: c for c in result.failed_checks}
    wire = failed["dtmf alice->bob rfc4733 (wire)"]
    assert wire.expected == "13" and wire.actual == "12"
    assert set(failed) <= {"dtmf alice->bob rfc4733 (wire)", "dtmf alice->bob rfc4733 (at bob)"}
