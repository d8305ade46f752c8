"""The wait events: ``wait: {event: NAME, ...}`` (and ``wait: {signal: ...}``).

Each event owns the wait keys it reads (its schema fragment), its load-time
check and how the timeline waits for it. Call events follow the current call
(see ``timeline.py``); ``incoming`` takes any new call.
"""
from __future__ import annotations

import difflib
import re

from sipscen.core.model import status_matches
from sipscen.core.regex import shown
from sipscen.language.registry import WaitEvent, register_event
from sipscen.language.wait_match import NearMiss, filtered as _filtered
from sipscen.language.wait_match import headers_match  # noqa: F401 - the waits' helper
from sipscen.language.timeline import call_state_is, ended_before

HOLD_STATES = ("local_hold", "remote_hold")


CALL_KEY = {"call": {"$ref": "#/$defs/name",
                    "description": "a call named by its `call` step's `id` (default: the "
                                   "current call)"}}


HEADERS_KEY = {"headers": {"$ref": "#/$defs/header_checks",
                          "description": "checks of the received message's headers: Name: "
                                         "regex (one of them matches) or {matches, all, count}"}}


def _simple(name: str, predicate, abort=None, any_call: bool = False):
    def run(t, params, timeout):
        named = t.target(params) if params.get("call") else None
        miss = NearMiss()
        t.wait_call_event(name, _filtered(predicate, params, miss), timeout, abort,
                          any_call=any_call, call=named, explain=miss.text)
    return run


def media_is(*states: str, after: tuple[str, ...] = ()):
    return lambda kind, d: kind == "media" and d.get("state") in states and (
        not after or d.get("previous") in after)


def _request_uri(params, d) -> str | None:
    pattern = params.get("request_uri")
    got = str(d.get("request_uri") or "")
    if pattern is None or re.search(pattern, got):
        return None
    return f"Request-URI {got!r} does not match {shown(pattern)}"


def _incoming_run(t, params, timeout):
    miss = NearMiss()
    test = _filtered(call_state_is("INCOMING"), params, miss,
                     _request_uri if "request_uri" in params else None)
    data = t.wait_call_event("incoming", test, timeout, any_call=True, explain=miss.text)
    if params.get("id") and data.get("call_id"):
        t.named[str(params["id"])] = data["call_id"]
        t.control.name_call(data["call_id"], str(params["id"]))


register_event(WaitEvent(
    name="incoming", run=_incoming_run,
    keys={**HEADERS_KEY, "id": {"$ref": "#/$defs/name",
                                "description": "name the incoming call (for `call:` later)"},
          "request_uri": {"$ref": "#/$defs/regex",
                          "description": "a regex the INVITE's Request-URI must match"}},
    doc="A new incoming call rings at this agent (any call, not only the current one); "
        "`request_uri` regex must match the INVITE's Request-URI and `headers` its headers "
        "(a regex, or {matches, all, count}); `id` names the call. When calls came that did "
        "not match, the timeout names the header (or Request-URI) and the value seen.",
    example="- wait: {event: incoming, request_uri: '^sip:\\+4412345@', timeout: 5s}"))
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
    miss = NearMiss()
    t.wait_call_event(key, _filtered(call_state_is(state, code), params, miss), timeout,
                      call=named, explain=miss.text)


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


def _body(params, d) -> str | None:
    body = params.get("body")
    if body is None or re.search(body, str(d.get("body") or "")) is not None:
        return None
    return f"body {str(d.get('body') or '')[:80]!r} does not match {shown(body)}"


def _message_run(t, params, timeout):
    miss = NearMiss()
    test = _filtered(lambda kind, d: kind == "message", params, miss, _body)
    t.wait_call_event("message", test, timeout, any_call=True, explain=miss.text)


register_event(WaitEvent(
    name="message", run=_message_run,
    keys={**HEADERS_KEY, "body": {"$ref": "#/$defs/regex",
                                  "description": "a regex the MESSAGE body must match"}},
    doc="A SIP MESSAGE arrived at this agent (`body` regex, `headers` regexes).",
    example='- wait: {event: message, body: "^hello", timeout: 5s}'))

def _transfer_requested_run(t, params, timeout):
    named = t.target(params) if params.get("call") else None
    miss = NearMiss()
    t.wait_call_event("transfer_requested",
                      _filtered(lambda kind, d: kind == "transfer_request", params, miss),
                      timeout, ended_before, call=named, explain=miss.text)
    # the call the REFER asks for is placed after this event: it is the next current call
    t.call_id, t.floor = None, t.cursors.get("transfer_requested", t.floor)


register_event(WaitEvent(
    name="transfer_requested", keys={**CALL_KEY, **HEADERS_KEY}, run=_transfer_requested_run,
    doc="The other party of the current call sent a REFER to this agent (`headers`: checks "
        "of the REFER's headers, e.g. Referred-By); the call the REFER "
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

def _transfer_status_run(t, params, timeout):
    named = t.target(params) if params.get("call") else None
    code, final = params.get("code"), params.get("final", True)

    def status(params, d) -> str | None:
        if code is not None and not status_matches(code, d.get("code")):
            return f"NOTIFY status {d.get('code')} {d.get('reason') or ''}".rstrip() + \
                f", not {code}"
        return None
    miss = NearMiss()
    test = _filtered(lambda kind, d: kind == "transfer_status" and (
        not final or bool(d.get("final"))), params, miss, status)
    key = "transfer_status" + (f" {code}" if code is not None else "")
    t.wait_call_event(key, test, timeout, call=named, explain=miss.text)


register_event(WaitEvent(
    name="transfer_status", run=_transfer_status_run,
    keys={**CALL_KEY, "code": {"$ref": "#/$defs/status_spec",
                               "description": "the status the transferee's NOTIFY reports "
                                              "(its sipfrag): 200, 603, 4xx, ..."},
          "final": {"type": "boolean",
                    "description": "only the final NOTIFY (default true); false: any"}},
    doc="The transferee reported the progress of this agent's transfer (a NOTIFY whose "
        "sipfrag carries the new call's status): `code` what it must report, e.g. 603 when "
        "the transfer target declined; a transfer whose REFER got no answer reports the "
        "transaction's failure (408).",
    example="- wait: {event: transfer_status, code: 603, timeout: 10s}"))

register_event(WaitEvent(
    name="redirected", keys=CALL_KEY,
    run=_simple("redirected", lambda kind, d: kind == "redirected"),
    doc="The current call was answered with a 3xx (followed or not, as the agent's "
        "`follow_redirects` says).",
    example="- wait: {event: redirected, timeout: 5s}"))


def _status(params, d) -> str | None:
    status = params.get("status")
    if status is None or status_matches(status, d.get("code")):
        return None
    return f"status {d.get('code')} {d.get('reason') or ''}".rstrip() + f", not {status}"


def _request_answered_run(t, params, timeout):
    miss = NearMiss()
    method = str(params.get("method") or "").upper()
    test = _filtered(lambda kind, d: kind == "request_answered" and (
        not method or str(d.get("method") or "").upper() == method), params, miss, _status)
    t.wait_call_event("request_answered", test, timeout, any_call=True, explain=miss.text)


register_event(WaitEvent(
    name="request_answered", run=_request_answered_run,
    keys={**HEADERS_KEY, "status": {"$ref": "#/$defs/status_spec"},
          "method": {"type": "string", "pattern": "^[A-Za-z]+$",
                     "description": "only the answer to this method (a `message` step's is "
                                    "MESSAGE)"}},
    doc="The final answer to this agent's `request` (e.g. OPTIONS) or `message` arrived "
        "(after a 401/407, the answer to the retry with the account's credentials), with "
        "`status` (200, 4xx, [404, 480]), `method` and `headers` if given; a non-matching "
        "answer is named when the wait times out.",
    example="- wait: {event: request_answered, status: 200, headers: {Allow: INVITE}}"))
