"""Issue 20: an ${env:} secret is in no artifact, no folder name, no report. Real
runs (PJSUA2 sending the secret in a header, a service printing it, tcpdump
capturing it), then the whole artifacts tree is searched for the value."""
import json
import os
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(os.geteuid() != 0, reason="capturing on lo needs root")]

SECRET = "tok-5f3c9a7e1d2b"
SCENARIO = """
name: "leak-${env:SIPSCEN_T_TOKEN}"
services:
  echo:
    command: [sh, -c, "echo token=$TOKEN; echo err=$TOKEN >&2; exec sleep 60"]
    env: {TOKEN: "${env:SIPSCEN_T_TOKEN}"}
    ready: {log: "token="}
agents:
  bob:
    type: pjsua
    steps:
      - wait: {event: incoming, timeout: 5s}
      - wait: {event: disconnected, timeout: 5s}
  alice:
    type: pjsua
    steps:
      - call: {to: bob, headers: {X-Token: "${env:SIPSCEN_T_TOKEN}"}}
      - wait: {event: media_active}
      - hangup: {}
expect:
  - call: {from: alice, to: bob, answered: true}
  - sip: {from: alice, method: INVITE, headers: {X-Token: ".+"}}
"""


def _holders(root: Path, needle: bytes) -> list[str]:
    """Every file whose bytes, and every path whose name, holds ``needle``."""
    found = []
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            if needle.decode() in name:
                found.append(f"name: {Path(folder) / name}")
        for name in files:
            if needle in (Path(folder) / name).read_bytes():
                found.append(f"content: {Path(folder) / name}")
    return found


def test_no_secret_in_any_artifact_folder_name_or_report(tmp_path, sipscen, monkeypatch,
                                                          no_leftovers):
    monkeypatch.setenv("SIPSCEN_T_TOKEN", SECRET)
    (tmp_path / "s.yaml").write_text(SCENARIO)
    art, report = tmp_path / "art", tmp_path / "r.json"
    code, out, err = sipscen("run", tmp_path / "s.yaml", "--json", report, "--junit",
                             tmp_path / "r.xml", "--html", tmp_path / "r.html",
                             "--artifacts", art)
    assert code == 0, out + err
    (scenario,) = json.loads(report.read_text())["scenarios"]
    assert scenario["name"] == "leak-***"
    # the secret went through: on the wire (a sip check matched the header), in the
    # service's environment, in pjsua's log; each file that held it is named
    assert all(c["status"] == "passed" for c in scenario["checks"]), scenario["checks"]
    (warning,) = [w for w in scenario["warnings"] if w.startswith("secrets masked")]
    for held in ("alice/pjsua.log", "bob/pjsua.log", "capture.pcap", "echo/echo.stdout.log",
                 "echo/echo.stderr.log"):
        assert held in warning, warning
    assert _holders(art, SECRET.encode()) == []
    assert _holders(tmp_path, SECRET.encode()) == []       # reports too
    assert SECRET not in out + err
    # the folder the reports link to is the real one
    folder = Path(scenario["artifacts"]["dir"])
    assert folder.is_dir() and folder.parent == art.resolve()
    assert "leak" in folder.name and "*" not in folder.name
    for label, path in scenario["artifacts"].items():
        assert Path(path).exists(), (label, path)
    assert "X-Token: ***" in (folder / "alice" / "pjsua.log").read_text()
    assert "token=***" in (folder / "echo" / "echo.stdout.log").read_text()
    # the masked capture still dissects: the INVITE and its header are there
    code, out, err = sipscen("analyze", scenario["artifacts"]["pcap"], "--json", "-")
    wire = json.loads(out)
    assert code == 0 and any(m["summary"].startswith("INVITE") for c in wire["calls"]
                             for m in c["messages"])


def test_kube_manifests_take_secrets_from_a_secret_never_the_value(tmp_path, sipscen,
                                                                   monkeypatch):
    folder = tmp_path / "suite"
    folder.mkdir()
    (folder / "s.yaml").write_text(SCENARIO)
    monkeypatch.chdir(tmp_path)
    for env in ({}, {"SIPSCEN_T_TOKEN": SECRET}):        # unset, or set where it is run
        if env:
            monkeypatch.setenv("SIPSCEN_T_TOKEN", SECRET)
        code, out, err = sipscen("kube", "manifests", "suite", "--shards", "1", "--image",
                                 "img:1", "--name", "nightly")
        assert code == 0, err
        assert SECRET not in out
        import yaml
        job = list(yaml.safe_load_all(out))[3]
        env_list = job["spec"]["template"]["spec"]["containers"][0]["env"]
        assert {"name": "SIPSCEN_T_TOKEN", "valueFrom": {"secretKeyRef": {
            "name": "nightly-env", "key": "SIPSCEN_T_TOKEN"}}} in env_list
    code, out, err = sipscen("kube", "manifests", "suite", "--shards", "1", "--image",
                             "img:1", "--secret", "qa-tokens")
    assert code == 0 and "name: qa-tokens" in out and SECRET not in out
