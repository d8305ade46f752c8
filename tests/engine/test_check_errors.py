"""A check that gives no verdict is said as such, never as an interrupted run.

A scenario whose only trouble is a check that could not run (a bug in a check or a
plugin's family: a fault no real run causes on purpose, so the check is made to raise
here) was reported by the command line as "error: interrupted", exit 130 - as if
Ctrl-C had cut it - because the suite took a result with status error and no reason
for one that never got its verdict."""
import pytest

import sipscen.checks.codec as codec_family

DEMO = """
name: check-error
timeout: 20s
agents:
  bob:
    type: pjsua
    codecs: [PCMU]
    steps:
      - wait: {event: disconnected, timeout: 5s}
  alice:
    type: pjsua
    codecs: [PCMU]
    steps:
      - call: {to: bob}
      - wait: {event: media_active, timeout: 5s}
      - sleep: 500ms              # RTP both ways on the wire before the BYE
      - hangup: {}
expect:
  - call: {from: alice, to: bob, answered: true}
  - codec: {between: [alice, bob], codec: PCMU}
"""


@pytest.mark.integration
def test_a_check_that_could_not_run_is_an_error_with_its_reason_not_an_interrupt(
        run_json, monkeypatch, no_leftovers):
    def broken(exp, ctx):
        raise AttributeError("a bug in the check")
    monkeypatch.setattr(codec_family, "check_codec", broken)
    code, sc, out = run_json(DEMO)
    assert code == 3, out
    assert sc["status"] == "error" and sc["exit_status"] == 3
    assert "interrupted" not in sc["error"] and "interrupted" not in out
    assert sc["error"].startswith("no verdict on 1 check(s): codec"), sc["error"]
    statuses = {c["name"]: c["status"] for c in sc["checks"]}
    assert statuses["codec"] == "error" and statuses["call alice->bob: answered"] == "passed"


@pytest.mark.integration
def test_the_same_run_with_the_check_working_passes(run_json, no_leftovers):
    """Negative control: the same scenario, nothing patched, passes (exit 0)."""
    code, sc, out = run_json(DEMO)
    assert code == 0 and sc["status"] == "passed", out
