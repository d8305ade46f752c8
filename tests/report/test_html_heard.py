"""What was heard: every audio, rtp and in-band DTMF check shows the recording it judged.

A real call (two PJSUA agents, tcpdump on lo): alice sends a 1 kHz tone. The
checks save what they judged (``CheckResult.recording``, a WAV under the run's
artifacts) and the HTML report shows its spectrogram and a player next to the
verdict. The test reads the saved recording's spectrogram (the tone's row is
the brightest, not the 600 Hz one a failing check asked for), and opens the
report in headless Chromium: one visible spectrogram and one playable
``<audio>`` (with the recording's duration) per check with a recording, none
beside the checks of no audio.
"""
from __future__ import annotations

import io
import json

import numpy as np
import pytest

from sipscen.cli import main
from sipscen.core.results import CheckResult, ScenarioResult
from sipscen.report.html import write_html
from sipscen.report.json_report import results_from_json_dict
from sipscen.report.html_heard import recording_path, spectrogram

pytestmark = pytest.mark.integration

SCENARIO = """
name: heard-tone
timeout: 20s
agents:
  bob:
    type: pjsua
    codecs: [PCMA]
    steps:
      - wait: {event: disconnected}
  alice:
    type: pjsua
    codecs: [PCMA]
    steps:
      - call: {to: bob}
      - wait: {event: media_active}
      - play: {tone: {frequencies: [1000], duration: 1200ms}}
      - dtmf: {digits: "1#", method: inband}
      - hangup: {}
expect:
  - call: {from: alice, to: bob, answered: true}
  - audio: {from: alice, to: bob, tone: {frequency: 1000Hz, min_duration: 800ms}}
  - audio: {from: alice, to: bob, where: wire, tone: {frequency: 600Hz, min_duration: 800ms}}
  - rtp: {from: alice, to: bob, min_packets: 20}
  - dtmf: {from: alice, to: bob, digits: "1#", method: inband}
"""


def peak_hz(samples, rate):
    db = spectrogram(samples, rate)
    row = int(np.argmax(np.mean(db, axis=1)))          # rows run from the top down
    return (db.shape[0] - 1 - row) * rate / (2 * db.shape[0])


@pytest.fixture(scope="module")
def tone_run(tmp_path_factory):
    """One real run for the module: (its JSON report, its HTML report)."""
    tmp_path = tmp_path_factory.mktemp("heard")
    path = tmp_path / "heard.yaml"
    path.write_text(SCENARIO)
    report, html = tmp_path / "r.json", tmp_path / "out" / "r.html"
    out, err = io.StringIO(), io.StringIO()
    code = main(["run", str(path), "--json", str(report), "--html", str(html),
                 "--artifacts", str(tmp_path / "art"), "-q"], stdout=out, stderr=err)
    assert code == 1, out.getvalue() + err.getvalue()   # the 600 Hz check fails on purpose
    return report, html


def test_recordings_are_shown_next_to_their_checks(tone_run, page):
    report, html = tone_run
    scenario = json.loads(report.read_text())["scenarios"][0]
    checks = {c["name"]: c for c in scenario["checks"]}
    folder = scenario["artifacts"]["dir"]
    with_audio = [c for c in scenario["checks"] if c["recording"]]
    names = sorted(c["name"] for c in with_audio)
    assert names == sorted(c["name"] for c in scenario["checks"]
                           if c["name"].startswith(("audio", "rtp", "dtmf alice->bob inband")))
    assert len(names) == 7          # audio at bob and wire, audio (wire), rtp x2, dtmf x2
    assert not checks["call alice->bob: answered"]["recording"]
    failed = next(c for c in scenario["checks"] if "600" in str(c["expected"]))
    assert failed["status"] == "failed" and failed["name"] == "audio alice->bob (wire)"

    # the recording the failing check judged holds the 1 kHz tone, not 600 Hz
    from sipscen.report.html_heard import _read
    result = ScenarioResult("x", "x", artifacts={"dir": folder})
    samples, rate = _read(recording_path(result, CheckResult(**{**failed, "recording": failed["recording"]})))
    assert abs(peak_hz(samples, rate) - 1000) < rate / 256 * 2
    assert len(samples) / rate > 1.0

    page.goto(html.as_uri())
    page.wait_for_load_state("load")
    rows = page.locator("section.scenario tr.check")
    assert rows.count() == len(scenario["checks"])
    images = page.locator("tr.check img.spectrogram")
    players = page.locator("tr.check audio.recording")
    assert images.count() == players.count() == len(with_audio)
    for i in range(images.count()):
        img = images.nth(i)
        assert img.is_visible()
        assert img.evaluate("e => e.complete && e.naturalWidth > 0 && e.naturalHeight === 128")
        box = img.bounding_box()
        assert box["width"] > 50 and box["height"] > 50
    durations = page.evaluate("""() => Promise.all([...document.querySelectorAll('audio.recording')]
        .map(a => a.readyState >= 1 ? a.duration : new Promise(ok => {
            a.addEventListener('loadedmetadata', () => ok(a.duration));
            a.addEventListener('error', () => ok(-1)); a.load(); })))""")
    assert all(d > 0.5 for d in durations), durations
    # none beside the call check: it judged no audio
    call_row = page.locator("tr.check", has_text="call alice->bob: answered")
    assert call_row.locator("img, audio").count() == 0
    assert page.dialogs == [] and page.requests == []


def test_a_recording_outside_the_artifacts_is_not_read(tmp_path):
    (tmp_path / "art").mkdir()
    (tmp_path / "secret.wav").write_bytes(b"RIFF")
    result = ScenarioResult("x", "x", artifacts={"dir": str(tmp_path / "art")})
    assert recording_path(result, CheckResult("c", "passed", recording="../secret.wav")) is None
    assert recording_path(result, CheckResult("c", "passed", recording=None)) is None
    inside = recording_path(result, CheckResult("c", "passed", recording="heard/a.wav"))
    assert inside == (tmp_path / "art" / "heard" / "a.wav").resolve()


PIXELS_JS = """async (b64) => {
  const img = new Image(); img.src = 'data:image/png;base64,' + b64; await img.decode();
  const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
  const g = c.getContext('2d'); g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data;
  let n = 0, sum = 0, sq = 0, yellow = 0;
  for (let i = 0; i < d.length; i += 4) {
    const v = (d[i] + d[i+1] + d[i+2]) / 3; n++; sum += v; sq += v * v;
    if (d[i] > 200 && d[i+1] > 190 && d[i+2] < 110) yellow++;
  }
  return {width: img.width, height: img.height, variance: sq / n - (sum / n) ** 2, yellow};
}"""


def shot_stats(page, locator=None) -> dict:
    import base64
    png = (locator or page).screenshot(**({} if locator else {"full_page": True}))
    return page.evaluate(PIXELS_JS, base64.b64encode(png).decode())


def test_screenshot_of_a_real_run_and_a_load_series(tone_run, page, tmp_path, load_result):
    """The report of the real run plus a load result with a series, in Chromium: the
    page is not blank, the tone shows as a bright line in the spectrogram of the check
    that judged it, the load charts have one bar per interval, the players play."""
    report, _ = tone_run
    results = results_from_json_dict(json.loads(report.read_text())) + [load_result()]
    html = write_html(results, tmp_path / "both.html")
    page.goto(html.as_uri())
    page.wait_for_load_state("load")
    whole = shot_stats(page)
    assert whole["height"] > 1500 and whole["variance"] > 300, whole      # not a blank page
    assert page.locator("section.scenario").count() == 2
    assert page.locator('figure[data-series="calls_per_s"] rect.bar').count() == \
        len(load_result().load["uac"]["series"])
    tone_check = page.locator("tr.check", has_text="audio alice->bob (at bob)")
    picture = shot_stats(page, tone_check.locator("img.spectrogram"))
    assert picture["width"] > 100 and picture["yellow"] > 20, picture   # the tone's bright row
    silent = shot_stats(page, page.locator("header.top"))
    assert silent["yellow"] == 0                                        # control: none there
    duration = tone_check.locator("audio").evaluate(
        "a => a.readyState >= 1 ? a.duration : new Promise(ok => "
        "a.addEventListener('loadedmetadata', () => ok(a.duration)))")
    assert duration > 1.0


def _tone_wav(path, seconds: float, hz: float = 1000.0, rate: int = 8000) -> None:
    import wave
    t = np.arange(int(seconds * rate)) / rate
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.sin(2 * np.pi * hz * t) * 8000).astype("<i2").tobytes())


def test_a_long_recording_is_linked_and_plays_from_the_page(tmp_path, page):
    """A recording over the inline size is linked relative to the report (the page's
    CSP lets it play from there); a short one is inlined; past the page's budget the
    next short one is linked too."""
    from sipscen.report import html_heard
    art = tmp_path / "art" / "run-1"
    _tone_wav(art / "heard" / "00-long.wav", 10.0)             # 160 kB
    _tone_wav(art / "heard" / "01-short.wav", 1.0)             # 16 kB
    _tone_wav(art / "heard" / "02-short.wav", 1.0)
    checks = [CheckResult(f"audio {i}", "passed", "tone", {"seconds": 1}, recording=name)
              for i, name in enumerate(("heard/00-long.wav", "heard/01-short.wav",
                                        "heard/02-short.wav"))]
    result = ScenarioResult("long", "long.yaml", "passed", 10.0, checks=checks,
                            artifacts={"dir": str(art)})
    budget = html_heard.Budget(20_000)                     # room for one short WAV
    views = [html_heard.heard_view(result, c, tmp_path / "out", budget) for c in checks]
    assert views[0]["src"] == "../art/run-1/heard/00-long.wav"
    assert views[1]["src"].startswith("data:audio/wav;base64,")
    assert views[2]["src"] == "../art/run-1/heard/02-short.wav"

    html = write_html([result], tmp_path / "out" / "r.html")
    page.goto(html.as_uri())
    page.wait_for_load_state("load")
    durations = page.evaluate("""() => Promise.all([...document.querySelectorAll('audio.recording')]
        .map(a => a.readyState >= 1 ? a.duration : new Promise(ok => {
            a.addEventListener('loadedmetadata', () => ok(a.duration));
            a.addEventListener('error', () => ok(-1)); a.load(); })))""")
    assert [round(d) for d in durations] == [10, 1, 1]
    assert page.locator("audio.recording").first.get_attribute("src").startswith("../art/")


def test_the_asked_frequency_is_marked_on_the_spectrogram():
    """A tone check's asked frequencies (and absent ones) become dashed marks at their
    height; a check that asked no tone gets none."""
    from sipscen.report.html_heard import SHOWN_HEIGHT, _overlay, asked_frequencies
    assert asked_frequencies("tone 1000+1200 Hz ±3% for 1s, no tone 600 Hz ±10 Hz for 200ms") \
        == [{"hz": 1000.0, "absent": False}, {"hz": 1200.0, "absent": False},
            {"hz": 600.0, "absent": True}]
    o = _overlay(8000, "tone 1000 Hz ±3% for 1s")
    assert [m["y"] for m in o["marks"]] == [SHOWN_HEIGHT * 0.75]          # 1 kHz of 4 kHz
    assert [t["label"] for t in o["ticks"]] == ["0", "1k", "2k", "3k", "4k"]
    assert _overlay(8000, "not silent")["marks"] == []
    assert _overlay(8000, {"max_loss_pct": 0})["marks"] == []
    assert _overlay(8000, "tone 5000 Hz ±3% for 1s")["marks"] == []      # above Nyquist


def test_a_missing_recording_says_so(tmp_path):
    """A report merged on another machine: the recording's file is not there; the check
    row says which and why instead of a picture (and the page still renders)."""
    from sipscen.report.html import render_html
    check = CheckResult("audio a->b (wire)", "failed", "tone 1000 Hz ±3% for 1s", None,
                        recording="heard/03-audio-a-b-wire.wav")
    result = ScenarioResult("gone", "gone.yaml", "failed", 1.0, checks=[check],
                            artifacts={"dir": str(tmp_path / "elsewhere")})
    html = render_html([result])
    assert "recording heard/03-audio-a-b-wire.wav unreadable" in html
    assert "<img" not in html and "<audio" not in html
