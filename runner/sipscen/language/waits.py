"""The wait events: ``wait: {event: NAME, ...}`` (and ``wait: {signal: ...}``).

Each event owns the wait keys it reads (its schema fragment), its load-time
check and how the timeline waits for it. Call events follow the current call
(see ``timeline.py``); ``incoming`` takes any new call.
"""
from __future__ import annotations

import difflib
import re

from sipscen.language.registry import WaitEvent, register_event
from sipscen.core.model import status_matches
from sipscen.language.timeline import call_state_is, ended_before

HOLD_STATES = ("local_hold", "remote_hold")


CALL_KEY = {"call": {"$ref": "#/$defs/name",
                    "description": "a call named by its `call` step's `id` (default: the "
                                   "current call)"}}


HEADERS_KEY = {"headers": {"$ref": "#/$defs/header_patterns",
                          "description": "regexes the received message's headers must match"}}


def headers_match(d, patterns) -> bool:
    """Every ``Name: regex`` matches the event's received headers (names case-blind)."""
    got = {str(k).lower(): str(v) for k, v in (d.get("headers") or {}).items()}
    return all(re.search(p, got.get(str(n).lower(), "")) is not None and
               str(n).lower() in got for n, p in (patterns or {}).items())


def _simple(name: str, predicate, abort=None, any_call: bool = False):
    def run(t, params, timeout):
        named = t.target(params) if params.get("call") else None
        test = predicate
        if params.get("headers"):
            test = lambda kind, d: predicate(kind, d) and headers_match(d, params["headers"])
        t.wait_call_event(name, test, timeout, abort, any_call=any_call, call=named)
    return run


def media_is(*states: str, after: tuple[str, ...] = ()):
    return lambda kind, d: kind == "media" and d.get("state") in states and (
        not after or d.get("previous") in after)


def _incoming_run(t, params, timeout):
    test = call_state_is("INCOMING")
    if params.get("headers"):
        test = lambda kind, d: call_state_is("INCOMING")(kind, d) and \
            headers_match(d, params["headers"])
    data = t.wait_call_event("incoming", test, timeout, any_call=True)
    if params.get("id") and data.get("call_id"):
        t.named[str(params["id"])] = data["call_id"]


register_event(WaitEvent(
    name="incoming", run=_incoming_run,
    keys={**HEADERS_KEY, "id": {"$ref": "#/$defs/name",
                                "description": "name the incoming call (for `call:` later)"}},
    doc="A new incoming call rings at this agent (any call, not only the current one); "
        "`headers` {Name: regex} must match the INVITE's headers; `id` names the call.",
    example="- wait: {event: incoming, timeout: 5s}"))
register_event(WaitEvent(
    name="answered", keys={**CALL_KEY, **HEADERS_KEY}, run=_simple("answered", call_state_is("CONFIRMED"), ended_before),
    doc="The current call is answered (CONFIRMED); fails at once if it ends first; "
        "`headers` {Name: regex} must match the answer's headers.",
    example="- wait: {event: answered}"))
register_event(WaitEvent(
    name="media_active", keys=CALL_KEY, run=_simple("media_active", media_is("active"), ended_before),
    doc="The current call's audio flows (negotiated codec, SRTP if any); fails at once if "
        "the call ends first.",
    example="- wait: {event: media_active, timeout: 5s}"))
register_event(WaitEvent(
    name="disconnected", keys=CALL_KEY, run=_simple("disconnected", call_state_is("DISCONNECTED")),
    doc="The current call ended (by either side, or refused); the next waits are about the "
        "next call.",
    example="- wait: {event: disconnected}"))
register_event(WaitEvent(
    name="held", keys=CALL_KEY, run=_simple("held", media_is(*HOLD_STATES), ended_before),
    doc="The current call is on hold: put on hold by this agent (`hold` step) or by the "
        "other party (a re-INVITE with a=sendonly or a=inactive).",
    example="- wait: {event: held, timeout: 5s}"))
register_event(WaitEvent(
    name="resumed", keys=CALL_KEY, run=_simple("resumed", media_is("active", after=HOLD_STATES), ended_before),
    doc="The current call's audio flows again after a hold (either side's `unhold`).",
    example="- wait: {event: resumed, timeout: 5s}"))


def _call_state_check(lc, params) -> None:
    if "state" not in params:
        lc.fail("event call_state needs a 'state' (e.g. CONFIRMED)", [])
    elif isinstance(params["state"], str) and params["state"].upper() not in CALL_STATES:
        close = difflib.get_close_matches(params["state"].upper(), CALL_STATES, n=1)
        lc.fail(f"unknown call state '{params['state']}' — states are: "
                f"{', '.join(CALL_STATES)}" + (f"; did you mean '{close[0]}'?" if close else ""),
                ["state"])


def _call_state_run(t, params, timeout):
    state = str(params.get("state") or "").upper()
    if not state:
        raise t.fail("wait for call_state needs a state")
    code = params.get("code")
    key = f"call_state {state}" + (f" {code}" if code is not None else "")
    named = t.target(params) if params.get("call") else None
    test = call_state_is(state, code)
    if params.get("headers"):
        base = test
        test = lambda kind, d: base(kind, d) and headers_match(d, params["headers"])
    t.wait_call_event(key, test, timeout, call=named)


CALL_STATES = ["CALLING", "INCOMING", "EARLY", "CONNECTING", "CONFIRMED", "DISCONNECTED"]
register_event(WaitEvent(
    name="call_state", run=_call_state_run, check=_call_state_check,
    keys={**CALL_KEY, **HEADERS_KEY, "state": {"type": "string", "minLength": 1,
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


def _log_run(t, params, timeout):
    if not t.control.wait_log(str(params["log"]), timeout):
        if not t.ctx.board.cancelled.is_set():
            raise t.fail(f"{params['log']!r} not in its log within {timeout:g}s")


register_event(WaitEvent(
    name="log", run=_log_run, keys={"log": {"$ref": "#/$defs/regex"}},
    doc="A line matching `log` (a regular expression) in this service's log (stdout and "
        "stderr), after what the previous log wait matched.",
    example='- wait: {log: "Startup complete", timeout: 10s}'))


register_event(WaitEvent(
    name="early_media", keys=CALL_KEY,
    run=_simple("early_media", lambda kind, d: kind == "media" and d.get("state") == "active"
                and d.get("call_state") in ("EARLY", "CALLING"), ended_before),
    doc="Audio of the current call flows before it is answered (a 18x with SDP).",
    example="- wait: {event: early_media, timeout: 5s}"))


def _reg(code_ok, expires_ok):
    return lambda kind, d: kind == "reg_state" and code_ok(d.get("code") or 0) and \
        expires_ok(d.get("expires") or 0)


register_event(WaitEvent(
    name="registered", run=_simple("registered", _reg(lambda c: 200 <= c < 300,
                                                      lambda e: e > 0), any_call=True),
    doc="A REGISTER of this agent succeeded (2xx with an expiry above 0); the first one "
        "happens before the steps start.",
    example="- wait: {event: registered, timeout: 5s}"))
register_event(WaitEvent(
    name="unregistered", run=_simple("unregistered", _reg(lambda c: 200 <= c < 300,
                                                          lambda e: e == 0), any_call=True),
    doc="The binding is gone: the registrar accepted a REGISTER with Expires: 0.",
    example="- wait: {event: unregistered, timeout: 5s}"))


def _reg_failed_run(t, params, timeout):
    code = params.get("code")
    t.wait_call_event("registration_failed", _reg(
        lambda c: c >= 300 and (code is None or c == int(code)), lambda e: True),
        timeout, any_call=True)


register_event(WaitEvent(
    name="registration_failed", run=_reg_failed_run,
    keys={"code": {"$ref": "#/$defs/status_code"}},
    doc="A REGISTER of this agent was refused (a final status of 300 or more; `code` to "
        "name it).",
    example="- wait: {event: registration_failed, code: 403, timeout: 5s}"))


def _message_run(t, params, timeout):
    body = params.get("body")
    test = lambda kind, d: kind == "message" and (
        body is None or re.search(body, str(d.get("body") or "")) is not None) and \
        headers_match(d, params.get("headers"))
    t.wait_call_event("message", test, timeout, any_call=True)


register_event(WaitEvent(
    name="message", run=_message_run,
    keys={**HEADERS_KEY, "body": {"$ref": "#/$defs/regex",
                                  "description": "a regex the MESSAGE body must match"}},
    doc="A SIP MESSAGE arrived at this agent (`body` regex, `headers` regexes).",
    example='- wait: {event: message, body: "^hello", timeout: 5s}'))

def _transfer_requested_run(t, params, timeout):
    named = t.target(params) if params.get("call") else None
    t.wait_call_event("transfer_requested", lambda kind, d: kind == "transfer_request",
                      timeout, ended_before, call=named)
    # the call the REFER asks for is placed after this event: it is the next current call
    t.call_id, t.floor = None, t.cursors.get("transfer_requested", t.floor)


register_event(WaitEvent(
    name="transfer_requested", keys=CALL_KEY, run=_transfer_requested_run,
    doc="The other party of the current call sent a REFER to this agent; the call the REFER "
        "asks for (placed by this agent, if its `transfer.code` accepts) becomes the current "
        "call of the waits that follow.",
    example="- wait: {event: transfer_requested, timeout: 5s}"))


def _transfer_failed(kind, d):
    if kind == "transfer_status" and d.get("final") and not 200 <= (d.get("code") or 0) < 300:
        return f"the transfer failed ({d.get('code')} {d.get('reason')})"
    return None


register_event(WaitEvent(
    name="transferred", keys=CALL_KEY,
    run=_simple("transferred", lambda kind, d: kind == "transfer_status" and d.get("final")
                and 200 <= (d.get("code") or 0) < 300, _transfer_failed),
    doc="The transfer this agent asked for succeeded: the final NOTIFY reports a 2xx of the "
        "new call (fails at once on a failure status).",
    example="- wait: {event: transferred, timeout: 10s}"))

register_event(WaitEvent(
    name="redirected", keys=CALL_KEY,
    run=_simple("redirected", lambda kind, d: kind == "redirected"),
    doc="The current call was answered with a 3xx (followed or not, as the agent's "
        "`follow_redirects` says).",
    example="- wait: {event: redirected, timeout: 5s}"))


def _request_answered_run(t, params, timeout):
    status = params.get("status")

    def test(kind, d):
        return kind == "request_answered" and (
            status is None or status_matches(status, d.get("code"))) and \
            headers_match(d, params.get("headers"))
    t.wait_call_event("request_answered", test, timeout, any_call=True)


register_event(WaitEvent(
    name="request_answered", run=_request_answered_run,
    keys={**HEADERS_KEY, "status": {"$ref": "#/$defs/status_spec"}},
    doc="The final answer to this agent's `request` (e.g. OPTIONS) arrived, with `status` "
        "(200, 4xx, [404, 480]) and `headers` regexes if given.",
    example="- wait: {event: request_answered, status: 200, headers: {Allow: INVITE}}"))
