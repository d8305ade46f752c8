"""The pytest plugin, driven through pytest's own ``pytester``."""
from __future__ import annotations

import importlib.metadata
import xml.etree.ElementTree as ET

import pytest
# Imported before pytester's first in-process run: pytester drops the modules a run
# imported, and PyYAML re-imported after that no longer knows the event classes of
# its C parser (an extension module is never imported twice), so every later load
# would fail inside PyYAML's composer. In the whole suite some earlier test imports
# it; run alone, this file needs it here.
import yaml  # noqa: F401

pytest_plugins = ["pytester"]

SCENARIO = """\
name: {name}
description: alice calls bob, DTMF by RFC 4733
tags: [{tag}, srtp]
timeout: 30s
agents:
  bob:
    type: pjsua
    codecs: [PCMA]
    srtp: {{use: mandatory}}
    answer: {{code: 200, delay: 100ms}}
    steps:
      - wait: {{event: dtmf, digits: "1234#", timeout: 10s}}
      - wait: {{event: disconnected, timeout: 10s}}
  alice:
    type: pjsua
    codecs: [PCMA]
    srtp: {{use: mandatory}}
    steps:
      - call: {{to: bob}}
      - wait: {{event: media_active, timeout: 5s}}
      - dtmf: {{digits: "1234#", method: rfc4733, duration: 100ms, gap: 60ms}}
      - sleep: 300ms
      - hangup: {{}}
expect:
  - call: {{from: alice, to: bob, answered: true, status: 200}}
  - dtmf: {{from: alice, to: bob, digits: "{digits}", method: rfc4733}}
"""

BROKEN = """\
name: broken
agents:
  alice:
    type: pjsua
    steps:
      - dtmf: {digits: "12", methd: rfc4733}
"""

SUT_CONFIG = "listen: udp:127.0.0.1:5060\nroutes: []\n"


def plugin_args() -> list[str]:
    """-p the plugin only when its entry point is not installed (it would load twice)."""
    names = {ep.name for ep in importlib.metadata.entry_points(group="pytest11")}
    return [] if "sipscen" in names else ["-p", "sipscen.pytest_plugin"]


@pytest.fixture
def files(pytester):
    pytester.makefile(".sipscen.yaml", good=SCENARIO.format(name="good-call", tag="good", digits="1234#"))
    pytester.makefile(".sipscen.yaml", wrong=SCENARIO.format(name="wrong-digits", tag="wrong", digits="1235#"))
    pytester.makefile(".yaml", plain=SCENARIO.format(name="plain-yaml", tag="plain", digits="1234#"))
    pytester.makefile(".yaml", sut=SUT_CONFIG)
    return pytester


def test_collects_scenario_files_by_name(files):
    result = files.runpytest(*plugin_args(), "--collect-only", "-q")
    out = result.stdout.str()
    assert "good.sipscen.yaml::good-call" in out
    assert "wrong.sipscen.yaml::wrong-digits" in out
    assert "plain.yaml" not in out and "sut.yaml" not in out
    assert result.ret == 0


def test_more_patterns_and_tag_markers(files):
    result = files.runpytest(*plugin_args(), "-o", "sipscen_globs=*.yaml", "--collect-only", "-q",
                             "-m", "plain or wrong")
    out = result.stdout.str()
    assert "plain.yaml::plain-yaml" in out and "wrong.sipscen.yaml::wrong-digits" in out
    assert "good-call" not in out                      # deselected by -m
    assert "sut.yaml" not in out                       # YAML without agents: is not a scenario
    result.assert_outcomes(deselected=1)


def test_invalid_file_fails_with_its_location_not_a_traceback(pytester):
    pytester.makefile(".sipscen.yaml", broken=BROKEN)
    result = pytester.runpytest(*plugin_args())
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "invalid scenario file: " in out
    assert "broken.sipscen.yaml:6:" in out and "methd" in out
    assert "Traceback" not in out and "pytest_plugin.py" not in out


@pytest.mark.integration
def test_real_scenarios_pass_and_fail_with_checks(files, tmp_path):
    junit = tmp_path / "pytest-junit.xml"
    result = files.runpytest_subprocess(*plugin_args(), "-v", f"--junitxml={junit}",
                                        f"--sipscen-artifacts={tmp_path / 'art'}",
                                        "good.sipscen.yaml", "wrong.sipscen.yaml")
    out = result.stdout.str()
    result.assert_outcomes(passed=1, failed=1)
    assert "good.sipscen.yaml::good-call PASSED" in out
    assert "scenario wrong-digits FAILED" in out
    failed = [line for line in out.splitlines() if "[FAILED] dtmf" in line]
    assert failed, out
    assert all("expected '1235#', actual '1234#'" in line for line in failed)
    assert all("wrong.sipscen.yaml:26:5" in line for line in failed)
    assert "Traceback" not in out and "raise ScenarioFailed" not in out
    assert f"artifacts: {tmp_path / 'art'}" in out

    root = ET.parse(junit).getroot()
    cases = {c.get("name"): c for c in root.iter("testcase")}
    props = {p.get("name"): p.get("value") for p in cases["wrong-digits"].iter("property")}
    assert props["sipscen_status"] == "failed" and props["sipscen_tags"] == "wrong,srtp"
    assert props["artifact.pcap"].endswith(".pcap")


VACUOUS = """  - sip: {from: bob, to: alice, method: INVITE, headers: {X-Never: "."}, count: 0}
"""


@pytest.mark.integration
def test_mutate_fails_an_item_whose_expectation_cannot_fail(pytester, tmp_path):
    """--sipscen-mutate: the good scenario's expectations all can fail (passed); the
    same run with a vacuous expectation added is a failed item naming its location."""
    pytester.makefile(".sipscen.yaml", good=SCENARIO.format(name="good-call", tag="good",
                                                            digits="1234#"))
    pytester.makefile(".sipscen.yaml", vacuous=SCENARIO.format(
        name="vacuous-call", tag="vacuous", digits="1234#") + VACUOUS)
    junit = tmp_path / "junit.xml"
    result = pytester.runpytest_subprocess(*plugin_args(), "-v", "--sipscen-mutate",
                                           f"--junitxml={junit}",
                                           f"--sipscen-artifacts={tmp_path / 'art'}")
    out = result.stdout.str()
    result.assert_outcomes(passed=1, failed=1)
    assert "good.sipscen.yaml::good-call PASSED" in out
    assert "MUTATION BAD vacuous-call" in out
    assert "SURVIVED" in out and "vacuous.sipscen.yaml:27:5: sip (expect[2])" in out, out
    assert "Traceback" not in out
    cases = {c.get("name"): c for c in ET.parse(junit).getroot().iter("testcase")}
    props = {p.get("name"): p.get("value") for p in cases["good-call"].iter("property")}
    killed, total = props["sipscen_mutation"].split("/")
    assert killed == total and int(total) >= 5, props
