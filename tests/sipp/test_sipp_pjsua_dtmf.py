"""SIPp -> PJSUA with RFC 2833 DTMF from <exec play_dtmf>: digits at PJSUA and on the wire."""
from __future__ import annotations

import shutil

import pytest

from runner.engine.results import PASSED

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
