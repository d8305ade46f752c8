"""The browser agent's bad input and bad outcomes: refused at validation at
FILE:LINE:COL (a codec Chromium lacks, a trusted file that is not a certificate, a
registrar URL that is not ws/wss, a hold it cannot do); a run-time error naming the
URL when nothing takes SIP over WebSocket there, and saying how to trust a wss
certificate the browser does not trust; and no Chromium (nor its crash handler, nor
Playwright's driver, nor the SUT) left running after a Ctrl-C or a SIGKILL of sipscen."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from ..conftest import TOKEN_VAR, processes_with_token
from .conftest import ROOT, chromium_groups, in_groups, needs_webrtc

LIB = ROOT / "scenarios" / "lib"


def scenario(tmp_path: Path, agent: str, name: str = "s.yaml", lib: str = "kamailio-webrtc-sbc",
             timeout: str = "30s") -> Path:
    path = tmp_path / name
    path.write_text(f"""name: browser-{path.stem}
include: [{LIB}/{lib}.yaml]
timeout: {timeout}
agents:
  alice:
{agent}
""")
    return path


@pytest.mark.parametrize("agent, where, message", [
    ("    type: browser\n    codecs: [PCMA, G729]\n    account: {registrar: sut}", "7:20",
     "Chromium has no codec 'G729': a browser agent offers opus, G722, PCMU or PCMA"),
    ("    type: browser\n    account: {registrar: sut}\n    tls: {trust: s.yaml}", "8:18",
     "not a PEM certificate"),
    ("    type: browser\n    account: {registrar: 'sip:127.0.0.1:5060'}", "7:26",
     "a browser connects over WebSocket"),
    ("    type: browser\n    account: {registrar: 'http://127.0.0.1:5060'}", "7:26",
     "is not a ws:// or wss:// URL"),
    ("    type: browser\n    transport: ws\n    account: {registrar: 'wss://127.0.0.1:5061'}",
     "7:16", "transport ws but the registrar's URL is wss://"),
    ("    type: browser\n    account: {registrar: sut}\n    steps: [{hold: {mode: inactive}}]",
     "8:27", "a browser agent holds with a=sendonly only"),
])
def test_validation_refuses_what_a_browser_cannot_do(tmp_path, sipscen, agent, where, message):
    path = scenario(tmp_path, agent)
    code, out, err = sipscen("validate", path)
    assert code == 2, out + err
    line, col = where.split(":")
    located = [ln for ln in (out + err).splitlines() if f"{path}:{line}:{col}:" in ln]
    assert located, out + err
    if message:
        assert message in located[0], located


def test_a_valid_browser_agent_validates(tmp_path, sipscen):
    trust = ROOT / "examples" / "sut" / "webrtc-test.crt"
    path = scenario(tmp_path, f"""    type: browser
    transport: wss
    codecs: [opus, PCMA]
    account: {{registrar: sut, user: alice}}
    tls: {{trust: {trust}}}
    source: {{tone: 440}}
    answer: {{manual: true, delay: 100ms}}
    steps:
      - wait: {{event: incoming}}
      - answer: {{}}
      - dtmf: {{digits: "12", method: rfc4733, duration: 100ms}}
      - hold: {{}}
      - unhold: {{}}
      - hangup: {{}}""")
    code, out, err = sipscen("validate", path)
    assert code == 0, out + err


@needs_webrtc
@pytest.mark.integration
def test_ws_to_a_sut_without_a_websocket_listener_names_the_url(tmp_path, run_json,
                                                                 no_leftovers):
    code, result, out = run_json(f"""name: browser-no-ws
include: [{LIB}/kamailio-sut.yaml]
timeout: 20s
agents:
  alice: {{type: browser, account: {{registrar: sut}}, steps: [{{sleep: 1s}}]}}
""")
    assert code == 3 and result["status"] == "error", out
    port = result["services"]["sut"]["uri"].rsplit(":", 1)[1]
    assert f"cannot open the WebSocket ws://127.0.0.1:{port}" in result["error"]
    assert "nothing listens there" in result["error"] and "ws_port" in result["error"]


@needs_webrtc
@pytest.mark.integration
def test_an_untrusted_wss_certificate_says_how_to_trust_it(tmp_path, run_json, no_leftovers):
    code, result, out = run_json(f"""name: browser-untrusted
include: [{LIB}/kamailio-webrtc-sbc.yaml]
timeout: 20s
agents:
  alice: {{type: browser, transport: wss, account: {{registrar: sut}}, steps: [{{sleep: 1s}}]}}
""")
    assert code == 3 and result["status"] == "error", out
    error = result["error"]
    assert "cannot open the WebSocket wss://127.0.0.1:" in error
    assert "does not trust the server's certificate (net::ERR_CERT_" in error
    assert "trust it with `tls: {trust: CERT.pem}`" in error


SLEEPER = """name: browser-sleeps
include: [{lib}/kamailio-webrtc-sbc.yaml]
timeout: 60s
agents:
  alice:
    type: browser
    account: {{registrar: sut}}
    steps: [{{signal: up}}, {{sleep: 40s}}]
"""


def _wait_for_browser(token: str, proc: subprocess.Popen, seconds: float = 40.0) -> set[int]:
    """Chromium's process group(s), once its renderers run and Playwright's driver does."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        running = processes_with_token(token)
        groups = chromium_groups(token)
        if groups and any("--type=renderer" in p for p in in_groups(groups)) and \
                any("node" in p and "run-driver" in p for p in running):
            time.sleep(3.0)          # registered, its steps running
            return groups
        time.sleep(0.2)
    pytest.fail(f"no browser within {seconds}s: {processes_with_token(token)}")


def _none_left(token: str, groups: set[int], seconds: float = 15.0) -> list[str]:
    deadline = time.monotonic() + seconds
    while True:
        left = processes_with_token(token) + in_groups(groups)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


@needs_webrtc
@pytest.mark.integration
@pytest.mark.parametrize("how", ["sigint", "sigkill"])
def test_nothing_outlives_an_interrupted_or_killed_run(tmp_path, how):
    path = tmp_path / "sleeper.yaml"
    path.write_text(SLEEPER.format(lib=LIB))
    token = uuid.uuid4().hex
    report = tmp_path / "r.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sipscen", "run", str(path), "--json", str(report),
         "--artifacts", str(tmp_path / "art"), "-q"],
        env={**os.environ, TOKEN_VAR: token}, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        groups = _wait_for_browser(token, proc)
        if how == "sigint":       # Ctrl-C at a terminal: the whole foreground group
            os.killpg(proc.pid, signal.SIGINT)
            out, err = proc.communicate(timeout=60)
            assert proc.returncode == 130, (out, err)
            (result,) = json.loads(report.read_text())["scenarios"]
            assert result["status"] == "error" and result["error"] == "interrupted"
        else:                     # sipscen killed hard: the watchdog cleans up
            os.kill(proc.pid, signal.SIGKILL)
            proc.communicate(timeout=30)
        assert _none_left(token, groups) == []
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        for line in processes_with_token(token):     # never leave them to the next test
            os.kill(int(line.split()[0]), signal.SIGKILL)


@needs_webrtc
@pytest.mark.integration
def test_a_run_that_fails_before_the_agents_start_stops_the_booting_browser(tmp_path, run_json):
    """Chromium boots when the browser agent is planned; a service that dies before the
    agents start ends the run, and the booting Chromium with it."""
    token = uuid.uuid4().hex
    os.environ[TOKEN_VAR] = token
    try:
        code, result, out = run_json("""name: browser-sut-dies
timeout: 20s
services:
  sut: {command: [sh, -c, "sleep 1; exit 7"], ready: {log: never, timeout: 5s}}
agents:
  alice: {type: browser, account: {registrar: sut}, steps: [{sleep: 1s}]}
""")
        assert result["status"] == "error" and "exited with code 7" in result["error"], out
        assert _none_left(token, set()) == []
    finally:
        os.environ.pop(TOKEN_VAR, None)
