"""Load-time checks of wait events: a wait that could never be met is refused by
validate (not a timeout at run time)."""


def test_a_call_state_wait_names_a_real_state(write_scenario, sipscen):
    path = write_scenario("""
name: call-state
agents:
  alice:
    type: pjsua
    steps:
      - wait: {event: call_state, state: CONFIRMD}
      - wait: {event: call_state, state: early, code: 180}
""")
    code, out, err = sipscen("validate", path)
    text = out + err
    assert code == 2 and "Traceback" not in text, text
    assert (f"{path}:7:42: agents.alice.steps[0].wait.state: unknown call state 'CONFIRMD' "
            "— states are: CALLING, INCOMING, EARLY, CONNECTING, CONFIRMED, DISCONNECTED; "
            "did you mean 'CONFIRMED'?") in text, text
    assert "steps[1]" not in text, text


def test_a_phase_may_start_at_a_service_signal(write_scenario, sipscen):
    """A service's `signal` step is waited for like an agent's; the audio and rtp
    phases (`after`, `before`) may name it too."""
    path = write_scenario("""
name: svc-signal
services:
  sut:
    command: [sleep, "30"]
    steps:
      - sleep: 1s
      - signal: sut-up
agents:
  a: {type: pjsua, steps: [{wait: {signal: sut-up, timeout: 5s}}, {call: {to: b}}, {signal: talked}]}
  b: {type: pjsua}
expect:
  - rtp: {from: a, to: b, min_packets: 1, after: sut-up}
  - audio: {from: a, to: b, not_silent: true, after: sut-up, before: talked}
  - audio: {from: a, to: b, not_silent: true, after: sut-upp}
""")
    code, out, err = sipscen("validate", path)
    text = out + err
    assert code == 2, text
    assert ":13:" not in text and ":14:" not in text, text
    assert f"{path}:15:54: expect[2].audio.after: no agent or service sends signal 'sut-upp' (a 'signal' step); did you mean 'sut-up'?" in text, text
