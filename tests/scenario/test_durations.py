"""Durations are finite, not negative, at most 30 days; timeouts and waits are above 0."""
from __future__ import annotations

import math
from pathlib import Path

import pytest

from sipscen.scenario import validate_file
from sipscen.core.model import MAX_DURATION, parse_duration


@pytest.mark.parametrize("value, seconds", [
    ("200ms", 0.2), ("2s", 2.0), ("1.5m", 90.0), ("1h", 3600.0), (3, 3.0), (0, 0.0),
    ("0s", 0.0), ("30 s", 30.0), (MAX_DURATION, MAX_DURATION),
])
def test_parse_duration_accepts(value, seconds):
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value, message", [
    (math.nan, "not a duration: .nan (not a number)"),
    (math.inf, "not a duration: .inf (must be finite)"),
    (-math.inf, "not a duration: -.inf (must be finite)"),
    (-1, "not a duration: -1 (must not be negative)"),
    (-0.5, "not a duration: -0.5 (must not be negative)"),
    (1e300, "duration 1e+300 is too long (at most 30 days)"),
    ("99999999999h", "duration '99999999999h' is too long (at most 30 days)"),
    ("721h", "duration '721h' is too long (at most 30 days)"),
    (True, "not a duration: True"),
    ("5 sec", "not a duration: '5 sec' (use e.g. 200ms, 2s, 1m)"),
])
def test_parse_duration_refuses(value, message):
    with pytest.raises(ValueError) as caught:
        parse_duration(value)
    assert str(caught.value) == message


def _agent_with(step: str) -> str:
    return f"name: x\nagents:\n  a:\n    type: pjsua\n    steps:\n      - {step}\n"


SIPP = ("name: x\nagents:\n  s:\n    type: sipp\n    target: 127.0.0.1:5060\n"
        "    messages:\n      - send: 'OPTIONS sip:x SIP/2.0'\n        {line}\n")

CASES = {
    "scenario-timeout-zero": ("name: x\ntimeout: 0\nagents: {a: {type: pjsua}}\n",
                              "2:10: timeout: not a duration above 0: 0 (use e.g. 200ms, 2s, 1m)"),
    "scenario-timeout-negative": ("name: x\ntimeout: -5\nagents: {a: {type: pjsua}}\n",
                                  "2:10: timeout: not a duration above 0: -5 (use e.g. 200ms, "
                                  "2s, 1m)"),
    "scenario-timeout-huge": ("name: x\ntimeout: 1.0e+300\nagents: {a: {type: pjsua}}\n",
                              "2:10: timeout: duration 1e+300 is too long (at most 30 days)"),
    "wait-timeout-zero-ms": (_agent_with("wait: {event: incoming, timeout: 0.0ms}"),
                             "6:42: agents.a.steps[0].wait.timeout: not a duration above 0: "
                             "'0.0ms' (use e.g. 200ms, 2s, 1m)"),
    "wait-timeout-nan": (_agent_with("wait: {event: incoming, timeout: .nan}"),
                         "6:42: agents.a.steps[0].wait.timeout: not a duration: .nan "
                         "(not a number)"),
    "call-timeout-inf": (_agent_with("call: {to: a, timeout: .inf}"),
                         "6:32: agents.a.steps[0].call.timeout: not a duration: .inf "
                         "(must be finite)"),
    "sleep-inf": (_agent_with("sleep: .inf"),
                  "6:16: agents.a.steps[0].sleep: not a duration: .inf (must be finite)"),
    "tone-duration-nan": (_agent_with("play: {tone: {frequencies: [440], duration: .nan}}"),
                          "6:53: agents.a.steps[0].play.tone.duration: not a duration: .nan "
                          "(not a number)"),
    "answer-delay-inf": ("name: x\nagents: {a: {type: pjsua, answer: {delay: .inf}}}\n",
                         "2:43: agents.a.answer.delay: not a duration: .inf (must be finite)"),
    "ready-timeout-nan": ("name: x\nagents: {a: {type: pjsua}}\n"
                          "services: {s: {command: [x], ready: {log: up, timeout: .nan}}}\n",
                          "3:56: services.s.ready.timeout: not a duration: .nan (not a number)"),
    "ready-timeout-zero": ("name: x\nagents: {a: {type: pjsua}}\n"
                           "services: {s: {command: [x], ready: {log: up, timeout: 0}}}\n",
                           "3:56: services.s.ready.timeout: not a duration above 0: 0 "
                           "(use e.g. 200ms, 2s, 1m)"),
    "message-timeout-inf": (SIPP.format(line="timeout: .inf"),
                            "8:18: agents.s.messages[0].timeout: not a duration: .inf "
                            "(must be finite)"),
    "message-nothing-zero": (SIPP.format(line="expect: {nothing: 0s}"),
                             "8:27: agents.s.messages[0].expect.nothing: not a duration above "
                             "0: '0s' (use e.g. 200ms, 2s, 1m)"),
    "message-nothing-nan": (SIPP.format(line="expect: {nothing: .nan}"),
                            "8:27: agents.s.messages[0].expect.nothing: not a duration: .nan "
                            "(not a number)"),
    "response-nothing-inf": ("name: x\nagents: {a: {type: sipp, scenario: uas}}\n"
                             "expect: [response: {agent: a, nothing: .inf}]\n",
                             "3:40: expect[0].response.nothing: not a duration: .inf "
                             "(must be finite)"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_duration_is_located(tmp_path: Path, name: str):
    text, expected = CASES[name]
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    errors = validate_file(path, environ={})
    assert errors, "should be invalid"
    assert str(errors[0]) == f"{path}:{expected}"


def test_zero_sleep_and_delay_stay_valid(tmp_path: Path):
    path = tmp_path / "zero.yaml"
    path.write_text("name: x\nagents:\n  a:\n    type: pjsua\n    answer: {delay: 0}\n"
                    "    steps:\n      - sleep: 0\n      - wait: {event: incoming, timeout: 1ms}\n",
                    encoding="utf-8")
    assert validate_file(path, environ={}) == []
