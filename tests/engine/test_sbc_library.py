"""The SBC library (issue 10): `sipscen run scenarios/sbc -j 2` passes every
scenario except the one tagged deliberately-failing, which is an error naming
the SUT's signal. Real Kamailio, rtpengine, baresip, PJSUA2 and tcpdump."""
from __future__ import annotations

import json
import shutil

import pytest

from .conftest import ROOT

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not all(shutil.which(t) for t in
                                         ("kamailio", "rtpengine", "baresip")),
                                 reason="kamailio, rtpengine-daemon and baresip needed")]
SBC = ROOT / "scenarios" / "sbc"


def test_the_sbc_library_passes_except_the_deliberately_failing_one(tmp_path, sipscen,
                                                                     no_leftovers):
    code, out, err = sipscen("run", SBC, "-j", "2", "--artifacts", tmp_path / "art",
                             "--json", tmp_path / "r.json")
    report = json.loads((tmp_path / "r.json").read_text())
    by_status = {}
    for s in report["scenarios"]:
        by_status.setdefault(s["status"], []).append(s)
    assert len(report["scenarios"]) >= 14
    failing = [s for s in report["scenarios"] if "deliberately-failing" in s["tags"]]
    assert [s["name"] for s in failing] == ["sbc-sut-crash"]
    crash = failing[0]
    assert crash["status"] == "error"
    assert "service 'sut' was killed by signal 11 during the run" in crash["error"]
    assert crash["services"]["sut"]["exited_during_run"] == -11      # kept in the report
    others = [s for s in report["scenarios"] if s not in failing]
    assert [s["name"] for s in others if s["status"] != "passed"] == [], out
    assert code == 1          # the SUT crash is a finding about the SUT, not infrastructure
