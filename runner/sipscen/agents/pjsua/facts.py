"""What a pjsua agent observed, accumulated from its worker's events.

The shape is the "Agent facts" contract of docs/ARCHITECTURE.md. Times are
board seconds (``EventBoard.now()`` scale). Thread-safe: the controller's
reader thread writes, the engine reads after the run.
"""
from __future__ import annotations

import copy
import threading
from typing import Any

from sipscen.agents.pjsua import protocol as P
from sipscen.agents.pjsua import rtp_sessions, sdp
from sipscen.agents.records import CallRecord, PjsuaFacts


def _new_call(call_id: str, direction: str, remote_uri: str, t: float) -> CallRecord:
    return CallRecord(
        direction=direction, call_id=call_id, remote_uri=remote_uri, started_at=round(t, 6),
        rtp={"tx_packets": 0, "rx_packets": 0, "rx_lost": 0, "rx_jitter_ms": 0.0},
        # rtp_sessions: per media session (rtp_sessions.py), rtp the whole call's totals;
        # rx_audio {path, rate, started_at}: what the call received (tap.py)
    )


class FactBook:
    def __init__(self, agent_type: str, uri: str = ""):
        self.agent_type = agent_type
        self.uri = uri
        self._lock = threading.Lock()
        self._calls: dict[str, CallRecord] = {}
        self.dtmf_received: list[dict[str, Any]] = []
        self.dtmf_sent: list[dict[str, Any]] = []
        self.registrations: list[dict[str, Any]] = []
        self.messages: list[dict[str, Any]] = []
        self.transfers: list[dict[str, Any]] = []
        self.tones_heard: list[dict[str, Any]] = []   # tone waits that heard their tone
        self.connections: list[dict[str, Any]] = []    # TLS connections (their local ports)
        self.run_over = False          # set when the agent's steps are done (teardown follows)

    def _call(self, data: dict[str, Any], t: float = 0.0) -> CallRecord | None:
        call_id = data.get("call_id") or ""
        if not call_id:
            return None
        if call_id not in self._calls:
            self._calls[call_id] = _new_call(call_id, data.get("direction") or "outgoing",
                                             data.get("remote_uri") or "", t)
        return self._calls[call_id]

    def name_call(self, call_id: str, name: str, t: float) -> None:
        """A ``call`` step's ``id`` for the call it placed (or an incoming wait's for
        the call it saw)."""
        with self._lock:
            call = self._call({"call_id": call_id, "direction": "outgoing"}, t)
            if call is not None:
                call.name = name

    def apply(self, kind: str, data: dict[str, Any], t: float) -> None:
        """Fold one worker event (``t`` in board seconds) into the facts."""
        with self._lock:
            if kind == P.CALL_STATE:
                self._call_state(data, t)
            elif kind == P.MEDIA:
                call = self._call(data)
                if call is not None:
                    call.local_sdp = data.get("local_sdp") or call.local_sdp
                    call.remote_sdp = data.get("remote_sdp") or call.remote_sdp
                    rtp_sessions.on_media(call, data, t)
                    if data.get("state") == "active":
                        call.codec = data.get("codec")
                        call.clock_rate = data.get("clock_rate")
                        call.payload_type = data.get("payload_type")
                        call.srtp = dict(data.get("srtp") or {"active": False, "suite": None})
                        call.offerer = data.get("offerer") or call.offerer
            elif kind == P.STATS_EVENT:
                call = self._call(data)
                if call is not None:
                    rtp_sessions.on_stats(call, data, t)
            elif kind == P.TAP:
                call = self._call(data)
                if call is not None:
                    started = t - (float(data.get("t", 0)) - float(data.get("started", 0)))
                    call.rx_audio = {"path": data.get("path"), "rate": data.get("rate"),
                                        "started_at": round(started, 6)}
            elif kind == P.DTMF_RECEIVED:
                self.dtmf_received.append({"digit": data.get("digit"), "method": data.get("method"),
                                           "t": round(t, 6), "duration_ms": data.get("duration_ms"),
                                           "call_id": data.get("call_id") or None})
                if data.get("level_dbfs") is not None:
                    self.dtmf_received[-1]["level_dbfs"] = data["level_dbfs"]
            elif kind == P.REDIRECTED:
                call = self._call(data, t)
                if call is not None:
                    call.redirect = {k: data.get(k) for k in ("target", "code", "reason",
                                                                 "followed")}
            elif kind == P.REG_STATE:
                self.registrations.append({"t": round(t, 6), "code": data.get("code"),
                                           "reason": data.get("reason") or "",
                                           "expires": data.get("expires"),
                                           "at_teardown": self.run_over})
            elif kind == P.MESSAGE_RECEIVED:
                self.messages.append({"t": round(t, 6), **{k: data.get(k) for k in (
                    "sender", "to", "content_type", "body", "headers")}})
            elif kind in (P.TRANSFER_REQUEST, P.TRANSFER_STATUS):
                self.transfers.append({"t": round(t, 6), "kind": kind, **{
                    k: data.get(k) for k in ("call_id", "target", "code", "reason", "final",
                                             "headers")
                    if k in data}})
            elif kind == P.TRANSPORT:
                self.connections.append({"t": round(t, 6), **{k: data.get(k) for k in (
                    "transport", "state", "local", "remote")}})
            elif kind == P.CANCEL_SENT:
                call = self._call(data, t)
                if call is not None and call.cancelled_at is None:
                    call.cancelled_at = round(t, 6)
            elif kind == P.TONE:
                onset = t - (float(data.get("t", 0)) - float(data.get("onset", 0)))
                self.tones_heard.append({"call_id": data.get("call_id"),
                                         "frequencies": data.get("frequencies"),
                                         "onset_at": round(onset, 3), "heard_at": round(t, 6),
                                         "seconds": data.get("seconds"),
                                         "level_dbfs": data.get("level_dbfs")})
            elif kind == P.DTMF_SENT:
                self.dtmf_sent.append({"digit": data.get("digit"), "method": data.get("method"),
                                       "t": round(t, 6), "call_id": data.get("call_id") or None})

    def _call_state(self, data: dict[str, Any], t: float) -> None:
        call = self._call(data, t)
        if call is None:
            return
        if data.get("state") == "INCOMING":
            call.request_uri = data.get("request_uri") or call.request_uri
            call.invite_headers = dict(data.get("headers") or {})
        if data.get("state") == "EARLY" and call.early_at is None:
            call.early_at = round(t, 6)
        if data.get("remote_uri"):
            call.remote_uri = data["remote_uri"]
        state, code = data.get("state"), data.get("code")
        if state in ("CONNECTING", "CONFIRMED") and code:
            call.status_code, call.reason = code, data.get("reason") or ""
            if code >= 200 and call.final_at is None:
                call.final_at = round(t, 6)
        if state == "CONFIRMED" and not call.answered:
            call.answered = True
            call.confirmed_at = round(t, 6)
        if state == "DISCONNECTED":
            redirect = call.redirect
            if redirect and not redirect["followed"] and redirect["code"]:
                call.status_code, call.reason = redirect["code"], redirect["reason"] or ""
            elif not call.answered and code:
                call.status_code, call.reason = code, data.get("reason") or ""
            if not call.answered and code and code >= 200 and call.final_at is None:
                call.final_at = round(t, 6)
            call.disconnected_at = round(t, 6)
            if call.confirmed_at is not None:
                call.duration = round(t - call.confirmed_at, 6)

    def received_digits(self) -> str:
        with self._lock:
            return "".join(d["digit"] or "" for d in self.dtmf_received)

    def calls(self) -> list[CallRecord]:
        with self._lock:
            return copy.deepcopy(list(self._calls.values()))

    def common(self) -> dict[str, Any]:
        """What every fact book's record holds (the browser's too), copied."""
        calls = self.calls()
        with self._lock:
            return {"uri": self.uri, "calls": calls,
                    **{k: copy.deepcopy(getattr(self, k))
                       for k in ("dtmf_received", "dtmf_sent", "registrations", "messages")}}

    def record(self) -> PjsuaFacts:
        """The facts as a typed record (JSON: ``record().to_dict()``)."""
        common = self.common()
        with self._lock:
            return PjsuaFacts(**common, transfers=copy.deepcopy(self.transfers),
                              connections=copy.deepcopy(self.connections),
                              tones_heard=copy.deepcopy(self.tones_heard))

    def as_dict(self) -> dict[str, Any]:
        return self.record().to_dict()

    def srtp_keys(self) -> list[dict[str, str]]:
        """The SDES keys of this agent's local SDP that protect what it sent."""
        keys: list[dict[str, str]] = []
        for call in self.calls():
            if not call.srtp["active"]:
                continue
            local, _ = sdp.negotiated_crypto(call.local_sdp, call.remote_sdp,
                                             local_is_offerer=call.offerer == "local"
                                             if call.offerer
                                             else call.direction == "outgoing")
            if local and {"suite": local["suite"], "key": local["key"]} not in keys:
                keys.append({"suite": local["suite"], "key": local["key"]})
        return keys
