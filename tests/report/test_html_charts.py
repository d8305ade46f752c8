"""The load time series as inline SVG charts, checked in headless Chromium.

The series follows the result JSON's ``load`` shape (calls/s, concurrent and
failed calls, MOS p5/p50, loss p95 per interval). It is built here, like a
real 2-minute run at 20 calls/s whose MOS falls: the charts must have one bar
or dot per interval, a break where an interval had no stream, the bound as a
dashed line, and be visible with a non-zero size and a non-blank picture.
"""
from __future__ import annotations

import base64

from sipscen.report.html import render_html, write_html
from sipscen.report.html_charts import load_charts

INTERVALS = 12          # conftest.load_series


def by_key(charts):
    return {c["key"]: c for c in charts}


def test_chart_geometry(load_result, series):
    charts = by_key(load_charts(load_result(bounds={"mos_p5_min": 4.0}).load))
    assert list(charts) == ["calls_per_s", "concurrent", "failed", "mos", "loss_p95"]
    assert len(charts["calls_per_s"]["bars"]) == INTERVALS
    assert len(charts["failed"]["bars"]) == INTERVALS
    mos = charts["mos"]
    assert [l["cls"] for l in mos["lines"]] == ["p5", "p5", "p50", "p50"]     # broken at the gap
    assert sum(len(l["points"].split()) for l in mos["lines"]) == 2 * (INTERVALS - 1)
    assert len(mos["bounds"]) == 1
    # a higher MOS is drawn higher (smaller y); the bound sits between 4.3 and 3.2
    first, last = (float(p.split(",")[1]) for p in (mos["lines"][0]["points"].split()[0],
                                                     mos["lines"][1]["points"].split()[-1]))
    assert first < mos["bounds"][0]["y"] < last
    # loss is a fraction in the JSON, drawn as percent: 1.1 % at the last interval
    assert charts["loss_p95"]["lines"][0]["dots"][-1]["title"].startswith("110s: 1.1 ")
    # negative controls: no series, no charts; no MOS anywhere says so instead of a line at 0
    assert load_charts({"uac": {"interval_s": 10, "series": []}}) == []
    assert load_charts(None) == [] and load_charts({}) == []
    silent = by_key(load_charts(load_result([{**row, "mos_p5": None, "mos_p50": None}
                                             for row in series()]).load))
    assert silent["mos"]["lines"] == [] and silent["mos"]["empty"]


def test_hostile_agent_name_in_a_chart_is_text(load_result):
    r = load_result()
    r.load = {"<script>alert(1)</script>": r.load["uac"]}
    html = render_html([r])
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)" in html


PIXELS_JS = """async (b64) => {
  const img = new Image(); img.src = 'data:image/png;base64,' + b64; await img.decode();
  const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
  const g = c.getContext('2d'); g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data;
  let n = 0, sum = 0, sq = 0, blue = 0, red = 0, green = 0;
  for (let i = 0; i < d.length; i += 4) {
    const v = (d[i] + d[i+1] + d[i+2]) / 3; n++; sum += v; sq += v * v;
    if (Math.abs(d[i]-31) < 30 && Math.abs(d[i+1]-111) < 30 && Math.abs(d[i+2]-235) < 30) blue++;
    if (Math.abs(d[i]-207) < 30 && Math.abs(d[i+1]-34) < 30 && Math.abs(d[i+2]-46) < 30) red++;
    if (Math.abs(d[i]-26) < 30 && Math.abs(d[i+1]-127) < 30 && Math.abs(d[i+2]-55) < 30) green++;
  }
  c.remove();
  return {width: img.width, height: img.height, variance: sq / n - (sum / n) ** 2, blue, red, green};
}"""


def pixels(page, locator) -> dict:
    shot = locator.screenshot()
    return page.evaluate(PIXELS_JS, base64.b64encode(shot).decode())


def test_charts_render_in_chromium(page, tmp_path, load_result):
    path = write_html([load_result(bounds={"mos_p5_min": 4.0})], tmp_path / "r.html")
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    figures = page.locator("figure.chart")
    assert figures.count() == 5
    for i in range(5):
        svg = figures.nth(i).locator("svg.chart")
        assert svg.is_visible()
        box = svg.bounding_box()
        assert box["width"] > 300 and box["height"] > 150
    calls = page.locator('figure[data-series="calls_per_s"] rect.bar')
    assert calls.count() == INTERVALS
    heights = [float(calls.nth(i).get_attribute("height")) for i in range(INTERVALS)]
    assert min(heights) > 20                                   # ~20 calls/s on a 0-30 scale
    assert page.locator('figure[data-series="mos"] circle.dot').count() == 2 * (INTERVALS - 1)
    assert page.locator('figure[data-series="mos"] polyline').count() == 4

    bars = pixels(page, page.locator('figure[data-series="calls_per_s"]'))
    assert bars["variance"] > 500 and bars["blue"] > 3000          # twelve filled blue bars
    mos = pixels(page, page.locator('figure[data-series="mos"]'))
    assert mos["red"] > 300 and mos["green"] > 300                   # p5 and p50 lines drawn
    assert page.dialogs == [] and page.requests == []


def test_a_blank_chart_is_seen_as_blank(page, tmp_path, load_result):
    """Negative control of the picture checks: no figures, no coloured pixels."""
    rows = [{"t": i * 10.0, "calls_per_s": None, "concurrent": None, "failed": None,
             "mos_p5": None, "mos_p50": None, "loss_p95": None} for i in range(INTERVALS)]
    path = write_html([load_result(rows)], tmp_path / "r.html")
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    assert page.locator("figure.chart rect.bar, figure.chart polyline").count() == 0
    bars = pixels(page, page.locator('figure[data-series="calls_per_s"]'))
    assert bars["blue"] < 50
    mos = pixels(page, page.locator('figure[data-series="mos"]'))
    assert mos["red"] < 150 and mos["green"] < 150                  # the legend's text only
