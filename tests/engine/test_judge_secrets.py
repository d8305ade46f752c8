"""`sipscen judge` on a run whose scenario has secrets: evidence.json holds them
masked (***) like every artifact, so an expectation that names a secret cannot
be judged again; it is inconclusive, saying why, never a false fail or pass.
Those that name none are judged as the run judged them. A real PJSUA2 run."""
import json
import os

import pytest

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(os.geteuid() != 0, reason="capturing on lo needs root")]

SECRET = "tok-9d41c0b2e7aa"
SCENARIO = """
name: secret-header
agents:
  bob:
    type: pjsua
    steps:
      - wait: {event: incoming, timeout: 5s}
      - wait: {event: disconnected, timeout: 5s}
  alice:
    type: pjsua
    steps:
      - call: {to: bob, headers: {X-Token: "${env:SIPSCEN_T_JUDGE}"}}
      - wait: {event: media_active}
      - hangup: {}
expect:
  - call: {from: alice, to: bob, answered: true}
  - sip: {from: alice, method: INVITE, headers: {X-Token: "^${env:SIPSCEN_T_JUDGE}$"}, count: 1}
"""


def test_an_expectation_naming_a_secret_is_inconclusive_on_saved_evidence(
        tmp_path, sipscen, monkeypatch, no_leftovers):
    monkeypatch.setenv("SIPSCEN_T_JUDGE", SECRET)
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO)
    code, out, err = sipscen("run", path, "--artifacts", tmp_path / "art", "-q")
    assert code == 0, out + err                      # the run itself judged the header
    (folder,) = (tmp_path / "art").iterdir()
    assert SECRET.encode() not in (folder / "evidence.json").read_bytes()
    code, out, err = sipscen("judge", folder, "--json", tmp_path / "j.json", "--mutate")
    checks = {c["name"]: c for s in json.loads((tmp_path / "j.json").read_text())["scenarios"]
              for c in s["checks"]}
    sip = next(c for n, c in checks.items() if n.startswith("sip "))
    assert sip["status"] == "error" and sip["message"].startswith(
        "inconclusive: this expectation names a secret"), sip
    assert checks["call alice->bob: answered"]["status"] == "passed"
    assert "not mutated: its own judgement did not pass" in out
    assert SECRET not in out + err
