"""Hostile input from issue 12: each is exit 2 with FILE:LINE:COL, never "internal error"."""
from __future__ import annotations

from pathlib import Path

import pytest

BIG = "1" + "0" * 400          # an integer above 1e308: float() of it overflows
LONG = "a" * 300               # a name over 255 bytes

AGENT = "agents:\n  a: {type: pjsua}\n"

CASES = {
    # explicit YAML tags on the wrong node
    "tag-map-on-scalar": ("name: t\ntimeout: !!map x\n" + AGENT,
                          "2:10: YAML tag !!map cannot be applied to a scalar"),
    "tag-seq-on-scalar": ("name: t\ntimeout: !!seq x\n" + AGENT,
                          "2:10: YAML tag !!seq cannot be applied to a scalar"),
    "tag-int": ("name: t\ntimeout: !!int abc\n" + AGENT, "2:10: 'abc' is not a valid !!int value"),
    "tag-float": ("name: t\ntimeout: !!float abc\n" + AGENT,
                  "2:10: 'abc' is not a valid !!float value"),
    "tag-bool": ("name: t\ntimeout: !!bool maybe\n" + AGENT,
                 "2:10: 'maybe' is not a valid !!bool value"),
    "tag-timestamp": ("name: t\ntimeout: !!timestamp xyz\n" + AGENT,
                      "2:10: 'xyz' is not a valid !!timestamp value"),
    "tag-map-on-seq": ("name: t\n" + AGENT + "tags: !!map [a]\n",
                       "4:7: YAML tag !!map cannot be applied to a sequence"),
    "int-past-str-limit": ("name: t\ntimeout: 1" + "0" * 5000 + "\n" + AGENT,
                           "2:10: '1000000000000000000000000000000000000000...' is not a valid "
                           "!!int value"),
    # NUL bytes and long names in file names
    "include-nul": ('name: t\ninclude: ["x\\0y.yaml"]\n' + AGENT,
                    "2:11: include[0]: a file name cannot hold a NUL byte"),
    "include-long": (f'name: t\ninclude: ["{LONG}.yaml"]\n' + AGENT,
                     "2:11: include[0]: the name 'aaaaaaaaaaaaaaaaaaaaaaaa...' is 305 bytes long "
                     "(at most 255 in one file or folder name)"),
    "play-nul": ('name: t\nagents:\n  a: {type: pjsua, steps: [{play: {file: "x\\0.wav"}}]}\n',
                 "3:42: agents.a.steps[0].play.file: a file name cannot hold a NUL byte"),
    "play-long": (f'name: t\nagents:\n  a: {{type: pjsua, steps: [{{play: {{file: {LONG}}}}}]}}\n',
                  "3:42: agents.a.steps[0].play.file: the name 'aaaaaaaaaaaaaaaaaaaaaaaa...' is "
                  "300 bytes long (at most 255 in one file or folder name)"),
    "record-nul": ('name: t\nagents:\n  a: {type: pjsua, steps: [{record: {file: "x\\0"}}]}\n',
                   "3:44: agents.a.steps[0].record.file: a file name cannot hold a NUL byte"),
    "sipp-scenario-nul": ('name: t\nagents:\n  a: {type: sipp, scenario: "x\\0.xml", '
                          'target: "127.0.0.1:5060"}\n',
                          "3:29: agents.a.scenario: a file name cannot hold a NUL byte"),
    "sipp-scenario-long": (f'name: t\nagents:\n  a: {{type: sipp, scenario: "{LONG}.xml", '
                           'target: "127.0.0.1:5060"}\n',
                           "3:29: agents.a.scenario: the name 'aaaaaaaaaaaaaaaaaaaaaaaa...' is "
                           "304 bytes long (at most 255 in one file or folder name)"),
    "tls-nul": ('name: t\nagents:\n  a: {type: pjsua, transport: tls, tls: {cert: "x\\0"}}\n',
                "3:48: agents.a.tls.cert: a file name cannot hold a NUL byte"),
    "tls-long": (f'name: t\nagents:\n  a: {{type: pjsua, transport: tls, tls: {{ca: {LONG}}}}}\n',
                 "3:46: agents.a.tls.ca: the name 'aaaaaaaaaaaaaaaaaaaaaaaa...' is 300 bytes "
                 "long (at most 255 in one file or folder name)"),
    # integer durations above 1e308
    "timeout-huge": (f"name: t\ntimeout: {BIG}\n" + AGENT,
                     "2:10: timeout: duration 10000000000000000000...(401 characters) is too "
                     "long (at most 30 days)"),
    "sleep-huge": (f"name: t\nagents:\n  a: {{type: pjsua, steps: [sleep: {BIG}]}}\n",
                   "3:35: agents.a.steps[0].sleep: duration 10000000000000000000...(401 "
                   "characters) is too long (at most 30 days)"),
    "wait-huge": ("name: t\nagents:\n  a: {type: pjsua, steps: [wait: {event: incoming, "
                  f"timeout: {BIG}}}]}}\n",
                  "3:61: agents.a.steps[0].wait.timeout: duration 10000000000000000000...(401 "
                  "characters) is too long (at most 30 days)"),
    "message-timeout-huge": ("name: t\nagents:\n  s:\n    type: sipp\n    target: 127.0.0.1:5060\n"
                             "    messages:\n      - send: 'OPTIONS sip:x SIP/2.0'\n"
                             f"        timeout: {BIG}\n",
                             "8:18: agents.s.messages[0].timeout: duration "
                             "10000000000000000000...(401 characters) is too long (at most "
                             "30 days)"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_input_is_a_located_error(sipscen, tmp_path: Path, name: str):
    text, expected = CASES[name]
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    code, out, err = sipscen("validate", path)
    assert "internal error" not in err
    assert code == 2, err
    assert err.splitlines()[0] == f"{path}:{expected}"


def test_a_command_line_name_too_long_is_a_usage_error(sipscen, tmp_path: Path):
    code, out, err = sipscen("validate", tmp_path / (LONG + ".yaml"))
    assert code == 2
    assert "is 305 bytes long (at most 255" in err and "internal error" not in err


SIPP = 'name: t\nagents:\n  a: {{type: sipp, {0}}}\n'


@pytest.mark.parametrize("agent, expected", [
    ('target: "10.0.0.1:5060"', "3:27: agents.a.target: 10.0.0.1 is not a loopback address: "
                                "sipscen only sends on 127.0.0.0/8 and ::1 (in a Kubernetes "
                                "pod also to the pod's own address and the discovered SUT "
                                "endpoints)"),
    ('target: "127.0.0.1:x"', "3:27: agents.a.target: target '127.0.0.1:x' is neither an "
                              "agent/service nor host:port (an IPv6 address in brackets: "
                              "[::1]:5060)"),
    ('target: "::1"', "3:27: agents.a.target: target '::1' is neither an agent/service nor "
                      "host:port (an IPv6 address in brackets: [::1]:5060)"),
    ('target: "127.0.0.1:70000"', "3:27: agents.a.target: target '127.0.0.1:70000': port 70000 "
                                  "is outside 1-65535"),
    ("scenario: uac", "3:6: agents.a: a calling SIPp agent needs a 'target' (agent, service or "
                      "host:port)"),
    ('target: "127.0.0.1:5060", messages: ["OPTIONS sip:x SIP/2.0\\nVia: [local_ip"]',
     "3:56: agents.a.messages[0]: '[' at line 2 of the message opens a SIPp keyword that is "
     "never closed (write a literal bracket as \\x5b)"),
])
def test_what_run_refuses_validate_refuses(sipscen, tmp_path: Path, agent: str, expected: str):
    path = tmp_path / "sipp.yaml"
    path.write_text(SIPP.format(agent), encoding="utf-8")
    code, out, err = sipscen("validate", path)
    assert code == 2
    assert err.splitlines()[0] == f"{path}:{expected}"


@pytest.mark.parametrize("agent", ['scenario: uas', 'target: "[::1]:5060"',
                                   'target: "127.0.0.1:${PORT}"'])
def test_valid_sipp_targets_still_validate(sipscen, tmp_path: Path, agent: str):
    path = tmp_path / "sipp.yaml"
    path.write_text("variables: {PORT: '5060'}\n" + SIPP.format(agent), encoding="utf-8")
    code, out, err = sipscen("validate", path)
    assert code == 0, err
