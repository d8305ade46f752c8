"""The load charts from a real small load run with media (SIPp through Kamailio).

20 calls at 10 calls/s, 3 s of real speech both ways from SIPp's pcap play,
every 5th caller silent (one-way), judged per 1 s interval. The HTML report of
that run, in headless Chromium: one chart set for the caller, one bar per
interval of the JSON's series with heights in proportion to its calls/s, one
MOS dot per interval that had media, the MOS bound drawn where the load
expectation put it. Negative control: the same result without its series
draws no chart.
"""
from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from sipscen.cli import main
from sipscen.report.html import write_html
from sipscen.report.json_report import results_from_json_dict

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(shutil.which("sipp") is None, reason="sipp not installed"),
              pytest.mark.skipif(shutil.which("kamailio") is None, reason="kamailio not installed")]

ROOT = Path(__file__).resolve().parents[2]
PCAP = ROOT / "scenarios" / "load" / "audio" / "g711a-3s.pcap"
CFG = ROOT / "examples" / "sut" / "kamailio.cfg"
CALLS = 20

SCENARIO = f"""name: load-media-chart
timeout: 30s
services:
  sut:
    command: [kamailio, -DD, -E, -f, {CFG}, -l, "udp:127.0.0.1:${{sut.port}}",
              -A, "UAS_ADDR=${{uas.hostport}}"]
    ready: {{sip_options: true, timeout: 10s}}
agents:
  uas:
    type: sipp
    scenario: uas
    calls: {CALLS}
    media: {{play_pcap: {PCAP}}}
  caller:
    type: sipp
    target: sut
    user: "9000"
    rate: 10
    calls: {CALLS}
    limit: 60
    duration: 0
    media: {{play_pcap: {PCAP}, one_way_every: 5}}
expect:
  - load: {{agent: caller, calls_min: {CALLS}, mos_p5_min: 3.5, loss_p95_max: 5%,
            one_way_calls_max: 4, interval: 1s}}
"""


def test_charts_of_a_real_load_run(tmp_path, page):
    path = tmp_path / "load.yaml"
    path.write_text(SCENARIO)
    report, html = tmp_path / "r.json", tmp_path / "r.html"
    out, err = io.StringIO(), io.StringIO()
    code = main(["run", str(path), "--json", str(report), "--html", str(html),
                 "--artifacts", str(tmp_path / "art"), "-q"], stdout=out, stderr=err)
    data = json.loads(report.read_text())
    scenario = data["scenarios"][0]
    assert code == 0, (out.getvalue(), err.getvalue(), scenario["checks"])
    entry = scenario["load"]["caller"]
    series = entry["series"]
    assert len(series) >= 2 and entry["one_way"] == CALLS // 5

    page.goto(html.as_uri())
    page.wait_for_load_state("load")
    assert page.locator("figure.chart").count() == 5
    bars = page.locator('figure[data-series="calls_per_s"] rect.bar')
    drawn = [r for r in series if r.get("calls_per_s") is not None]
    assert bars.count() == len(drawn)
    heights = [float(bars.nth(i).get_attribute("height")) for i in range(bars.count())]
    top = max(r["calls_per_s"] for r in drawn)
    for h, r in zip(heights, drawn):             # bar heights in proportion to calls/s
        assert abs(h / max(heights) - r["calls_per_s"] / top) < 0.02, (heights, drawn)
    with_mos = [r for r in series if r.get("mos_p5") is not None]
    assert with_mos, series
    assert page.locator('figure[data-series="mos"] circle.dot.p5').count() == len(with_mos)
    assert page.locator('figure[data-series="mos"] line.bound').count() == 1   # mos_p5_min 3.5
    box = page.locator('figure[data-series="mos"] svg').bounding_box()
    assert box["width"] > 300 and box["height"] > 150
    assert page.dialogs == [] and page.requests == []
    # the call figures and the calls without two-way media, as tables
    summary = page.locator('div.load-summary[data-agent="caller"]')
    assert "one-way" in summary.locator("table").first.inner_text()
    one_way = summary.locator("table").last.locator("tr")
    assert one_way.count() == 1 + entry["one_way"]          # a head row, a row per call
    assert all(row["call_id"] in summary.inner_text() for row in entry["one_way_calls"])

    # negative control: the same result without its series draws no chart
    results = results_from_json_dict(data)
    results[0].load = {}
    bare = write_html(results, tmp_path / "bare.html")
    page.goto(bare.as_uri())
    page.wait_for_load_state("load")
    assert page.locator("figure.chart").count() == 0
