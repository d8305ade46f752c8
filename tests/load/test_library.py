"""The load-with-media scenarios of the library that the other tests do not
cover: through the SBC (rtpengine anchors every call: each direction is judged
on the relay's leg into its receiver), and the deliberately failing one whose
MOS and loss bounds fail at 5 % loss while the rest of it passes."""
from __future__ import annotations

import shutil

import pytest

from sipscen.core.results import FAILED, PASSED
from tests.sipp.conftest import SCENARIOS, by_name, needs_kamailio, needs_sipp, run_file

pytestmark = [pytest.mark.integration, needs_sipp, needs_kamailio,
              pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump not installed")]


@pytest.mark.skipif(shutil.which("rtpengine") is None, reason="rtpengine not installed")
def test_load_with_media_through_the_sbc(tmp_path):
    result = run_file(SCENARIOS / "load" / "media-sbc-rtpengine.yaml", tmp_path)
    assert result.status == PASSED, (result.error, [c.to_dict() for c in result.failed_checks])
    summary = result.load["caller"]
    assert summary["calls"] == 100 and summary["two_way"] == 100
    # both directions judged where they arrive: from the SBC into bob, from it into the caller
    labels = {d["direction"] for d in summary["worst"] + summary["worst_jitter"]}
    assert labels <= {"sut->bob", "sut->caller"} and labels


def test_the_impaired_load_fails_its_mos_and_loss_bounds(tmp_path):
    path = SCENARIOS / "load" / "media-impaired-5pct.yaml"
    assert "deliberately-failing" in path.read_text()
    result = run_file(path, tmp_path)
    checks = by_name(result.checks)
    assert result.status == FAILED
    assert checks["load caller: MOS p5"].status == FAILED
    assert checks["load caller: loss p95"].status == FAILED
    assert "uas->caller 5%" in checks["load caller: loss p95"].message
    for name in ("calls made", "success rate", "two-way media", "setup time p95"):
        assert checks[f"load caller: {name}"].status == PASSED, name
    assert result.agents["uas"]["impair"]["left_out"] == 5       # of the pcap's 100 packets
    series = [r for r in result.load["caller"]["series"] if r["loss_p95"] is not None]
    assert series and all(r["loss_p95"] == 0.05 for r in series)
