"""A PJSUA agent keeps every call's media inside its planned media range, which
is what the capture listens to: the 11th call of an agent with the default 20
ports once got RTP at the range's end + 1 (PJSUA's portRange bound is
inclusive), outside the capture, so a wire check missed that call's digit and
failed instead of passing. Real PJSUA2 agents, 12 short calls."""
import json
import os

import pytest

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(os.geteuid() != 0, reason="capturing on lo needs root")]

TWELVE_CALLS = """
name: twelve-calls
timeout: 60s
agents:
  bob:
    type: pjsua
    steps:
      - repeat:
          count: 12
          steps:
            - wait: {event: incoming, timeout: 5s}
            - wait: {event: disconnected, timeout: 5s}
  alice:
    type: pjsua
    steps:
      - repeat:
          count: 12
          steps:
            - call: {to: bob}
            - wait: {event: media_active, timeout: 5s}
            - sleep: 150ms
            - dtmf: {digits: "${i}", method: rfc4733, duration: 60ms}
            - sleep: 100ms
            - hangup: {}
            - wait: {event: disconnected, timeout: 5s}
expect:
  - call: {from: alice, to: bob, count: 12, answered: true}
  - dtmf: {from: alice, to: bob, digits: "123456789101112", where: wire}
"""


def test_twelve_calls_keep_their_media_inside_the_planned_range(tmp_path, sipscen,
                                                                 no_leftovers):
    path = tmp_path / "s.yaml"
    path.write_text(TWELVE_CALLS)
    code, out, err = sipscen("run", path, "--artifacts", tmp_path / "art", "-q",
                             "--json", tmp_path / "r.json")
    (s,) = json.loads((tmp_path / "r.json").read_text())["scenarios"]
    outside = [w for w in s["warnings"] if "outside its declared ports" in w]
    assert not outside, outside
    assert code == 0, out + err
