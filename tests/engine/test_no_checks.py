"""Issue 20: a scenario with no `expect:` is "passed, no checks" in every report,
with a warning; `--strict` makes it a failure (exit 1). An agent's own failed
step still fails it. Real PJSUA2 runs."""
import json
import os
import xml.etree.ElementTree as ET

import pytest

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(os.geteuid() != 0, reason="capturing on lo needs root")]

NO_EXPECT = """
name: nothing-checked
timeout: 20s
agents:
  solo: {type: pjsua, steps: [{sleep: 100ms}]}
"""
STEP_FAILS = """
name: step-fails
timeout: 20s
agents:
  solo: {type: pjsua, steps: [{wait: {event: incoming, timeout: 300ms}}]}
"""
CHECKED = """
name: checked
timeout: 20s
agents:
  bob: {type: pjsua, steps: [{wait: {event: incoming}}, {wait: {event: disconnected}}]}
  alice: {type: pjsua, steps: [{call: {to: bob}}, {wait: {event: answered}}, {hangup: {}}]}
expect:
  - call: {from: alice, to: bob, answered: true}
"""


def _run(sipscen, tmp_path, text, *extra):
    path = tmp_path / "s.yaml"
    path.write_text(text)
    reports = {k: tmp_path / f"r.{k}" for k in ("json", "xml", "html")}
    code, out, err = sipscen("run", path, "--json", reports["json"], "--junit", reports["xml"],
                             "--html", reports["html"], "--artifacts", tmp_path / "art", *extra)
    doc = json.loads(reports["json"].read_text())
    return code, out + err, doc, ET.parse(reports["xml"]).getroot(), reports["html"].read_text()


def test_no_expect_is_passed_with_no_checks_in_every_report(tmp_path, sipscen, no_leftovers):
    code, text, doc, junit, html = _run(sipscen, tmp_path, NO_EXPECT)
    assert code == 0, text
    (s,) = doc["scenarios"]
    assert (s["status"], s["no_checks"], s["checks"]) == ("passed", True, [])
    assert any(w.startswith("passed, no checks") for w in s["warnings"])
    assert doc["summary"]["no_checks"] == 1 and doc["summary"]["status"] == "passed"
    assert "PASS (no checks) nothing-checked" in text
    assert "warning: passed, no checks" in text and "(1 with no checks)" in text
    case = junit.find("testcase")
    assert case.find("failure") is None and case.find("error") is None
    out = case.find("system-out").text
    assert "status: passed, no checks" in out and "warning: passed, no checks" in out
    assert '<span class="badge passed nochecks">passed, no checks</span>' in html
    assert "1 with no checks" in html


def test_strict_makes_no_checks_a_failure(tmp_path, sipscen, no_leftovers):
    code, text, doc, junit, html = _run(sipscen, tmp_path, NO_EXPECT, "--strict")
    assert code == 1, text
    (s,) = doc["scenarios"]
    assert (s["status"], s["no_checks"]) == ("failed", True)
    assert s["error"].startswith("no checks: the scenario has no expect: and --strict")
    assert junit.find("testcase").find("failure") is not None
    assert "FAIL nothing-checked" in text


@pytest.mark.parametrize("strict", [False, True])
def test_a_failed_step_still_fails_a_scenario_without_checks(tmp_path, sipscen, no_leftovers,
                                                             strict):
    code, text, doc, junit, html = _run(sipscen, tmp_path, STEP_FAILS,
                                        *(["--strict"] if strict else []))
    assert code == 1, text
    (s,) = doc["scenarios"]
    assert s["status"] == "failed" and "incoming" in s["error"]
    assert not any(w.startswith("passed, no checks") for w in s["warnings"])


def test_a_scenario_with_checks_is_a_plain_pass_also_under_strict(tmp_path, sipscen,
                                                                   no_leftovers):
    code, text, doc, junit, html = _run(sipscen, tmp_path, CHECKED, "--strict")
    assert code == 0, text
    (s,) = doc["scenarios"]
    assert (s["status"], s["no_checks"]) == ("passed", False) and s["checks"]
    assert "no checks" not in text and "badge passed nochecks" not in html
