"""PJSUA2 Account and Call subclasses used inside the worker process.

They turn PJSUA2 callbacks into protocol events through the worker's ``emit``.
Every callback is guarded: a Python exception escaping a SWIG director would
abort the whole process, so it becomes an ``error`` event instead.

Only ever imported by the worker (it imports pjsua2).
"""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import pjsua2 as pj

from sipscen.agents.pjsua import protocol as P
from sipscen.agents.pjsua import sdp
from sipscen.analysis.numbers import wire_int

if TYPE_CHECKING:  # pragma: no cover
    from sipscen.agents.pjsua.worker import Worker

STATE_NAMES = {
    pj.PJSIP_INV_STATE_NULL: "NULL",
    pj.PJSIP_INV_STATE_CALLING: "CALLING",
    pj.PJSIP_INV_STATE_INCOMING: "INCOMING",
    pj.PJSIP_INV_STATE_EARLY: "EARLY",
    pj.PJSIP_INV_STATE_CONNECTING: "CONNECTING",
    pj.PJSIP_INV_STATE_CONFIRMED: "CONFIRMED",
    pj.PJSIP_INV_STATE_DISCONNECTED: "DISCONNECTED",
}

MEDIA_STATUS = {
    pj.PJSUA_CALL_MEDIA_NONE: "none",
    pj.PJSUA_CALL_MEDIA_ACTIVE: "active",
    pj.PJSUA_CALL_MEDIA_LOCAL_HOLD: "local_hold",
    pj.PJSUA_CALL_MEDIA_REMOTE_HOLD: "remote_hold",
    pj.PJSUA_CALL_MEDIA_ERROR: "error",
}

DTMF_METHODS = {
    pj.PJSUA_DTMF_METHOD_RFC2833: P.RFC4733,
    pj.PJSUA_DTMF_METHOD_SIP_INFO: P.SIP_INFO,
}

# media states in which the call keeps an audio port (held: one direction still flows)
_WITH_AUDIO_PORT = (pj.PJSUA_CALL_MEDIA_ACTIVE, pj.PJSUA_CALL_MEDIA_LOCAL_HOLD,
                    pj.PJSUA_CALL_MEDIA_REMOTE_HOLD)

_DTMF_END = 2   # PJMEDIA_STREAM_DTMF_IS_END bit of OnDtmfEventParam.flags


def error_text(exc: BaseException) -> str:
    """A one-line description of a pjsua2 error (or any exception)."""
    if isinstance(exc, pj.Error):
        return f"{exc.title}: {exc.reason} (status {exc.status})"
    return f"{type(exc).__name__}: {exc}"


def _status_of(event) -> tuple[int | None, str]:
    """(code, reason) of the response a SipEvent carries, if it carries one."""
    for get in (lambda: event.body.tsxState.src.rdata.wholeMsg,
                lambda: event.body.rxMsg.rdata.wholeMsg):
        try:
            first = str(get()).split("\r\n", 1)[0]
        except Exception:
            continue
        parts = first.split(" ", 2)
        code = wire_int(parts[1], 100, 699) if len(parts) >= 2 and parts[0].startswith("SIP/") else None
        if code is not None:
            return code, parts[2] if len(parts) > 2 else ""
    return None, ""


def guarded(method):
    """Run a callback, reporting any exception as an ``error`` event."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:  # never let it reach the SWIG director
            self.worker.emit(P.ERROR, message=f"{method.__name__}: {error_text(exc)}")
    return wrapper


class WorkerEndpoint(pj.Endpoint):
    """The Endpoint, reporting its TLS connections: a TLS client connects from an
    ephemeral port, which the capture can only tie to this agent through this."""

    def __init__(self, worker: "Worker"):
        super().__init__()
        self.worker = worker

    @guarded
    def onTransportState(self, prm):
        info = prm.tlsInfo
        if info is None or info.isEmpty() or not info.localAddr:
            return
        state = "connected" if prm.state == pj.PJSIP_TP_STATE_CONNECTED else \
            "disconnected" if prm.state == pj.PJSIP_TP_STATE_DISCONNECTED else str(prm.state)
        self.worker.emit(P.TRANSPORT, transport="tls", state=state,
                         local=str(info.localAddr), remote=str(info.remoteAddr))


class WorkerAccount(pj.Account):
    """The agent's one account: registration state and incoming calls."""

    def __init__(self, worker: "Worker"):
        super().__init__()
        self.worker = worker

    @guarded
    def onRegState(self, prm):
        self.worker.on_reg_state(int(prm.code), str(prm.reason), int(prm.expiration))

    @guarded
    def onIncomingCall(self, prm):
        call = WorkerCall(self.worker, self, prm.callId)
        call.remote_sdp = sdp.message_body(prm.rdata.wholeMsg) or ""
        call.rx_headers = sdp.message_headers(prm.rdata.wholeMsg)
        call.request_uri = sdp.request_line(prm.rdata.wholeMsg)[1]
        self.worker.on_incoming(call)

    @guarded
    def onSendRequest(self, prm):
        code, reason = _status_of(prm.e)
        headers = {}
        try:
            headers = sdp.message_headers(prm.e.body.tsxState.src.rdata.wholeMsg)
        except Exception:
            pass
        cseq = headers.get("CSeq") or headers.get("cseq") or ""
        method = (cseq if isinstance(cseq, str) else cseq[0]).split(" ")[-1]
        if self.worker.on_request_answer(code, method, headers):
            return                        # challenged: sent again with credentials
        self.worker.emit(P.REQUEST_ANSWERED, code=code, reason=reason, headers=headers,
                         method=method)

    @guarded
    def onInstantMessageStatus(self, prm):
        """The final answer to a MESSAGE this agent sent (after a digest challenge, the
        answer to the retry with credentials)."""
        headers = {}
        try:
            headers = sdp.message_headers(prm.rdata.wholeMsg)
        except Exception:
            pass
        self.worker.emit(P.REQUEST_ANSWERED, code=int(prm.code), reason=str(prm.reason),
                         headers=headers, method="MESSAGE")

    @guarded
    def onInstantMessage(self, prm):
        self.worker.emit(P.MESSAGE_RECEIVED, sender=str(prm.fromUri), to=str(prm.toUri),
                         content_type=str(prm.contentType), body=str(prm.msgBody),
                         headers=sdp.message_headers(prm.rdata.wholeMsg))


class WorkerCall(pj.Call):
    """One call, remembering its SDPs and reporting its states, media and DTMF."""

    def __init__(self, worker: "Worker", account: pj.Account, call_id: int = pj.PJSUA_INVALID_ID):
        super().__init__(account, call_id)
        self.worker = worker
        self.local_sdp = ""
        self.remote_sdp = ""
        self.sip_call_id = ""
        self.state = "NULL"
        self.direction = "incoming" if call_id != pj.PJSUA_INVALID_ID else "outgoing"
        self.remote_uri = ""
        self.audio_index: int | None = None
        self.media_state = "none"        # the last media state reported
        self._pending_media: tuple[dict[str, Any], bool] | None = None
        self.ringing = False             # a 180 went out (incoming calls)
        self.rx_headers: dict[str, Any] = {}   # headers of the last message received
        self.request_uri = ""            # of the INVITE that brought an incoming call
        self.last_dtmf_event: tuple[str, int] | None = None
        self.session = 0                 # media sessions (audio streams) ended so far

    # -- helpers ---------------------------------------------------------------
    def refresh(self) -> Any:
        info = self.getInfo()
        if info.callIdString:
            self.sip_call_id = info.callIdString
        self.remote_uri = info.remoteUri
        return info

    @property
    def ended(self) -> bool:
        return self.state in ("DISCONNECTED", "NULL") and self.sip_call_id != ""

    def stats(self) -> dict[str, Any] | None:
        """RTP statistics of the current audio stream (media session ``session``: a
        re-INVITE that changes the media starts a new stream, counting from 0), or None."""
        if self.audio_index is None:
            return None
        stat = self.getStreamStat(self.audio_index).rtcp
        return {
            "call_id": self.sip_call_id, "session": self.session,
            "tx_packets": int(stat.txStat.pkt),
            "rx_packets": int(stat.rxStat.pkt),
            "rx_lost": int(stat.rxStat.loss),
            "rx_jitter_ms": round(stat.rxStat.jitterUsec.mean / 1000.0, 3),
            "rx_jitter_max_ms": round(stat.rxStat.jitterUsec.max / 1000.0, 3),
            "rx_duplicates": int(stat.rxStat.dup),
            "rx_reordered": int(stat.rxStat.reorder),
            "rx_discarded": int(stat.rxStat.discard),
        }

    def emit_stats(self, final: bool = False) -> None:
        data = self.stats()
        if data is not None:
            self.worker.emit(P.STATS_EVENT, final=final, **data)

    # -- callbacks -------------------------------------------------------------
    @guarded
    def onCallState(self, prm):
        self._remember_remote_sdp(prm.e)   # the answer to our INVITE comes this way
        info = self.refresh()
        state = STATE_NAMES.get(info.state, str(info.state))
        if state == "INCOMING" and self.state == "INCOMING":
            return      # already reported by onIncomingCall
        self.state = state
        self.direction = "outgoing" if info.role == pj.PJSIP_ROLE_UAC else "incoming"
        self.worker.emit(
            P.CALL_STATE, call_id=self.sip_call_id, state=self.state,
            code=int(info.lastStatusCode) or None, reason=info.lastReason,
            direction=self.direction, remote_uri=self.remote_uri, headers=self.rx_headers,
        )
        if state == "DISCONNECTED":
            self.worker.on_call_ended(self)

    @guarded
    def onCallSdpCreated(self, prm):
        self.local_sdp = prm.sdp.wholeSdp
        if prm.remSdp.wholeSdp:
            self.remote_sdp = prm.remSdp.wholeSdp

    def _remember_remote_sdp(self, event) -> None:
        """Keep the SDP body (and the headers) of a received message carried by ``event``
        (a transaction's message, or the ACK of a 2xx: a late offer's answer)."""
        if event.type == pj.PJSIP_EVENT_RX_MSG:
            whole = event.body.rxMsg.rdata.wholeMsg
        elif event.type == pj.PJSIP_EVENT_TSX_STATE and \
                event.body.tsxState.type == pj.PJSIP_EVENT_RX_MSG:
            whole = event.body.tsxState.src.rdata.wholeMsg
        else:
            return
        self.rx_headers = sdp.message_headers(whole)
        body = sdp.message_body(whole)
        if body.lstrip().startswith("v=0"):
            self.remote_sdp = body

    @guarded
    def onCallTsxState(self, prm):
        self._remember_remote_sdp(prm.e)

    @guarded
    def onCallMediaState(self, prm):
        info = self.refresh()
        for media in info.media:
            if media.type != pj.PJMEDIA_TYPE_AUDIO:
                continue
            status = MEDIA_STATUS.get(media.status, str(media.status))
            data: dict[str, Any] = {"call_id": self.sip_call_id, "state": status,
                                    "session": self.session,
                                    "previous": self.media_state, "call_state": self.state,
                                    "local_sdp": self.local_sdp, "remote_sdp": self.remote_sdp}
            self.media_state = status
            if media.status in _WITH_AUDIO_PORT and int(media.audioConfSlot) >= 0:
                # a re-INVITE (hold, unhold, another codec) gives the call a new audio
                # port: the receive tap follows it also on hold, where music may come in
                self.audio_index = media.index
                self.worker.on_audio_active(self)      # the receive tap (tap.py)
            if media.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                stream = self.getStreamInfo(media.index)
                data.update(codec=stream.codecName, clock_rate=int(stream.codecClockRate),
                            payload_type=int(stream.txPt))
                # The answer SDP of our own INVITE is only seen in onCallState, which
                # PJSIP calls after this: the event is finished when the next event of
                # this worker goes out (Worker.emit flushes it first, so a CONFIRMED,
                # a REFER or a BYE handled in the same round never overtakes it) or
                # once this round is over, whichever comes first.
                self._pending_media = (data, not info.remOfferer)
                self.worker.schedule(0, self.flush_media)
            else:
                self.worker.emit(P.MEDIA, **data)
            break

    def flush_media(self) -> None:
        """Send the media event held for the answer SDP (see onCallMediaState)."""
        if self._pending_media is not None:
            data, local_is_offerer = self._pending_media
            self._pending_media = None
            self._emit_media(data, local_is_offerer)

    def _emit_media(self, data: dict[str, Any], local_is_offerer: bool) -> None:
        local_crypto, _ = sdp.negotiated_crypto(self.local_sdp, self.remote_sdp, local_is_offerer)
        data.update(local_sdp=self.local_sdp, remote_sdp=self.remote_sdp,
                    offerer="local" if local_is_offerer else "remote",
                    srtp={"active": local_crypto is not None,
                          "suite": local_crypto["suite"] if local_crypto else None})
        self.worker.emit(P.MEDIA, **data)

    @guarded
    def onDtmfEvent(self, prm):
        # onDtmfDigit fires for the same digit too: only the END event counts.
        if not prm.flags & _DTMF_END:
            return
        if prm.method == pj.PJSUA_DTMF_METHOD_RFC2833:
            # An RFC 4733 event is named by its RTP timestamp: report it once even
            # if the stream signals its end more than once.
            key = (str(prm.digit), int(prm.timestamp))
            if key == self.last_dtmf_event:
                return
            self.last_dtmf_event = key
        if not self.sip_call_id:
            self.refresh()       # the digit names its call (facts attribute digits by Call-ID)
        self.worker.emit(
            P.DTMF_RECEIVED, call_id=self.sip_call_id, digit=str(prm.digit),
            method=DTMF_METHODS.get(prm.method, str(prm.method)),
            duration_ms=int(prm.duration),
        )

    if not hasattr(pj.Call, "onDtmfEvent"):
        # pjsua2 before 2.11 (the IPv6 worker's, ipv6.py) reports a digit here only, once
        @guarded
        def onDtmfDigit(self, prm):
            if not self.sip_call_id:
                self.refresh()
            self.worker.emit(
                P.DTMF_RECEIVED, call_id=self.sip_call_id, digit=str(prm.digit),
                method=DTMF_METHODS.get(getattr(prm, "method", pj.PJSUA_DTMF_METHOD_RFC2833),
                                        P.RFC4733),
                duration_ms=int(getattr(prm, "duration", 0) or 0))

    @guarded
    def onCallTransferRequest(self, prm):
        """A REFER: answer it as the agent's transfer policy says; follow it with a
        call of our own (so its events and facts are reported like any other)."""
        code = int(self.worker.transfer_policy.get("code", 202))
        self.worker.emit(P.TRANSFER_REQUEST, call_id=self.sip_call_id, target=str(prm.dstUri),
                         code=code, headers=self.rx_headers)     # the REFER's (onCallTsxState)
        prm.statusCode = code
        if 200 <= code < 300:
            new = WorkerCall(self.worker, self.worker.account)
            new.transferred_from = self.sip_call_id
            self.worker.calls.append(new)
            prm.newCall = new

    @guarded
    def onCallReplaced(self, prm):
        """An INVITE with Replaces took this call's place (attended transfer): the new
        call is ours, reported like any other."""
        new = WorkerCall(self.worker, self.worker.account, prm.newCallId)
        new.refresh()
        self.worker.calls.append(new)
        prm.newCall = new
        self.worker.emit(P.REPLACED, call_id=self.sip_call_id, new_call_id=new.sip_call_id)

    @guarded
    def onCallTransferStatus(self, prm):
        self.worker.emit(P.TRANSFER_STATUS, call_id=self.sip_call_id, code=int(prm.statusCode),
                         reason=str(prm.reason), final=bool(prm.finalNotify))

    @guarded
    def onCallRedirected(self, prm):
        follow = bool(self.worker.redirect_policy)
        code, reason = _status_of(prm.e)
        self.worker.emit(P.REDIRECTED, call_id=self.sip_call_id, target=str(prm.targetUri),
                         followed=follow, code=code, reason=reason)
        return pj.PJSIP_REDIRECT_ACCEPT if follow else pj.PJSIP_REDIRECT_STOP

    @guarded
    def onStreamDestroyed(self, prm):
        if self.audio_index is not None and prm.streamIdx == self.audio_index:
            self.emit_stats(final=True)       # the session's last counters
            self.session += 1
