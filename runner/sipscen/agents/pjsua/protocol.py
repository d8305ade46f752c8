"""The controller <-> worker protocol of the PJSUA agent.

One JSON object per line. The controller writes *commands* to the worker's
stdin; the worker writes *events* to its stdout (nothing else ever goes there:
PJSIP logs go to a file, stray C output is redirected to stderr).

Command: ``{"cmd": KIND, "id": n, ...arguments}``. Every command gets exactly
one ``result`` event back, ``{"event": "result", "id": n, "ok": bool,
"message": str, ...}``, once it has been carried out (``dtmf`` answers after
the last digit has been sent, ``call`` once the INVITE is on its way).

Event: ``{"event": KIND, "t": worker time.monotonic(), ...data}``. Both
processes read the same CLOCK_MONOTONIC, so the controller converts ``t`` to
board time by subtracting the board's ``t0``.

Commands and their arguments
    configure   address, port, transport (udp|tcp|tls), tls {cert, key, ca},
                account {user, domain, registrar, password, realm, username, display,
                proxy, contact {uri, uri_params, params, outbound, rewrite}},
                codecs [names], srtp {use, secure_signaling},
                media {port, count}, answer {code, reason, delay_ms, reject, manual, ring,
                headers},
                transfer {code}, follow_redirects, calls {prack (off|supported|required),
                session_timer {use, expires_s}}, log_file,
                tap_dir (record each call's received audio there; in-band DTMF)
    call        uri (the Request-URI), timeout_ms (0 = none: else CANCEL when not answered
                by then), headers {name: value} added to the INVITE, from_uri (the From,
                else the account's), to_uri (the To, else ``uri``), offer (false: an
                INVITE without SDP, a late offer)
    answer      code, reason, headers {name: value} (a 180 while already ringing: nothing
                sent)
    hangup      call_id ("" = every active call), cancel (only calls not answered yet:
                a CANCEL; an answered one fails the command)
    dtmf        digits, method (rfc4733|sip-info|inband), duration_ms, gap_ms
    play        file | tone {frequencies [hz] (up to 4), duration_ms}, duration_ms
                (0 = the file once / the tone's own duration; else stop after it,
                looping the file)
    record      path
    stop_record
    register    re-register (REGISTER with the account's expiry)
    unregister  REGISTER with Expires: 0
    message     uri, body, content_type, headers: an out-of-dialog MESSAGE
    request     method, uri, content_type, body, headers: any out-of-dialog request
    transfer    call_id, uri: a blind transfer (REFER); or replaces (the Call-ID of
                our other call): an attended transfer (REFER with Replaces)
    reinvite    call_id, method (INVITE|UPDATE), codecs [names] (a new codec list), headers
    update      call_id, offer (false: no SDP, a session refresh), codecs [names], headers:
                an UPDATE in an early or confirmed dialog
    info        call_id, content_type, body, headers: an in-dialog INFO
    hold        call_id ("" = the current call), mode (sendonly|inactive): a re-INVITE
    unhold      call_id: a re-INVITE with a=sendrecv
    watch_tone  call_id, watch (an id), frequencies [hz], tolerance (a fraction),
                min_duration_ms, min_level (dBFS): a ``tone`` event once heard on the call
    stats       (emits a ``stats`` event per active call)
    shutdown    hang up, free everything, exit 0

Events and their data
    ready       contact
    reg_state   code, reason, expires (0 after an unregistration)
    message     sender, to, content_type, body, headers      (a MESSAGE received)
    transfer_request  call_id, target, code      (a REFER received, answered with code)
    transfer_status   call_id, code, reason, final (NOTIFY progress of our REFER)
    redirected  call_id, target, followed, code, reason      (a 3xx to our INVITE)
    replaced    call_id, new_call_id     (an INVITE with Replaces took this call's place)
    request_answered  code, reason, headers  (the final answer to a `request`)
    call_state  call_id, state, code, reason, direction, remote_uri, headers (of the
                message received that brought the state, name -> value)
    media       call_id, state (active|local_hold|remote_hold|none|error), previous
                (the call's media state before), codec, clock_rate, payload_type,
                srtp {active, suite}, local_sdp, remote_sdp
    dtmf        call_id, digit, method, duration_ms   (a received digit, once)
    dtmf_sent   call_id, digit, method
    stats       call_id, tx_packets, rx_packets, rx_lost, rx_jitter_ms, rx_duplicates,
                rx_reordered, rx_discarded, rx_jitter_max_ms
    tone        call_id, watch, frequencies, onset (worker time the tone began), seconds,
                level_dbfs: a ``watch_tone`` heard
    tap         call_id, path, rate, started (worker time): the call's received audio
                (WAV, closed); in-band digits found in it arrive as ``dtmf`` (method inband)
    error       message
    result      id, ok, message
"""
from __future__ import annotations

import json
from typing import Any

# Commands (controller -> worker)
CONFIGURE = "configure"
CALL = "call"
ANSWER = "answer"
HANGUP = "hangup"
DTMF = "dtmf"
PLAY = "play"
RECORD = "record"
STOP_RECORD = "stop_record"
REGISTER = "register"
UNREGISTER = "unregister"
SEND_MESSAGE = "message"
TRANSFER = "transfer"
REQUEST = "request"
REINVITE = "reinvite"
INFO = "info"
HOLD = "hold"
UNHOLD = "unhold"
STATS = "stats"
SHUTDOWN = "shutdown"
# (The worker carries out whatever it has a ``cmd_<name>`` for: a command added
# through ``CallControl.perform`` needs no constant here, only its line above.)

# Events (worker -> controller)
READY = "ready"
REG_STATE = "reg_state"
CALL_STATE = "call_state"
MEDIA = "media"
DTMF_RECEIVED = "dtmf"
DTMF_SENT = "dtmf_sent"
STATS_EVENT = "stats"
MESSAGE_RECEIVED = "message"
TRANSFER_REQUEST = "transfer_request"
TRANSFER_STATUS = "transfer_status"
REDIRECTED = "redirected"
REPLACED = "replaced"
REQUEST_ANSWERED = "request_answered"
TAP = "tap"
TONE = "tone"
TRANSPORT = "transport"     # a TLS connection up or down: {transport, state, local, remote}
CANCEL_SENT = "cancel_sent"  # a CANCEL of an unanswered outgoing call: {call_id}
ERROR = "error"
RESULT = "result"
EVENTS = frozenset({READY, REG_STATE, CALL_STATE, MEDIA, DTMF_RECEIVED, DTMF_SENT,
                    STATS_EVENT, MESSAGE_RECEIVED, TRANSFER_REQUEST, TRANSFER_STATUS,
                    REDIRECTED, REPLACED, REQUEST_ANSWERED, TAP, TONE, TRANSPORT, CANCEL_SENT, ERROR,
                    RESULT})

# DTMF method names as scenarios spell them.
RFC4733 = "rfc4733"
SIP_INFO = "sip-info"
INBAND = "inband"


class ProtocolError(ValueError):
    """A line that is not a valid protocol message."""


def encode(message: dict[str, Any]) -> bytes:
    """One message as a newline-terminated UTF-8 JSON line."""
    return (json.dumps(message, separators=(",", ":"), default=str) + "\n").encode()


def decode(line: bytes | str) -> dict[str, Any]:
    """Parse one line; raise ProtocolError unless it is a JSON object with a kind."""
    try:
        message = json.loads(line)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"not JSON: {line[:200]!r}") from exc
    if not isinstance(message, dict) or not ("cmd" in message or "event" in message):
        raise ProtocolError(f"not a protocol message: {line[:200]!r}")
    return message


def command(kind: str, ident: int, **args: Any) -> dict[str, Any]:
    if not kind.isidentifier():        # the worker answers a command it lacks with ok: false
        raise ProtocolError(f"not a command name: {kind!r}")
    return {"cmd": kind, "id": ident, **args}
