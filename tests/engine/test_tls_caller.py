"""TLS proven on the wire for the caller too (issue 15): a TLS client connects from an
ephemeral port, not from the one it listens on; PJSUA reports its connections and
the `transport` check follows them. Real PJSUA2 over TLS, tcpdump."""
from __future__ import annotations

import pytest

from sipscen.engine.run import RunOptions, run_scenario
from sipscen.scenario.build import load_scenario

SCENARIO = """
name: tls-caller
timeout: 20s
agents:
  bob:
    type: pjsua
    transport: tls
    tls: {{cert: {cert}, key: {key}}}
    srtp: {{use: mandatory, secure_signaling: 1}}
    steps:
      - wait: {{event: disconnected, timeout: 10s}}
  alice:
    type: pjsua
    transport: tls
    tls: {{cert: {cert}, key: {key}}}
    srtp: {{use: mandatory, secure_signaling: 1}}
    steps:
      - call: {{to: bob}}
      - wait: {{event: media_active, timeout: 5s}}
      - sleep: 300ms
      - hangup: {{}}
expect:
  - call: {{from: alice, to: bob, answered: true}}
  - transport: {{agent: alice, protocol: tls}}
  - transport: {{agent: bob, protocol: tls}}
  - transport: {{agent: alice, protocol: udp}}
"""


@pytest.mark.integration
def test_the_tls_client_is_judged_on_its_own_connections(tmp_path, tls_files, no_leftovers):
    path = tmp_path / "tls-caller.yaml"
    path.write_text(SCENARIO.format(**tls_files))
    result = run_scenario(load_scenario(path), RunOptions(artifacts_root=tmp_path / "art"))
    by_line: dict[int, dict] = {}
    for c in result.checks:
        by_line.setdefault(int(c.location.split(":")[-2]), {})[c.name] = c
    lines = sorted(by_line)
    call, alice, bob, wrong = (by_line[n] for n in lines)
    assert all(c.status == "passed" for c in call.values())
    connections = result.agents["alice"]["connections"]
    assert connections and all(c["transport"] == "tls" for c in connections)
    assert connections[0]["local"] != result.agents["alice"]["uri"].split("@")[1]
    handshake = alice["transport alice: TLS handshake on " + next(
        n.split(" on ", 1)[1] for n in alice if "handshake" in n)]
    assert handshake.status == "passed", handshake
    assert handshake.evidence == "wire"
    assert alice["transport alice: no cleartext SIP"].status == "passed"
    assert all(c.status == "passed" for c in bob.values()), bob
    # negative control: alice's SIP was not over UDP
    assert [c.status for c in wrong.values()] == ["failed"]
