"""A hostile SUT's text in the HTML report: nothing it sends can run in the page.

The report is rendered through Jinja2 with autoescaping. Here every text a SUT
or a scenario can put in a result (SIP messages and summaries, Call-IDs, check
names and values, agent facts, tags, errors, artifact labels) carries script
tags, event handlers, attribute breakers, ``</textarea>``/``</pre>`` closers, a
lone surrogate and control characters. The page is opened in headless Chromium:
no dialog opens, no script or handler ran (the marker they would set is
absent, no element they would create exists), only the report's own script is
in the DOM, and the page still renders the scenario with its hostile name as
text. Negative control: the same payload put raw into a page does run.
"""
from __future__ import annotations

import re

from sipscen.core.results import CheckResult
from sipscen.report.html import render_html, write_html

RUN = "window.__pwned=(window.__pwned||0)+1"
PAYLOADS = [
    f"<script>{RUN};alert('script')</script>",
    f"<img src=x onerror=\"{RUN};alert('img')\">",
    f"\"><svg onload=\"{RUN}\"><p id=injected>",
    f"'><script>{RUN}</script>",
    f"</textarea></pre></title></style><script>{RUN}</script>",
    f"</script><script>{RUN}</script>",
    "javascript:alert('href')",
    "lone \ud800 surrogate, NUL \x00 ESC \x1b[31m BEL \x07 C1 \x9b bidi \u202e end",
]
HOSTILE = " ".join(PAYLOADS)


def hostile(results):
    r = results[1]                                     # the failed scenario: shown first
    r.name = "evil " + PAYLOADS[0]
    r.description = HOSTILE
    r.tags = [PAYLOADS[1], PAYLOADS[2]]
    r.error = HOSTILE
    r.warnings = [HOSTILE]
    call = r.wire["calls"][0]
    call["call_id"] = PAYLOADS[3]
    for m in call["messages"]:
        m["summary"] = "INVITE " + PAYLOADS[4]
        m["raw"] = (m.get("raw") or "") + "X-Evil: " + HOSTILE + "\r\n"
    r.checks.append(CheckResult(
        PAYLOADS[5], "failed", {PAYLOADS[0]: [PAYLOADS[1], True]},
        {"alice->sut": {"addresses": PAYLOADS[2], "suite": PAYLOADS[4], "authenticated": 1}},
        HOSTILE, PAYLOADS[6]))
    r.agents["alice"]["uri"] = PAYLOADS[1]
    r.agents["alice"]["note"] = HOSTILE
    r.artifacts[PAYLOADS[6]] = PAYLOADS[6]
    r.artifacts["x" + PAYLOADS[0]] = "/tmp/" + PAYLOADS[2]
    return results


def test_hostile_text_is_inert_in_chromium(results, tmp_path, page):
    path = write_html(hostile(results), tmp_path / "r.html")
    html = path.read_bytes().decode("utf-8")          # valid UTF-8: the surrogate was escaped
    assert "\\ud800" in html and "\\x1b" in html and "\\x00" in html and "\\u202e" in html
    assert "\x00" not in html and "\x1b" not in html and "\u202e" not in html

    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    assert page.dialogs == []
    assert page.evaluate("window.__pwned") is None
    assert page.evaluate("document.querySelectorAll('script').length") == 1   # the report's own
    assert page.locator("#injected").count() == 0
    assert page.evaluate("document.querySelectorAll('[onerror],[onload],[onclick]').length") == 0
    assert page.evaluate("[...document.querySelectorAll('a[href]')]"
                         ".filter(a => a.protocol === 'javascript:').length") == 0
    assert page.requests == []
    # the page still renders: the hostile name is text in the failed scenario's heading
    heading = page.locator("section.scenario.failed h2")
    assert heading.is_visible()
    assert "<script>window.__pwned" in heading.inner_text()
    assert page.locator("section.scenario").count() == 3
    # the raw SIP message with the payload is text in its hidden <pre>, whole
    raw = page.locator("section.scenario.failed pre.raw").first.text_content()
    assert "X-Evil: <script>window.__pwned" in raw and "</textarea></pre>" in raw
    # clicking an arrow shows it in the panel as text (the script uses textContent)
    page.locator("section.scenario.failed svg.ladder g.msg").first.click()
    assert page.evaluate("window.__pwned") is None
    shown = page.locator("section.scenario.failed .raw-panel pre").text_content()
    assert "X-Evil: <script>window.__pwned" in shown
    # the check's structured values are small tables of text
    cells = page.locator("section.scenario.failed tr.check.failed td.actual table.value td")
    assert any("<svg onload" in t for t in cells.all_text_contents())


def test_negative_control_the_payload_runs_when_not_escaped(page, tmp_path):
    """The same payloads pasted raw into a page under the report's CSP do run: the test
    above would see them if the report let them through."""
    html = render_html([])
    raw = html.replace("<main>", "<main>" + PAYLOADS[0] + PAYLOADS[1] + PAYLOADS[2], 1)
    path = tmp_path / "raw.html"
    path.write_text(raw.replace("\ud800", ""))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    page.wait_for_function("window.__pwned >= 2", timeout=5000)
    assert page.dialogs and page.locator("#injected").count() == 1


def test_no_value_is_marked_safe_in_the_templates():
    """Autoescaping is only as good as the templates: no |safe, no autoescape off."""
    from importlib.resources import files
    for entry in files("sipscen.report").joinpath("templates").iterdir():
        text = entry.read_text()
        assert not re.search(r"\|\s*safe|autoescape\s+false|Markup\(", text), entry.name
