"""The PJSUA worker: one process, one PJSUA2 Endpoint, one thread.

Run as ``python -m sipscen.agents.pjsua.worker``. It reads commands from stdin
and writes events to stdout, one JSON object per line (see ``protocol.py``).
The loop alternates ``ep.libHandleEvents(10)`` with non-blocking reads of stdin,
and runs its own timers (answer delays, DTMF gaps). PJSUA2 is only ever called
from this thread (``threadCnt = 0``, ``mainThreadOnly``).

Nothing but protocol lines reaches the real stdout: the protocol gets a private
duplicate of fd 1, and fd 1 itself is pointed at stderr.
"""
from __future__ import annotations

import heapq
import itertools
import os
import select
import signal
import sys
import time
from typing import Any, Callable

import pjsua2 as pj

from sipscen.agents.pjsua import protocol as P
from sipscen.agents.pjsua.callops import CallOps, add_headers
from sipscen.agents.pjsua.config import configure_endpoint
from sipscen.agents.pjsua.mediaops import CommandFailed, MediaOps
from sipscen.agents.pjsua.pjobjects import (WorkerAccount, WorkerCall, WorkerEndpoint,
                                            error_text)
from sipscen.agents.pjsua.tap import POLL_SECONDS, Taps

POLL_MS = 10


# Events that report a call's progress: none may overtake a media event held back for
# the answer SDP (pjobjects.WorkerCall.onCallMediaState); onCallState has read that SDP
# before it sends its CALL_STATE.
_CALL_PROGRESS = frozenset({P.CALL_STATE, P.TRANSFER_REQUEST, P.TRANSFER_STATUS,
                            P.DTMF_RECEIVED, P.MESSAGE_RECEIVED, P.REDIRECTED, P.REPLACED,
                            P.SIP_INFO, P.CANCEL_SENT})


class Worker(CallOps, MediaOps):
    def __init__(self, out_fd: int, in_fd: int):
        self.out_fd = out_fd
        self.in_fd = in_fd
        self.ep: pj.Endpoint | None = None
        self.account: WorkerAccount | None = None
        self.calls: list[WorkerCall] = []
        self.media_objects: list[Any] = []      # players, tone generators (kept alive)
        self.recorders: list[pj.AudioMediaRecorder] = []
        self.taps: Taps | None = None            # receive taps (tap.py), when configured
        self.answer_policy: dict[str, Any] = {}
        self.transfer_policy: dict[str, Any] = {}
        self.redirect_policy = False
        self.buddies: list[Any] = []
        self.pending_requests: list[tuple[dict[str, Any], bool]] = []   # (request, retried)
        self.credentials: dict[str, Any] | None = None    # username, password, realm
        self.registrar = False
        self.ready_sent = False
        self.contact = ""
        self.running = True
        self.stop_requested = False    # set by SIGTERM or a vanished controller
        self.orphaned = False
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._inbuf = b""

    # -- output ----------------------------------------------------------------
    def emit(self, kind: str, **data: Any) -> None:
        if self.orphaned:
            return
        # Its call's media event held for the answer SDP goes out before any other news
        # of the call (a REFER, a BYE), and right after a CONNECTING or CONFIRMED (the
        # order the controller's wait for the ACK relies on, controller._after_ack).
        after = kind == P.CALL_STATE and data.get("state") != "DISCONNECTED"
        if kind in _CALL_PROGRESS and not after:
            self._flush_media(data.get("call_id"))
        self._write(kind, data)
        if after:
            self._flush_media(data.get("call_id"))

    def _flush_media(self, call_id: str | None) -> None:
        for call in self.calls:
            if call_id and call.sip_call_id == call_id:
                call.flush_media()

    def _write(self, kind: str, data: dict[str, Any]) -> None:
        if self.orphaned:
            return
        line = P.encode({"event": kind, "t": time.monotonic(), **data})
        view = memoryview(line)
        try:
            while view:
                written = os.write(self.out_fd, view)
                view = view[written:]
        except OSError:          # the controller is gone: nobody to talk to, wind down
            self.orphaned = True
            self.stop_requested = True

    def result(self, ident: Any, ok: bool, message: str = "", **extra: Any) -> None:
        self.emit(P.RESULT, id=ident, ok=ok, message=message, **extra)

    def schedule(self, delay: float, fn: Callable[[], None]) -> None:
        heapq.heappush(self._timers, (time.monotonic() + delay, next(self._seq), fn))

    # -- main loop -------------------------------------------------------------
    def loop(self) -> None:
        while self.running and not self.stop_requested:
            if self.ep is not None:
                self.ep.libHandleEvents(POLL_MS)
                wait = 0.0
            else:
                wait = POLL_MS / 1000
            self._read_commands(wait)
            self._run_timers()

    def _read_commands(self, wait: float) -> None:
        readable, _, _ = select.select([self.in_fd], [], [], wait)
        if not readable:
            return
        chunk = os.read(self.in_fd, 65536)
        if not chunk:   # the controller went away: leave cleanly
            self.shutdown()
            return
        self._inbuf += chunk
        while b"\n" in self._inbuf and self.running:
            line, _, self._inbuf = self._inbuf.partition(b"\n")
            if line.strip():
                self.handle_line(line)

    def _run_timers(self) -> None:
        now = time.monotonic()
        while self._timers and self._timers[0][0] <= now and self.running:
            _, _, fn = heapq.heappop(self._timers)
            try:
                fn()
            except Exception as exc:
                self.emit(P.ERROR, message=f"timer: {error_text(exc)}")

    def handle_line(self, line: bytes) -> None:
        try:
            msg = P.decode(line)
        except P.ProtocolError as exc:
            self.emit(P.ERROR, message=str(exc))
            return
        kind, ident = msg.get("cmd"), msg.get("id")
        # a command is whatever the worker has a cmd_<kind> for (protocol.py lists them)
        handler = getattr(self, f"cmd_{kind}", None) if str(kind).isidentifier() else None
        if handler is None:
            self.result(ident, False, f"unknown command {kind!r}")
            return
        if self.ep is None and kind not in (P.CONFIGURE, P.SHUTDOWN):
            self.result(ident, False, "not configured yet")
            return
        try:
            handler(msg)
        except CommandFailed as exc:
            self.result(ident, False, str(exc))
        except Exception as exc:
            self.result(ident, False, f"{kind}: {error_text(exc)}")

    # -- account and call callbacks (called from pjobjects) ----------------------
    def on_reg_state(self, code: int, reason: str, expires: int = 0) -> None:
        self.emit(P.REG_STATE, code=code, reason=reason, expires=expires)
        if self.ready_sent:
            return
        if 200 <= code < 300:
            self._send_ready()
        else:
            self.emit(P.ERROR, message=f"registration failed: {code} {reason}")

    def _send_ready(self) -> None:
        self.ready_sent = True
        self.emit(P.READY, contact=self.contact)

    def on_incoming(self, call: WorkerCall) -> None:
        self.calls.append(call)
        info = call.refresh()
        call.state = "INCOMING"
        self.emit(P.CALL_STATE, call_id=call.sip_call_id, state="INCOMING", code=None,
                  reason="", direction="incoming", remote_uri=info.remoteUri,
                  headers=call.rx_headers, request_uri=call.request_uri)
        policy = self.answer_policy
        headers = policy.get("headers") or None
        ring = policy.get("ring", True)
        reason = str(policy.get("reason") or "")
        if policy.get("reject"):
            self._answer(call, int(policy["reject"]), headers, reason)
            return
        if policy.get("manual"):
            if ring:
                self._answer(call, 180)
            return
        code = int(policy.get("code", 200))
        delay = float(policy.get("delay_ms", 0)) / 1000
        if delay > 0:
            if ring:
                self._answer(call, 180)
            self.schedule(delay, lambda: self._answer(call, code, headers, reason)
                          if not call.ended else None)
        else:
            self._answer(call, code, headers, reason)

    def _answer(self, call: WorkerCall, code: int, headers: dict | None = None,
                reason: str = "") -> None:
        if code == 180 and call.ringing and not headers and not reason:
            return                      # already ringing: a second 180 says nothing new
        prm = pj.CallOpParam()
        prm.statusCode = code
        if reason:
            prm.reason = reason
        add_headers(prm.txOption, headers)
        call.answer(prm)
        if code == 180:
            call.ringing = True

    # -- the receive taps (tap.py) ---------------------------------------------
    def on_audio_active(self, call: WorkerCall) -> None:
        if self.taps is not None:
            self.taps.on_audio_active(call)

    def on_call_ended(self, call: WorkerCall) -> None:
        if self.taps is not None:
            self.taps.on_call_ended(call)

    def _poll_taps(self) -> None:
        if self.taps is not None and self.running:
            self.taps.poll()
            self.schedule(POLL_SECONDS, self._poll_taps)

    # -- commands --------------------------------------------------------------
    def cmd_configure(self, msg: dict[str, Any]) -> None:
        if self.ep is not None:
            raise CommandFailed("already configured")
        self.ep = WorkerEndpoint(self)
        self.ep.libCreate()
        self.account, self.contact = configure_endpoint(self, self.ep, msg)
        self.answer_policy = dict(msg.get("answer") or {})
        self.transfer_policy = dict(msg.get("transfer") or {})
        self.redirect_policy = bool(msg.get("follow_redirects"))
        account = msg.get("account") or {}
        if account.get("password") is not None:
            self.credentials = {"username": str(account.get("username") or account.get("user")
                                                or "agent"),
                                "password": str(account["password"]),
                                "realm": account.get("realm")}
        self.registrar = bool(account.get("registrar")) and \
            account.get("register_at_start", True) is not False
        if msg.get("tap_dir"):
            self.taps = Taps(str(msg["tap_dir"]), self.emit)
            self.schedule(POLL_SECONDS, self._poll_taps)
        self.result(msg.get("id"), True)
        if not self.registrar:
            self._send_ready()

    def current_call(self, states: tuple[str, ...] | None = None) -> WorkerCall:
        for call in reversed(self.calls):
            if call.state == "DISCONNECTED":
                continue
            if states is None or call.state in states:
                return call
        raise CommandFailed("no active call")

    def audio_media(self) -> pj.AudioMedia:
        for call in reversed(self.calls):
            if call.state != "DISCONNECTED" and call.audio_index is not None:
                return call.getAudioMedia(call.audio_index)
        raise CommandFailed("no call with active media")

    def cmd_call(self, msg: dict[str, Any]) -> None:
        uri = str(msg.get("uri") or "")
        if not uri:
            raise CommandFailed("call: no uri")
        call = WorkerCall(self, self.account)
        prm = pj.CallOpParam(True)
        add_headers(prm.txOption, msg.get("headers"))
        if msg.get("from_uri"):              # the From of this call (else the account's)
            if not hasattr(prm.txOption, "localUri"):
                raise CommandFailed("this pjsua2 (before 2.13) cannot set a call's From")
            prm.txOption.localUri = str(msg["from_uri"])
        to_uri = str(msg.get("to_uri") or "")
        if to_uri:                           # the To; the Request-URI stays ``uri``
            prm.txOption.targetUri, uri = uri, to_uri
        if msg.get("offer") is False:        # late offer: an INVITE without SDP
            prm.opt.flag |= pj.PJSUA_CALL_NO_SDP_OFFER
        try:
            call.makeCall(uri, prm)
        except Exception:
            del call
            raise
        self.calls.append(call)
        call.refresh()
        if msg.get("timeout_ms"):
            self.schedule(float(msg["timeout_ms"]) / 1000, lambda: self._give_up(call))
        self.result(msg.get("id"), True, call_id=call.sip_call_id)

    def _give_up(self, call: WorkerCall) -> None:
        """The call's timeout ran out before an answer: cancel it."""
        if call.state not in ("CONFIRMED", "DISCONNECTED") and call.isActive():
            self._end(call)

    def cmd_answer(self, msg: dict[str, Any]) -> None:
        call = self.current_call(("INCOMING", "EARLY"))
        self._answer(call, int(msg.get("code") or 200), msg.get("headers"),
                     str(msg.get("reason") or ""))
        self.result(msg.get("id"), True)

    def call_by_id(self, call_id: str, states: tuple[str, ...]) -> WorkerCall:
        """The call with this SIP Call-ID (or the current one for ""), in ``states``."""
        if not call_id:
            return self.current_call(states)
        for call in self.calls:
            if call.sip_call_id == call_id:
                if call.state not in states:
                    raise CommandFailed(f"call {call_id} is {call.state}, not {'/'.join(states)}")
                return call
        raise CommandFailed(f"no call {call_id}")

    def cmd_hangup(self, msg: dict[str, Any]) -> None:
        count = 0
        only = str(msg.get("call_id") or "")
        for call in self.calls:
            if only and call.sip_call_id != only:
                continue
            if msg.get("cancel") and call.state == "CONFIRMED":
                raise CommandFailed(f"call {call.sip_call_id} is already answered: "
                                    "nothing to cancel (hang it up)")
            if msg.get("cancel") and call.direction != "outgoing":
                continue
            if call.state != "DISCONNECTED" and call.isActive():
                self._end(call)
                count += 1
        self.result(msg.get("id"), True, "" if count else "no active call", calls=count)

    def _end(self, call: WorkerCall) -> None:
        """Hang up; an outgoing call not answered yet is cancelled (CANCEL): say when."""
        if call.direction == "outgoing" and call.state not in ("CONNECTING", "CONFIRMED"):
            self.emit(P.CANCEL_SENT, call_id=call.sip_call_id)
        call.hangup(pj.CallOpParam(True))

    def cmd_stats(self, msg: dict[str, Any]) -> None:
        for call in self.calls:
            if call.state != "DISCONNECTED" and call.audio_index is not None:
                call.emit_stats()
        self.result(msg.get("id"), True)

    def cmd_shutdown(self, msg: dict[str, Any]) -> None:
        self.result(msg.get("id"), True)
        self.shutdown()

    def shutdown(self) -> None:
        """Hang up, free every PJSUA2 object in order, destroy the library."""
        if not self.running:
            return
        self.running = False
        try:
            if self.ep is not None:
                hung_up = False
                for call in self.calls:
                    try:
                        if call.state != "DISCONNECTED" and call.isActive():
                            call.hangup(pj.CallOpParam(True))
                            hung_up = True
                    except Exception:
                        pass
                for _ in range(5 if hung_up else 0):     # let the BYEs go out
                    self.ep.libHandleEvents(POLL_MS)
        finally:
            if self.taps is not None:
                self.taps.drop()
            self.recorders.clear()
            self.media_objects.clear()
            self.buddies.clear()
            self.calls.clear()
            self.account = None
            if self.ep is not None:
                self.ep.libDestroy(pj.PJSUA_DESTROY_NO_NETWORK)
                self.ep = None



def main() -> int:
    out_fd = os.dup(1)            # the protocol's private stdout
    os.dup2(2, 1)                 # anything else written to fd 1 lands in stderr
    sys.stdout = sys.stderr
    worker = Worker(out_fd, sys.stdin.fileno())
    # SIGTERM: leave the loop and shut PJSUA2 down in order (WAV headers get written).
    signal.signal(signal.SIGTERM, lambda *_: setattr(worker, "stop_requested", True))
    try:
        worker.loop()
    except KeyboardInterrupt:
        pass
    finally:
        worker.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
