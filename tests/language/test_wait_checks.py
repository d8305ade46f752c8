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
