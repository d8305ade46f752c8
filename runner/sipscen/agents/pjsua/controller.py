"""The pjsua agent type: a controller in the engine's process, a worker child.

``PjsuaAgent`` starts ``python -m sipscen.agents.pjsua.worker`` through
``sipscen.core.process``, talks to it over the line protocol of
``protocol.py``, posts the worker's events on the run's ``EventBoard`` and
folds them into facts (``facts.py``). It implements the language's
:class:`~sipscen.language.control.CallControl`: the steps themselves are
interpreted by ``sipscen.language.timeline.Timeline``. This module never
imports pjsua2.
"""
from __future__ import annotations

import itertools
import threading
import time
from typing import Any
import wave

from sipscen.agents.base import AgentContext, TimelineAgent
from sipscen.core.contact import Contact
from sipscen.agents.pjsua import identity
from sipscen.agents.pjsua.configure import configure_args, worker_argv
from sipscen.agents.pjsua import protocol as P
from sipscen.agents.pjsua.facts import FactBook
from sipscen.agents.records import PjsuaFacts
from sipscen.agents.pjsua.settings import PjsuaSettings, parse_settings
from sipscen.core import process
from sipscen.core.errors import AgentError
from sipscen.language.control import Cancelled, OperationFailed
from sipscen.agents.impair import release
from sipscen.agents.impair import Face, face_address, relay_for

COMMAND_TIMEOUT = 10.0
ACK_WAIT = 5.0        # a callee's call is CONNECTING from its 200 until the ACK

# Worker events mirrored on the board (``result`` and ``ready`` stay private).
_BOARD_FIELDS = {
    P.CALL_STATE: ("state", "code", "reason", "call_id", "direction", "remote_uri", "headers",
                   "request_uri"),
    P.MEDIA: ("state", "previous", "call_state", "codec", "clock_rate", "payload_type", "srtp",
              "call_id"),
    P.MESSAGE_RECEIVED: ("sender", "to", "content_type", "body", "headers"),
    P.TRANSFER_REQUEST: ("call_id", "target", "code", "headers"),
    P.TRANSFER_STATUS: ("call_id", "code", "reason", "final"),
    P.REDIRECTED: ("call_id", "target", "followed", "code", "reason"),
    P.REPLACED: ("call_id", "new_call_id"),
    P.REQUEST_ANSWERED: ("code", "reason", "headers", "method"),
    P.DTMF_RECEIVED: ("digit", "method", "duration_ms", "call_id"),
    P.DTMF_SENT: ("digit", "method", "call_id"),
    P.REG_STATE: ("code", "reason", "expires"),
    P.STATS_EVENT: ("tx_packets", "rx_packets", "rx_lost", "rx_jitter_ms", "call_id"),
    P.TONE: ("call_id", "watch", "frequencies", "seconds", "level_dbfs"),
    P.ERROR: ("message",),
}




class PjsuaAgent(TimelineAgent):
    type_name = "pjsua"

    def __init__(self, ctx: AgentContext):
        super().__init__(ctx)
        self.settings: PjsuaSettings = parse_settings(ctx.spec, ctx.scenario.file.parent)
        self.contact_: Contact | None = None
        self.proc: process.ManagedProcess | None = None
        self.book = FactBook(self.type_name)
        self.log_file = ctx.artifacts_dir / "pjsua.log"
        self.recordings: list[str] = []
        self.events: list[tuple[str, dict[str, Any]]] = []   # every worker event, in order
        self.cond = threading.Condition()
        self._results: dict[int, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self._write_lock = threading.Lock()
        self._reader: threading.Thread | None = None
        self._dead = False
        self._stopping = False
        self.face = None           # agents/impair.py Face when the scenario impairs media
        self._summaries: dict[str, Any] = {}     # tap WAV -> audio_summary

    # -- lifecycle -------------------------------------------------------------
    def plan(self) -> Contact:
        s = self.settings
        port = s.port if s.port is not None else self.ctx.ports.port(s.address)
        media = s.media_range or self.ctx.ports.range(s.media_ports, s.address)
        self.contact_ = Contact(self.ctx.name, s.address, port, s.transport, s.user, media)
        self.book.uri = self.contact_.uri
        return self.contact_

    def start(self) -> None:
        if self.contact_ is None:
            self.plan()
        # The engine resolves ${agent.uri}-style references after plan(): read them now.
        self.settings = parse_settings(self.ctx.spec, self.ctx.scenario.file.parent)
        self.ctx.artifacts_dir.mkdir(parents=True, exist_ok=True)
        self._start_relay()
        self.proc = process.start(
            f"{self.ctx.name}-pjsua", worker_argv(self.ctx.name, self.settings.address),
            log_dir=self.ctx.artifacts_dir, pipes=True)
        self._reader = threading.Thread(target=self._read_events, daemon=True,
                                        name=f"pjsua-reader-{self.ctx.name}")
        self._reader.start()

    def ready(self, timeout: float) -> None:
        if self.proc is None:
            raise AgentError(f"agent {self.ctx.name}: ready() before start()")
        reply = self.request(P.CONFIGURE, timeout, **self._configure_args())
        if not reply.get("ok"):
            raise AgentError(f"agent {self.ctx.name}: cannot configure pjsua: {reply.get('message')}")
        found = self.wait_event(lambda kind, _: kind == P.READY, timeout,
                                abort=lambda kind, data: kind == P.ERROR and
                                str(data.get("message")))
        if found is None:
            waiting = (f" (no answer to REGISTER from {self.settings.registrar})"
                       if self.settings.registrar and self.settings.register_at_start else "")
            raise AgentError(f"agent {self.ctx.name}: pjsua worker not ready after "
                             f"{timeout:g}s{waiting}{self._stderr_note()}")
        if found[0] == -1:
            raise AgentError(f"agent {self.ctx.name}: {found[1]['abort']}")

    def run(self) -> None:
        try:
            super().run()
        finally:
            self.book.run_over = True

    # -- CallControl (what the timeline drives) --------------------------------------
    def check_alive(self) -> None:
        self._raise_if_dead()

    def received_digits(self) -> str:
        return self.book.received_digits()

    def _do(self, kind: str, timeout: float = COMMAND_TIMEOUT, **args: Any) -> dict[str, Any]:
        reply = self.request(kind, timeout, **args)
        if not reply.get("ok"):
            raise OperationFailed(str(reply.get("message")))
        return reply

    def make_call(self, uri, timeout, headers, name=None, options=None) -> str:
        options = dict(options or {})
        from_uri, to_uri, more = identity.build(options.get("identity"), uri,
                                                self.settings.domain)
        reply = self._do(P.CALL, uri=uri, timeout_ms=int(timeout * 1000) if timeout else 0,
                         headers={**more, **dict(headers)}, from_uri=from_uri, to_uri=to_uri,
                         offer=options.get("sdp", True) is not False)
        call_id = str(reply.get("call_id") or "")
        if name and call_id:
            self.book.name_call(call_id, name, self.ctx.board.now())
        return call_id

    def name_call(self, call_id, name) -> None:
        self.book.name_call(call_id, name, self.ctx.board.now())

    def answer(self, code, headers, reason="") -> None:
        self._do(P.ANSWER, code=int(code), headers=dict(headers), reason=reason or "")

    def hangup(self, call_id) -> None:
        self._do(P.HANGUP, call_id=call_id or "")

    def cancel(self, call_id) -> None:
        reply = self._do(P.HANGUP, call_id=call_id or "", cancel=True)
        if not reply.get("calls"):
            raise OperationFailed("no ringing outgoing call to cancel")

    def _after_ack(self, call_id: str | None) -> None:
        """A call answered by this agent is CONNECTING until the caller's ACK; PJSUA
        refuses in-dialog requests (REFER, re-INVITE, INFO, DTMF) until then. A step
        right after `media_active` waits for the ACK (at most ACK_WAIT) instead of
        failing on the race."""
        def ours(kind: str, data: dict) -> bool:
            return kind == P.CALL_STATE and (not call_id or data.get("call_id") == call_id)
        with self.cond:
            last = next((i for i in range(len(self.events) - 1, -1, -1)
                         if ours(*self.events[i])), None)
            if last is None or self.events[last][1].get("state") != "CONNECTING":
                return
        self.wait_event(lambda k, d: ours(k, d) and d.get("state") != "CONNECTING",
                        ACK_WAIT, since=last + 1)

    def send_dtmf(self, digits, method, duration, gap) -> None:
        self._after_ack(None)
        self._do(P.DTMF, len(digits) * (duration + gap) + COMMAND_TIMEOUT, digits=digits,
                 method=method, duration_ms=int(duration * 1000), gap_ms=int(gap * 1000))

    def play(self, file, tone, duration) -> None:
        args: dict[str, Any] = {"duration_ms": int(duration * 1000)}
        if file:
            args["file"] = file
        else:
            args["tone"] = {**dict(tone or {}), "duration_ms": int(duration * 1000)}
        self._do(P.PLAY, **args)

    def record(self, path) -> None:
        self._do(P.RECORD, path=path)
        self.recordings.append(path)

    def stop_record(self) -> None:
        self._do(P.STOP_RECORD)

    def register(self) -> None:
        self._do(P.REGISTER)

    def unregister(self) -> None:
        self._do(P.UNREGISTER)

    def send_message(self, uri, body, content_type, headers) -> None:
        self._do(P.SEND_MESSAGE, uri=uri, body=body, content_type=content_type,
                 headers=dict(headers))

    def transfer(self, call_id, uri, headers, replaces=None) -> None:
        self._after_ack(call_id)
        self._do(P.TRANSFER, call_id=call_id or "", uri=uri, headers=dict(headers),
                 replaces=replaces or "")

    def reinvite(self, call_id, method, codecs, headers) -> None:
        self._after_ack(call_id)
        self._do(P.REINVITE, call_id=call_id or "", method=method, codecs=list(codecs),
                 headers=dict(headers))

    def send_request(self, method, uri, content_type, body, headers) -> None:
        self._do(P.REQUEST, method=method, uri=uri, content_type=content_type, body=body,
                 headers=dict(headers))

    def send_info(self, call_id, content_type, body, headers) -> None:
        self._after_ack(call_id)
        self._do(P.INFO, call_id=call_id or "", content_type=content_type, body=body,
                 headers=dict(headers))

    def perform(self, operation, call_id, **args) -> None:
        """Any other operation: the worker's ``cmd_<operation>`` carries it out."""
        self._after_ack(call_id)
        self._do(operation, call_id=call_id or "", **args)

    def hold(self, call_id, mode) -> None:
        self._after_ack(call_id)
        self._do(P.HOLD, call_id=call_id or "", mode=mode)

    def unhold(self, call_id) -> None:
        self._after_ack(call_id)
        self._do(P.UNHOLD, call_id=call_id or "")

    def _audio_summary(self, path: str) -> dict[str, Any] | None:
        """Level, active seconds, main frequencies of a tap's WAV (once per file)."""
        if path not in self._summaries:

            from sipscen.analysis.audio import read_wav  # lazy: loads numpy
            from sipscen.analysis.quality import audio_summary  # lazy: loads numpy
            try:
                samples, rate = read_wav(path)
            except (OSError, ValueError, EOFError, wave.Error):
                return None            # not written yet (the call goes on)
            self._summaries[path] = audio_summary(samples, rate)
        return self._summaries[path]

    def _start_relay(self) -> None:
        """A media face on the run's impairment relay (agents/impair.py) when any pjsua
        agent of the scenario has ``impair:``: then every one must go through it."""
        if self.face is not None or not any(
                a.type == "pjsua" and a.config.get("impair") is not None
                for a in self.ctx.scenario.agents):
            return
        lo, hi = self.contact_.media_ports
        key = id(self.ctx.board)
        face = Face(self.ctx.name, face_address(f"{key}-{self.ctx.scenario.name}", self.ctx.name),
                    self.settings.address, range(lo, hi + 1), self.settings.impair)
        try:
            relay_for(key).attach(face)
        except OSError as exc:
            raise AgentError(f"agent {self.ctx.name}: media relay cannot bind "
                             f"{face.address} ports {lo}-{hi}: {exc}") from None
        self.face = face

    def stop(self) -> None:
        try:
            self._stop_worker()
        finally:
            if self.face is not None:
                release(id(self.ctx.board), self.ctx.name)

    def _stop_worker(self) -> None:
        proc, self._stopping = self.proc, True
        if proc is None:
            return
        try:
            if proc.running and not self._dead:
                try:
                    self._send(P.command(P.SHUTDOWN, next(self._ids)))
                    proc.wait(2.0)
                except Exception:
                    pass
            proc.stop(grace=1.0)
        except Exception:
            pass
        if self._reader is not None:
            self._reader.join(2.0)

    def facts_record(self) -> PjsuaFacts:
        """What it observed, as its typed record (the fact book's, no JSON between)."""
        record = self.book.record()
        for call in record.calls:          # what each call received, in numbers
            tap = call.rx_audio
            if tap and tap.get("path"):
                tap["summary"] = self._audio_summary(tap["path"])
        if self.face is not None:
            record.media_face = self.face.address
            if self.face.imp is not None:
                record.impair = {**self.face.imp.to_dict(), "counts": dict(self.face.counts)}
        return record

    def facts(self) -> dict[str, Any]:
        return self.facts_record().to_dict()

    def srtp_keys(self) -> list[dict[str, str]]:
        return self.book.srtp_keys()

    def artifacts(self) -> dict[str, str]:
        found: dict[str, str] = {}
        if self.log_file.exists():
            found["pjsua_log"] = str(self.log_file)
        if self.proc is not None and self.proc.stderr_path and self.proc.stderr_path.exists():
            found["worker_stderr"] = str(self.proc.stderr_path)
        for index, path in enumerate(self.recordings):
            found[f"recording{index + 1}" if index else "recording"] = path
        for index, call in enumerate(c for c in self.book.calls() if c.rx_audio):
            found[f"rx_audio{index + 1}"] = call.rx_audio["path"]
        return found

    # -- talking to the worker ---------------------------------------------------
    def _configure_args(self) -> dict[str, Any]:
        return configure_args(self)

    def _send(self, message: dict[str, Any]) -> None:
        assert self.proc is not None
        try:
            with self._write_lock:
                self.proc.popen.stdin.write(P.encode(message))
                self.proc.popen.stdin.flush()
        except (BrokenPipeError, OSError, ValueError) as exc:
            raise AgentError(f"agent {self.ctx.name}: pjsua worker is gone ({exc})"
                             f"{self._stderr_note()}") from None

    def request(self, kind: str, timeout: float, **args: Any) -> dict[str, Any]:
        """Send a command and wait for its ``result``; AgentError on death or timeout."""
        ident = next(self._ids)
        self._send(P.command(kind, ident, **args))
        deadline = time.monotonic() + timeout
        with self.cond:
            while ident not in self._results:
                if self.ctx.board.cancelled.is_set():
                    raise Cancelled(f"agent {self.ctx.name}: run cancelled")
                self._raise_if_dead()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AgentError(f"agent {self.ctx.name}: no answer to '{kind}' "
                                     f"after {timeout:g}s")
                self.cond.wait(min(remaining, 0.1))
            return self._results.pop(ident)

    def _raise_if_dead(self) -> None:
        if self._dead and self._stopping:
            raise Cancelled(f"agent {self.ctx.name}: stopped")
        if self._dead:
            code = self.proc.poll() if self.proc else None
            raise AgentError(f"agent {self.ctx.name}: pjsua worker died (exit code {code})"
                             f"{self._stderr_note()}")

    def _stderr_note(self) -> str:
        tail = self.proc.stderr_tail(10).strip() if self.proc else ""
        return f"; worker stderr:\n{tail}" if tail else ""

    def _read_events(self) -> None:
        """Reader thread: worker lines -> events, results, facts, board posts."""
        assert self.proc is not None
        stream = self.proc.popen.stdout
        try:
            for line in stream:
                try:
                    msg = P.decode(line)
                except P.ProtocolError as exc:
                    msg = {"event": P.ERROR, "t": time.monotonic(), "message": str(exc)}
                self._dispatch(msg)
        except (OSError, ValueError):
            pass
        finally:
            with self.cond:
                self._dead = True
                self.cond.notify_all()
            if not self._stopping:
                code = self.proc.poll()
                self.ctx.board.post(self.ctx.name, P.ERROR,
                                    message=f"pjsua worker exited (exit code {code})")

    def _dispatch(self, msg: dict[str, Any]) -> None:
        kind = msg.get("event", "")
        t = float(msg.get("t", time.monotonic())) - self.ctx.board.t0
        if kind == P.RESULT:
            with self.cond:
                self._results[int(msg.get("id") or 0)] = msg
                self.cond.notify_all()
            return
        self.book.apply(kind, msg, t)
        self.take_event(kind, msg, _BOARD_FIELDS.get(kind))
