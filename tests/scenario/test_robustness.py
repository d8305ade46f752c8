"""Whatever the input, the result is ScenarioErrors with FILE:LINE:COL, never a traceback."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from sipscen.scenario import validate_file

GARBAGE = {
    "agents-list": ("name: x\nagents: [a, b]\n", "2:9: agents: expected a mapping, got a list"),
    "agent-null": ("name: x\nagents: {alice: null}\n",
                   "2:17: agents.alice: expected a mapping, got nothing (null)"),
    "steps-mapping": ("name: x\nagents: {a: {type: pjsua, steps: {call: x}}}\n",
                      "2:34: agents.a.steps: expected a list, got a mapping"),
    "step-scalar": ("name: x\nagents: {a: {type: pjsua, steps: [call]}}\n",
                    "2:35: agents.a.steps[0]: expected a mapping, got the string 'call'"),
    "include-string": ("name: x\nagents: {a: {type: pjsua}}\ninclude: lib.yaml\n",
                       "3:10: include: expected a list, got the string 'lib.yaml'"),
    "empty-wait": ("name: x\nagents: {a: {type: pjsua, steps: [wait: {}]}}\n",
                   "2:41: agents.a.steps[0].wait: needs 'event' or 'signal'"),
    "recursive-alias": ("a: &a [*a]\n", "1:4: YAML syntax error: found unconstructable "
                                        "recursive node"),
    "empty-file": ("", "1:1: a scenario file is a mapping (name:, agents:, ...)"),
    "nul-byte": ("name: x\x00\n", "1:8: YAML syntax error: character 0x0000 is not allowed "
                                  "(write control characters as escapes in a double-quoted "
                                  "string)"),
    "two-documents": ("name: x\n---\nname: y\n", "2:1: YAML syntax error: but found another "
                      "document (expected a single document in the stream at line 1)"),
    "complex-key": ("? [a, b]\n: c\n", "1:3: a key must be a plain string, not a list or mapping"),
    "date-name": ("name: 2024-01-01\nagents: {a: {type: pjsua}}\n",
                  "1:7: name: expected a string, got a date 2024-01-01 (quote the value to "
                  "make it a string)"),
    "same-agent-twice": ("name: x\nagents: {a: {type: pjsua}}\nexpect: [srtp: {between: [a, a]}]\n",
                         "3:26: expect[0].srtp.between: 'between' needs two different agents"),
    "min-above-max": ("name: x\nagents: {a: {type: pjsua}}\n"
                      "expect: [call: {from: a, min_duration: 5s, max_duration: 1s}]\n",
                      "3:40: expect[0].call.min_duration: min_duration 5s is above "
                      "max_duration 1s"),
    "agent-and-service": ("name: x\nservices: {a: {command: [x]}}\nagents: {a: {type: pjsua}}\n",
                          "2:12: services.a: 'a' is both an agent and a service"),
}


@pytest.mark.parametrize("name", sorted(GARBAGE))
def test_garbage_gives_a_located_error(tmp_path: Path, name: str):
    text, expected = GARBAGE[name]
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    errors = validate_file(path, environ={})
    assert errors, "should be invalid"
    assert all(re.match(rf"^{re.escape(str(path))}:\d+:\d+: ", str(e)) for e in errors)
    assert str(errors[0]) == f"{path}:{expected}"


def test_not_utf8(tmp_path: Path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"name: caf\xe9\n")
    (error,) = validate_file(path)
    assert str(error) == f"{path}:1:1: not UTF-8 text (invalid continuation byte)"


def test_a_folder_is_not_a_scenario(tmp_path: Path):
    (error,) = validate_file(tmp_path)
    assert error.message.startswith("cannot read")


def test_alias_bomb_is_refused_quickly(tmp_path: Path):
    """Billion laughs: 10 levels of 10 aliases (10^10 values) must not hang validation."""
    import time

    lines = ["name: x", "variables:", "  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"  l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, 10)]
    lines += ["agents: {a: {type: sipp, extra_args: *l9}}"]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    started = time.monotonic()
    (error,) = validate_file(path, environ={})
    assert time.monotonic() - started < 5
    assert str(error) == (f"{path}:8:7: too large: aliases expand this to more than "
                          "1,000,000 values (is it an alias bomb?)")


def test_too_many_aliases_are_refused(tmp_path: Path):
    from sipscen.scenario.marks import MAX_ALIASES

    path = tmp_path / "aliases.yaml"
    path.write_text("name: &n x\ntags: [" + ", ".join(["*n"] * (MAX_ALIASES + 1)) + "]\n"
                    "agents: {a: {type: pjsua}}\n", encoding="utf-8")
    (error,) = validate_file(path, environ={})
    col = len("tags: [") + 1 + len("*n, ") * MAX_ALIASES
    assert str(error) == f"{path}:2:{col}: too many aliases: more than 10,000 uses of *name in one file"


def test_aliases_within_the_limits_still_work(tmp_path: Path):
    path = tmp_path / "ok.yaml"
    path.write_text("name: x\nagents:\n  a: &agent {type: pjsua, codecs: [PCMA]}\n  b: *agent\n"
                    "  c: {<<: *agent, transport: tcp}\n", encoding="utf-8")
    assert validate_file(path, environ={}) == []


@pytest.mark.parametrize("value, message", [
    ("SIGTRM", "unknown signal 'SIGTRM' — did you mean 'SIGTERM'?"),
    ("FOO", "unknown signal 'FOO' — use e.g. SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1 or SIGKILL"),
    ("999", "no signal has the number 999 on this system"),
    ("TERM", None), ("SIGINT", None), ("9", None), ("SIGUSR1", None),
])
def test_stop_signal_is_checked_at_load(tmp_path: Path, value: str, message: str | None):
    path = tmp_path / "signal.yaml"
    path.write_text("name: x\nagents: {a: {type: pjsua}}\n"
                    f"services: {{s: {{command: [x], stop_signal: {value}}}}}\n", encoding="utf-8")
    found = [str(e) for e in validate_file(path, environ={})]
    assert found == ([f"{path}:3:43: services.s.stop_signal: {message}"] if message else [])


def test_sipp_inline_message_outside_latin1_is_located_at_the_message(tmp_path: Path):
    path = tmp_path / "msg.yaml"
    path.write_text("name: x\nagents:\n  s:\n    type: sipp\n    target: 127.0.0.1:5060\n"
                    "    messages:\n"
                    "      - 'OPTIONS sip:caf\u00e9@x SIP/2.0'\n"          # é is latin-1: fine
                    "      - 'OPTIONS sip:\u2603@x SIP/2.0'\n"            # a snowman is not
                    "      - {send: 'OPTIONS sip:x SIP/2.0\\xe2\\x98\\x83'}\n", encoding="utf-8")
    found = [str(e) for e in validate_file(path, environ={})]
    assert found == [f"{path}:8:9: agents.s.messages[1]: character '\u2603' (U+2603) at line 1, "
                     "column 13 of the message is outside latin-1: a raw message is bytes, "
                     "write other bytes as \\xNN (UTF-8 bytes for text)"]


@pytest.mark.parametrize("text, message", [
    ('"((("', "can't parse filter expression: syntax error"),
    ('"port 99999"', "illegal port number 99999 > 65535"),
    ('"  "', "can't parse filter expression: syntax error"),
    ('"tcp and \\0"', "a capture filter cannot hold a NUL character"),
    ('"udp port 5060"', None), ('"not icmp"', None), ('""', None),
    ('"ether host 01:02:03:04:05:06"', None),     # Ethernet only: valid on lo
    ('"vlan and udp"', None),                      # valid on some link type: not refused
])
def test_capture_filter_is_compiled_at_load(tmp_path: Path, text: str, message: str | None):
    from sipscen.capture import bpf

    if not bpf.available() and message and "NUL" not in message:
        pytest.skip("libpcap is not installed: filters are checked by tcpdump at run time")
    path = tmp_path / "capture.yaml"
    path.write_text(f"name: x\nagents: {{a: {{type: pjsua}}}}\ncapture: {{filter: {text}}}\n",
                    encoding="utf-8")
    found = [str(e) for e in validate_file(path, environ={})]
    assert found == ([f"{path}:3:19: capture.filter: invalid capture filter: {message}"]
                     if message else [])


def test_deep_nesting_is_refused_not_a_recursion_error(tmp_path: Path):
    path = tmp_path / "deep.yaml"
    path.write_text("name: x\nagents: {a: {type: pjsua}}\ntags: " + "[" * 5000 + "]" * 5000 + "\n",
                    encoding="utf-8")
    (error,) = validate_file(path, environ={})
    assert str(error) == f"{path}:3:106: nested too deeply: more than 100 levels"


def test_deep_nesting_through_aliases_is_refused(tmp_path: Path):
    lines = ["name: x", "agents: {a: {type: pjsua}}", "variables:",
             "  d0: &d0 " + "[" * 60 + "x" + "]" * 60]
    lines += [f"  d{i}: &d{i} " + "[" * 60 + f"*d{i - 1}" + "]" * 60 for i in range(1, 30)]
    path = tmp_path / "deep-alias.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (error,) = validate_file(path, environ={})
    assert str(error) == f"{path}:5:31: nested too deeply: aliases nest this more than 100 levels"


def test_nesting_below_the_limit_still_validates(tmp_path: Path):
    depth = 95     # the file's own levels (root, agents, a, extra_args) come on top
    path = tmp_path / "nested.yaml"
    path.write_text("name: x\nvariables: {X: y}\nagents: {a: {type: sipp, extra_args: "
                    + "[" * depth + '"${X}"' + "]" * depth + "}}\n", encoding="utf-8")
    errors = validate_file(path, environ={})
    assert [e.message for e in errors] == ["expected a string, got a list"]


def test_sipp_inline_message_shape_is_checked_at_load(tmp_path: Path):
    path = tmp_path / "shape.yaml"
    path.write_text("name: x\nagents:\n  s:\n    type: sipp\n    target: 127.0.0.1:5060\n"
                    "    messages:\n"
                    "      - 'SIP/2.0 200 OK'\n"
                    "      - send: '\\x4fPTIONS sip:x SIP/2.0'\n"   # an escape: the agent decodes it
                    "        expect: {status: 200, nothing: 1s}\n"
                    "      - \"\\nOPTIONS sip:x SIP/2.0\"\n", encoding="utf-8")
    found = [str(e) for e in validate_file(path, environ={})]
    assert found == [
        f"{path}:7:9: agents.s.messages[0]: the first line must start with a method and a "
        "space (SIPp sends requests only)",
        f"{path}:9:31: agents.s.messages[1].expect.nothing: 'nothing' cannot be combined with "
        "status or header",
    ]
