"""The wait events: ``wait: {event: NAME, ...}`` (and ``wait: {signal: ...}``).

Each event owns the wait keys it reads (its schema fragment), its load-time
check and how the timeline waits for it. Call events follow the current call
(see ``timeline.py``); ``incoming`` takes any new call.
"""
from __future__ import annotations

from sipscen.language.registry import WaitEvent, register_event
from sipscen.language.timeline import call_state_is, ended_before

HOLD_STATES = ("local_hold", "remote_hold")


def _simple(name: str, predicate, abort=None, any_call: bool = False):
    def run(t, params, timeout):
        t.wait_call_event(name, predicate, timeout, abort, any_call=any_call)
    return run


def media_is(*states: str, after: tuple[str, ...] = ()):
    return lambda kind, d: kind == "media" and d.get("state") in states and (
        not after or d.get("previous") in after)


register_event(WaitEvent(
    name="incoming", run=_simple("incoming", call_state_is("INCOMING"), any_call=True),
    doc="A new incoming call rings at this agent (any call, not only the current one).",
    example="- wait: {event: incoming, timeout: 5s}"))
register_event(WaitEvent(
    name="answered", run=_simple("answered", call_state_is("CONFIRMED"), ended_before),
    doc="The current call is answered (CONFIRMED); fails at once if it ends first.",
    example="- wait: {event: answered}"))
register_event(WaitEvent(
    name="media_active", run=_simple("media_active", media_is("active"), ended_before),
    doc="The current call's audio flows (negotiated codec, SRTP if any); fails at once if "
        "the call ends first.",
    example="- wait: {event: media_active, timeout: 5s}"))
register_event(WaitEvent(
    name="disconnected", run=_simple("disconnected", call_state_is("DISCONNECTED")),
    doc="The current call ended (by either side, or refused); the next waits are about the "
        "next call.",
    example="- wait: {event: disconnected}"))
register_event(WaitEvent(
    name="held", run=_simple("held", media_is(*HOLD_STATES), ended_before),
    doc="The current call is on hold: put on hold by this agent (`hold` step) or by the "
        "other party (a re-INVITE with a=sendonly or a=inactive).",
    example="- wait: {event: held, timeout: 5s}"))
register_event(WaitEvent(
    name="resumed", run=_simple("resumed", media_is("active", after=HOLD_STATES), ended_before),
    doc="The current call's audio flows again after a hold (either side's `unhold`).",
    example="- wait: {event: resumed, timeout: 5s}"))


def _call_state_check(lc, params) -> None:
    if "state" not in params:
        lc.fail("event call_state needs a 'state' (e.g. CONFIRMED)", [])


def _call_state_run(t, params, timeout):
    state = str(params.get("state") or "").upper()
    if not state:
        raise t.fail("wait for call_state needs a state")
    code = params.get("code")
    key = f"call_state {state}" + (f" {code}" if code is not None else "")
    t.wait_call_event(key, call_state_is(state, code), timeout)


CALL_STATES = ["CALLING", "INCOMING", "EARLY", "CONNECTING", "CONFIRMED", "DISCONNECTED"]
register_event(WaitEvent(
    name="call_state", run=_call_state_run, check=_call_state_check,
    keys={"state": {"type": "string", "minLength": 1,
                    "description": "CALLING, INCOMING, EARLY (18x), CONNECTING, CONFIRMED, "
                                   "DISCONNECTED"},
          "code": {"$ref": "#/$defs/status_code",
                   "description": "the status code that brought the state"}},
    doc="The current call reaches a PJSIP invite state (`state`: CALLING, INCOMING, EARLY, "
        "CONNECTING, CONFIRMED, DISCONNECTED), optionally with a status `code`.",
    example="- wait: {event: call_state, state: EARLY, code: 180}"))

register_event(WaitEvent(
    name="dtmf", run=lambda t, params, timeout: t.wait_dtmf(params.get("digits"), timeout),
    keys={"digits": {"$ref": "#/$defs/dtmf_digits"}},
    doc="Received digits (since the previous dtmf wait's match) contain `digits` (without: "
        "any one new digit); consumes them up to the end of the match.",
    example='- wait: {event: dtmf, digits: "1234#", timeout: 10s}'))


def _signal_check(lc, params) -> None:
    lc.signal_sent(params)


def _signal_run(t, params, timeout):
    t.wait_signal(str(params["signal"]), str(params["agent"]) if params.get("agent") else None,
                  timeout)


register_event(WaitEvent(
    name="signal", run=_signal_run, check=_signal_check,
    keys={"signal": {"$ref": "#/$defs/name"}, "agent": {"$ref": "#/$defs/name"}},
    doc="Another agent's `signal` step (from `agent`, or from anyone); each wait consumes "
        "one occurrence.",
    example="- wait: {signal: ready, agent: bob, timeout: 5s}"))
