"""The scenario library end to end: real SIPp against the real example Kamailio SUT.

Each scenario file under scenarios/malformed and scenarios/register runs through
``run_scenario`` exactly as ``sipscen run`` runs it; the load smoke test runs in
test_load_e2e.py.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from sipscen.core.results import FAILED, PASSED

from .conftest import (KAMAILIO_CFG, SCENARIOS, by_name, copy_scenario, needs_kamailio,
                       needs_sipp, run_file)

pytestmark = [pytest.mark.integration, needs_sipp, needs_kamailio]

MALFORMED = sorted((SCENARIOS / "malformed").glob("*.yaml"))
REGISTER = sorted(p for p in (SCENARIOS / "register").glob("*.yaml")
                  if "messages:" in p.read_text())


def test_the_example_sut_config_is_valid():
    out = subprocess.run(["kamailio", "-c", "-f", str(KAMAILIO_CFG), "-l", "udp:127.0.0.1:5999"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "config file ok" in out.stdout + out.stderr


def test_the_library_has_at_least_15_malformed_scenarios():
    assert len(MALFORMED) >= 15


@pytest.mark.parametrize("path", MALFORMED + REGISTER, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_library_scenario_passes_against_the_example_sut(path: Path, tmp_path):
    result = run_file(path, tmp_path)
    assert result.status == PASSED, (result.error, [c.to_dict() for c in result.failed_checks])
    # every message was judged, and the platform answered the liveness probe last
    responses = [r for facts in result.agents.values() for r in facts.get("responses", [])]
    assert len([c for c in result.checks if c.name.startswith("response ")]) == len(responses) >= 2
    assert responses[-1]["probe"] and responses[-1]["received"]["status"] == 200


def test_malformed_answers_are_the_codes_the_scenarios_state(tmp_path):
    """A few concrete codes, read from the facts rather than from the verdicts."""
    expected = {"content-length-too-large": (400, "Content-Length"),
                "cseq-method-mismatch": (400, "CSeq"),
                "unsupported-proxy-require": (420, ""),
                "max-forwards-zero": (483, ""),
                "missing-via": (None, "")}
    for stem, (code, reason) in expected.items():
        result = run_file(SCENARIOS / "malformed" / f"{stem}.yaml", tmp_path / stem)
        first = result.agents["attacker"]["responses"][0]["received"]
        if code is None:
            assert first is None, stem
        else:
            assert first["status"] == code and reason in first["reason"], (stem, first)


def test_a_wrong_expectation_fails_with_expected_and_actual(tmp_path):
    path = copy_scenario(SCENARIOS / "malformed" / "cseq-method-mismatch.yaml", tmp_path,
                         {"expect: {status: 400}": "expect: {status: 200}"})
    result = run_file(path, tmp_path)
    assert result.status == FAILED
    failed = result.failed_checks
    assert len(failed) == 1
    check = failed[0]
    assert check.expected == "200" and check.actual.startswith("400 ")
    assert "expected 200, got 400" in check.message
    assert re.match(rf"{re.escape(str(path))}:\d+:\d+", check.location)
    assert by_name(result.checks)  # the probe check is there too and passed
    assert sum(c.status == PASSED for c in result.checks) == 1


def test_bad_sipp_xml_in_a_scenario_is_exit_2_with_the_xml_location(tmp_path):
    xml = tmp_path / "calls.xml"
    xml.write_text('<?xml version="1.0"?>\n<scenario name="c">\n<send>\n<recv response="200"/>\n'
                   '</scenario>\n')
    path = tmp_path / "bad-xml.yaml"
    path.write_text("name: bad-xml\ncapture: {enabled: false}\nagents:\n"
                    "  caller: {type: sipp, scenario: calls.xml, target: '127.0.0.1:5060'}\n")
    result = run_file(path, tmp_path)
    assert result.status == "error"
    assert result.exit_status == 2
    assert result.error.startswith(f"{xml}:5:")
    assert "not well-formed" in result.error


def test_a_registered_user_is_reachable_through_the_sut(tmp_path):
    pytest.importorskip("pjsua2")
    result = run_file(SCENARIOS / "register" / "register-then-call.yaml", tmp_path)
    assert result.status == PASSED, (result.error, [c.to_dict() for c in result.failed_checks])
    call = result.agents["bob"]["calls"][0]
    assert call["direction"] == "incoming" and call["answered"]
    assert result.agents["caller"]["stats"]["successful"] == 1
