"""Every fixture in invalid/ pins the exact first error: `# expect: FILE:LINE:COL: path: message`.

``$FILE`` stands for the fixture's own path, ``$DIR`` for its folder (errors
in an included file name that file).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from sipscen.core.errors import ExitStatus, ScenarioError, exit_status_for
from sipscen.scenario import load_scenario, validate_file

INVALID = Path(__file__).parent / "invalid"
FIXTURES = sorted(INVALID.glob("*.yaml"))


def expected_error(path: Path) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name} lacks its '# expect:' header"
    text = first[len("# expect: "):]
    return text.replace("$FILE", str(path)).replace("$DIR", str(path.parent))


def test_there_are_enough_fixtures():
    assert len(FIXTURES) >= 15


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_first_error_is_pinned(path: Path):
    errors = validate_file(path, environ={})
    assert errors, f"{path.name} should be invalid"
    assert str(errors[0]) == expected_error(path)


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_load_scenario_raises_the_same_error(path: Path):
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, environ={})
    assert str(caught.value) == expected_error(path)
    assert caught.value.location is not None
    assert exit_status_for(caught.value) == ExitStatus.INVALID_INPUT


def test_validate_file_returns_every_error(tmp_path: Path):
    path = tmp_path / "many.yaml"
    path.write_text(
        "name: many\n"
        "agents:\n"
        "  alice:\n"
        "    type: pjsua\n"
        "    codec: [PCMA]\n"
        "    transport: sctp\n"
        "    steps:\n"
        "      - dtmf: {digits: '1', method: rfc4734}\n"
        "capture: {enabld: true}\n", encoding="utf-8")
    found = [str(e) for e in validate_file(path, environ={})]
    assert found == [
        # deepest path first, then by position
        f"{path}:8:37: agents.alice.steps[0].dtmf.method: unknown value 'rfc4734' — "
        "expected one of: rfc4733, sip-info, inband; did you mean 'rfc4733'?",
        f"{path}:5:5: agents.alice.codec: unknown key 'codec' — did you mean 'codecs'?",
        f"{path}:6:16: agents.alice.transport: unknown value 'sctp' — "
        "expected one of: udp, tcp, tls",
        f"{path}:9:11: capture.enabld: unknown key 'enabld' — did you mean 'enabled'?",
    ]


def test_semantic_errors_are_all_reported_in_file_order(tmp_path: Path):
    path = tmp_path / "refs.yaml"
    path.write_text(
        "name: refs\n"
        "agents:\n"
        "  alice:\n"
        "    type: pjsua\n"
        "    steps:\n"
        "      - call: {uri: 'sip:x@${carol.hostport}'}\n"
        "      - call: {to: bobb}\n"
        "expect:\n"
        "  - call: {from: alice, to: dave}\n", encoding="utf-8")
    found = [str(e) for e in validate_file(path, environ={})]
    assert found == [
        f"{path}:6:21: agents.alice.steps[0].call.uri: unknown agent 'carol' — agents are: "
        "alice (in '${carol.hostport}')",
        f"{path}:7:20: agents.alice.steps[1].call.to: unknown agent 'bobb' — agents are: alice",
        f"{path}:9:29: expect[0].call.to: unknown agent 'dave' — agents are: alice",
    ]


def test_missing_scenario_file_is_an_invalid_input_error(tmp_path: Path):
    errors = validate_file(tmp_path / "absent.yaml")
    assert [e.message for e in errors] == ["no such file"]
