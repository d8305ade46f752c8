"""An in-dialog request right after the callee's `media_active` waits for the
caller's ACK: between its 200 and the ACK the callee's call is CONNECTING and
PJSUA refuses REFER, re-INVITE, INFO, hold (the transfer-refused call flow
failed so under load). The worker's answers are stubbed here; the call flows
run the real worker."""
from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from sipscen.agents.pjsua import protocol as P
from sipscen.agents.pjsua.controller import PjsuaAgent


def _agent(sent: list):
    agent = PjsuaAgent.__new__(PjsuaAgent)
    agent.cond = threading.Condition()
    agent.events = [(P.CALL_STATE, {"call_id": "c1", "state": "CONNECTING"})]
    agent.ctx = SimpleNamespace(name="bob", board=SimpleNamespace(cancelled=threading.Event()))
    agent._dead = agent._stopping = False
    agent.proc = None

    def do(kind, timeout=10.0, **args):
        state = [d["state"] for k, d in agent.events if k == P.CALL_STATE][-1]
        sent.append((kind, state))
        return {"ok": True}
    agent._do = do
    return agent


def _confirm_later(agent, delay=0.3):
    def confirm():
        time.sleep(delay)
        with agent.cond:
            agent.events.append((P.CALL_STATE, {"call_id": "c1", "state": "CONFIRMED"}))
            agent.cond.notify_all()
    threading.Thread(target=confirm, daemon=True).start()


@pytest.mark.parametrize("operation", [
    lambda a: a.transfer("c1", "sip:carol@127.0.0.1:5070", {}),
    lambda a: a.hold("", "sendonly"),
    lambda a: a.unhold("c1"),
    lambda a: a.reinvite("c1", "INVITE", ["PCMA"], {}),
    lambda a: a.send_info("", "application/dtmf-relay", "Signal=1", {}),
    lambda a: a.send_dtmf("1", "rfc4733", 0.1, 0.1),
])
def test_an_in_dialog_request_waits_for_the_ack(operation):
    sent: list = []
    agent = _agent(sent)
    _confirm_later(agent)
    operation(agent)
    assert len(sent) == 1 and sent[0][1] == "CONFIRMED", sent


def test_a_confirmed_call_is_not_delayed():
    sent: list = []
    agent = _agent(sent)
    agent.events.append((P.CALL_STATE, {"call_id": "c1", "state": "CONFIRMED"}))
    start = time.monotonic()
    agent.transfer("c1", "sip:carol@127.0.0.1:5070", {})
    assert sent == [(P.TRANSFER, "CONFIRMED")] and time.monotonic() - start < 0.1
