"""The worker's call-control commands beyond placing, answering and ending calls:
registration, MESSAGE, transfer, hold, re-INVITE/UPDATE, INFO (see ``protocol.py``).

A mixin of :class:`sipscen.agents.pjsua.worker.Worker` (which supplies ``ep``,
``account``, ``buddies``, ``call_by_id`` and ``result``); imports pjsua2.
"""
from __future__ import annotations

from typing import Any

import pjsua2 as pj

from sipscen.agents.pjsua import digest
from sipscen.agents.pjsua import protocol as P
from sipscen.agents.pjsua.config import set_codecs

def add_headers(option: "pj.SipTxOption", headers: dict | None) -> None:
    """Add ``{name: value}`` headers to an outgoing request or answer."""
    if not headers:
        return
    vector = option.headers
    for name, value in headers.items():
        header = pj.SipHeader()
        header.hName, header.hValue = str(name), str(value)
        vector.append(header)
    option.headers = vector


class CallOps:
    def cmd_request(self, msg: dict[str, Any]) -> None:
        """An out-of-dialog request (OPTIONS, ...) to ``uri``; its answer comes back as a
        ``request_answered`` event (a 401/407 is answered once with the account's
        credentials first: ``on_request_answer``)."""
        self._send_request(dict(msg), {})
        self.result(msg.get("id"), True)

    def _send_request(self, msg: dict[str, Any], extra: dict[str, str]) -> None:
        prm = pj.SendRequestParam()
        prm.method = str(msg.get("method") or "OPTIONS")
        prm.txOption.targetUri = str(msg["uri"])
        if msg.get("body"):
            prm.txOption.contentType = str(msg.get("content_type") or "text/plain")
            prm.txOption.msgBody = str(msg["body"])
        add_headers(prm.txOption, {**dict(msg.get("headers") or {}), **extra})
        self.pending_requests.append((msg, bool(extra)))
        self.account.sendRequest(prm)

    def on_request_answer(self, code: int | None, method: str, headers: dict) -> bool:
        """A final answer to one of our requests: True when it is a challenge answered
        here by sending the request again with credentials (nothing to report yet)."""
        index = next((i for i, (m, _) in enumerate(self.pending_requests)
                      if str(m.get("method") or "OPTIONS").upper() == method.upper()), None)
        if index is None:
            return False
        msg, retried = self.pending_requests.pop(index)
        creds = self.credentials
        if code not in (401, 407) or retried or creds is None:
            return False
        name = "WWW-Authenticate" if code == 401 else "Proxy-Authenticate"
        challenge = next((v for k, v in headers.items() if k.lower() == name.lower()), None)
        if isinstance(challenge, list):
            challenge = challenge[0]
        if not challenge:
            return False
        try:
            value = digest.authorization(str(challenge), str(msg.get("method") or "OPTIONS"),
                                         str(msg["uri"]), creds["username"], creds["password"],
                                         creds.get("realm"))
        except digest.ChallengeError as exc:
            self.emit(P.ERROR, message=f"request: cannot answer the {code}: {exc}")
            return False
        header = "Authorization" if code == 401 else "Proxy-Authorization"
        self._send_request(msg, {header: value})
        return True

    def cmd_register(self, msg: dict[str, Any]) -> None:
        self.account.setRegistration(True)
        self.result(msg.get("id"), True)

    def cmd_unregister(self, msg: dict[str, Any]) -> None:
        self.account.setRegistration(False)
        self.result(msg.get("id"), True)

    def cmd_message(self, msg: dict[str, Any]) -> None:
        """An out-of-dialog MESSAGE to ``uri`` (through a buddy, as PJSUA2 sends them)."""
        cfg = pj.BuddyConfig()
        cfg.uri = str(msg["uri"])
        cfg.subscribe = False
        buddy = pj.Buddy()
        buddy.create(self.account, cfg)
        self.buddies.append(buddy)
        prm = pj.SendInstantMessageParam()
        prm.content = str(msg.get("body") or "")
        prm.contentType = str(msg.get("content_type") or "text/plain")
        add_headers(prm.txOption, msg.get("headers"))
        buddy.sendInstantMessage(prm)
        self.result(msg.get("id"), True)

    def cmd_transfer(self, msg: dict[str, Any]) -> None:
        """A blind transfer: REFER the remote party of the call to ``uri``."""
        call = self.call_by_id(str(msg.get("call_id") or ""), ("CONFIRMED",))
        prm = pj.CallOpParam(True)
        add_headers(prm.txOption, msg.get("headers"))
        if msg.get("replaces"):     # attended: REFER with Replaces naming our other call
            other = self.call_by_id(str(msg["replaces"]), ("CONFIRMED",))
            call.xferReplaces(other, prm)
        else:
            call.xfer(str(msg["uri"]), prm)
        self.result(msg.get("id"), True)

    def cmd_hold(self, msg: dict[str, Any]) -> None:
        """Hold: a re-INVITE whose SDP says a=sendonly (setHold) or a=inactive."""
        call = self.call_by_id(str(msg.get("call_id") or ""), ("CONFIRMED",))
        prm = pj.CallOpParam(True)
        if msg.get("mode") == "inactive":
            prm.opt.flag |= pj.PJSUA_CALL_SET_MEDIA_DIR
            dirs = pj.IntVector()
            dirs.append(pj.PJMEDIA_DIR_NONE)
            prm.opt.mediaDir = dirs
            call.reinvite(prm)
        else:
            call.setHold(prm)
        self.result(msg.get("id"), True)

    def cmd_reinvite(self, msg: dict[str, Any]) -> None:
        """A new offer on the call: re-INVITE (or UPDATE), with another codec list if given."""
        self._renegotiate(msg, ("CONFIRMED",),
                          "update" if msg.get("method") == "UPDATE" else "reinvite")

    def _renegotiate(self, msg: dict[str, Any], states: tuple[str, ...], how: str,
                     offer: bool = True) -> None:
        """``call.reinvite`` or ``call.update`` with the message's codecs and headers;
        without ``offer``, no SDP at all."""
        call = self.call_by_id(str(msg.get("call_id") or ""), states)
        if msg.get("codecs"):
            set_codecs(self.ep, list(msg["codecs"]))
        prm = pj.CallOpParam(True)
        if not offer:
            prm.opt.flag |= pj.PJSUA_CALL_NO_SDP_OFFER
        add_headers(prm.txOption, msg.get("headers"))
        getattr(call, how)(prm)
        self.result(msg.get("id"), True)

    def cmd_update(self, msg: dict[str, Any]) -> None:
        """An UPDATE (RFC 3311), in an early or a confirmed dialog: a new offer (with
        another codec list if given) or, with ``offer`` false, no SDP at all (a session
        refresh, RFC 4028)."""
        self._renegotiate(msg, ("CONFIRMED", "EARLY"), "update", bool(msg.get("offer", True)))

    def cmd_info(self, msg: dict[str, Any]) -> None:
        """An in-dialog INFO with any body."""
        call = self.call_by_id(str(msg.get("call_id") or ""), ("CONFIRMED", "EARLY"))
        prm = pj.CallSendRequestParam()
        prm.method = "INFO"
        prm.txOption.contentType = str(msg.get("content_type") or "text/plain")
        prm.txOption.msgBody = str(msg.get("body") or "")
        add_headers(prm.txOption, msg.get("headers"))
        call.sendRequest(prm)
        self.result(msg.get("id"), True)

    def cmd_unhold(self, msg: dict[str, Any]) -> None:
        call = self.call_by_id(str(msg.get("call_id") or ""), ("CONFIRMED",))
        prm = pj.CallOpParam(True)
        prm.opt.flag |= pj.PJSUA_CALL_UNHOLD | pj.PJSUA_CALL_SET_MEDIA_DIR
        dirs = pj.IntVector()
        dirs.append(pj.PJMEDIA_DIR_ENCODING_DECODING)
        prm.opt.mediaDir = dirs
        call.reinvite(prm)
        self.result(msg.get("id"), True)

