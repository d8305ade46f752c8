"""validate refuses what parity scenarios could get wrong (issue 21), at the line."""
from __future__ import annotations

import pytest

BASE = """
name: v
agents:
  bob:
    type: {bob_type}
    steps:
{bob_steps}
  alice:
    type: pjsua
    steps:
{alice_steps}
"""


@pytest.mark.parametrize("bob_type, bob_steps, alice_steps, where, message", [
    ("pjsua", "      - wait: {event: answered, request_uri: x}", "      - call: {to: bob}",
     "steps[0].wait.request_uri", "'request_uri' only applies to event: incoming"),
    ("pjsua", "      - wait: {event: incoming}",
     "      - repeat: {count: 0, steps: [{call: {to: bob}}]}",
     "repeat.count", "a repeat count is a whole number from 1"),
    ("pjsua", "      - wait: {event: incoming}",
     "      - repeat: {count: 2, steps: [{call: {to: bob, id: \"c-${j}\"}}]}",
     "call.id", "undefined variable 'j'"),
    ("pjsua", "      - wait: {event: incoming}",
     "      - repeat: {count: 2, steps: [{call: {to: bob, id: same}}]}",
     "call.id", "already names a call 'same'"),
    ("baresip", "      - call: {to: alice, sdp: false}", "      - wait: {event: incoming}",
     "call.sdp", "a baresip agent always offers SDP in its INVITE"),
    ("baresip", "      - wait: {event: incoming, request_uri: x}", "      - call: {to: bob}",
     "wait.request_uri", "does not report the headers or Request-URI"),
    ("pjsua", "      - wait: {event: tone}", "      - call: {to: bob}",
     "steps[0].wait", "event tone needs `frequencies`"),
])
def test_validate_refuses(sipscen, write_scenario, bob_type, bob_steps, alice_steps, where,
                          message):
    path = write_scenario(BASE.format(bob_type=bob_type, bob_steps=bob_steps,
                                      alice_steps=alice_steps))
    code, out, err = sipscen("validate", path)
    assert code == 2, out + err
    assert where in out + err and message in out + err, out + err


def test_validate_refuses_tls_verification_without_a_ca(sipscen, write_scenario, tls_files):
    path = write_scenario("""
name: v
agents:
  alice:
    type: pjsua
    transport: tls
    tls: {cert: cert.pem, key: key.pem, verify_server: true}
""")
    code, out, err = sipscen("run", path)
    assert code == 2 and "verifying a certificate needs the CA it trusts: tls.ca" in out + err


def test_a_signal_sent_inside_a_repeat_is_known_to_waits(sipscen, write_scenario):
    """Each iteration's signal (``heard-${i}``) is one a wait may name; a name no
    iteration sends is still refused at its line."""
    text = """
name: v
agents:
  bob:
    type: pjsua
    steps:
      - repeat: {count: 2, steps: [{wait: {event: incoming}}, {signal: "heard-${i}"}]}
  alice:
    type: pjsua
    steps:
      - repeat: {count: 2, steps: [{call: {to: bob}}, {wait: {signal: "%s"}}, {hangup: {}}]}
"""
    code, out, err = sipscen("validate", write_scenario(text % "heard-${i}"))
    assert code == 0, out + err
    code, out, err = sipscen("validate", write_scenario(text % "heard-3"))
    assert code == 2 and "no agent signals 'heard-3'" in out + err, out + err
