"""A distributed load with media: two generator runs (``--generator 1/2`` and
``2/2``, each placing half the calls through its own SUT and callee) merged by
``sipscen report merge`` (the path ``sipscen kube collect`` takes too): the
media summaries merge exactly (histograms summed, counts added) and the media
bounds are judged once, on the merge."""
from __future__ import annotations

import json
import shutil

import pytest

from sipscen.checks import load_media, load_series
from tests.load.conftest import CALLS, scenario_text
from tests.sipp.conftest import needs_kamailio, needs_sipp

pytestmark = [pytest.mark.integration, needs_sipp, needs_kamailio,
              pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump not installed")]


def test_two_generators_merge_into_one_media_verdict(tmp_path, sipscen):
    path = tmp_path / "dist.yaml"
    path.write_text(scenario_text(impair=""))
    reports = []
    for k in (1, 2):
        out = tmp_path / f"gen{k}.json"
        code, _, err = sipscen("run", path, "--generator", f"{k}/2", "--json", out, "-q",
                               "--artifacts", tmp_path / f"art{k}")
        assert code == 0, err
        reports.append(json.loads(out.read_text())["scenarios"][0])
    parts = [r["load"]["caller"] for r in reports]
    assert [p["calls"] for p in parts] == [CALLS // 2, CALLS // 2]
    # a generator leaves the load bounds to the merge
    assert not [c for r in reports for c in r["checks"] if c["name"].startswith("load caller")]
    merged_path = tmp_path / "merged.json"
    code, _, err = sipscen("report", "merge", tmp_path / "gen1.json",
                           tmp_path / "gen2.json", "--json", merged_path)
    assert code == 0, err
    [merged] = json.loads(merged_path.read_text())["scenarios"]
    load = merged["load"]["caller"]
    assert load["generators"] == 2 and load["calls"] == CALLS
    assert load["one_way"] == 2            # call 10 of each generator is silent one way
    for kind in load_media.UNITS:
        both = load_series.hist_merge(dict(parts[0]["histograms"][kind]),
                                     parts[1]["histograms"][kind])
        assert load["histograms"][kind] == both
    checks = {c["name"]: c for c in merged["checks"]}
    mos = checks["load caller: MOS p5 (sum of 2 generators)"]
    assert mos["status"] == "passed" and f"of {CALLS} calls" in mos["actual"]
    assert checks["load caller: calls without two-way media (sum of 2 generators)"][
        "actual"].startswith("2 (2 one-way")
    assert sum(r["calls_per_s"] for r in load["series"]) * load["interval_s"] == pytest.approx(
        CALLS)
