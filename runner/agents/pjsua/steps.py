"""Carrying out a pjsua agent's scenario steps, in order.

Step kinds: call, answer, wait, sleep, play, dtmf, record, stop_record,
hangup, hold, unhold, signal. A step that cannot be carried out raises ``StepFailed`` at the
step's location; a dead worker raises ``AgentError``; a cancelled run ends
quietly (``Cancelled``). Every step is announced on the board as
``step {index, step, status}`` (the kind is named ``step``: ``kind`` is
``EventBoard.post``'s own argument).
"""
from __future__ import annotations

import time
import wave
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from sipscen.agents.pjsua import protocol as P
from sipscen.agents.signals import SignalWaits
from sipscen.errors import ScenarioError, StepFailed
from sipscen.scenario.model import Step, parse_duration

if TYPE_CHECKING:  # pragma: no cover
    from sipscen.agents.pjsua.controller import PjsuaAgent

DEFAULT_WAIT = 10.0
COMMAND_TIMEOUT = 10.0
DTMF_METHODS = (P.RFC4733, P.SIP_INFO, P.INBAND)


def _secs(value: float) -> str:
    return f"{value:g}s"


class StepRunner:
    def __init__(self, agent: "PjsuaAgent"):
        self.agent = agent
        self.ctx = agent.ctx
        self.cursors: dict[str, int] = {}   # wait key -> first event index not yet consumed
        self.floor = 0                      # no wait looks before this event (a call's end)
        self.call_id: str | None = None     # the call waits are about (None: the next one)
        self.dtmf_seen = 0                  # received digits consumed by dtmf waits
        self.signals = SignalWaits(self.ctx.board)
        self.step: Step | None = None

    # -- plumbing ----------------------------------------------------------------
    def run(self) -> None:
        for index, step in enumerate(self.ctx.spec.steps):
            if self.ctx.board.cancelled.is_set():
                return
            self.step = step
            handler = getattr(self, f"do_{step.kind}", None)
            if handler is None:
                raise ScenarioError(f"unknown pjsua step '{step.kind}'", step.location, step.path)
            # The step's kind travels as "step": "kind" is post()'s own argument.
            self.ctx.board.post(self.ctx.name, "step", index=index, step=step.kind,
                                status="started")
            try:
                handler(dict(step.params))
            except StepFailed as exc:
                self.ctx.board.post(self.ctx.name, "step", index=index, step=step.kind,
                                    status="failed", message=str(exc))
                raise
            self.ctx.board.post(self.ctx.name, "step", index=index, step=step.kind, status="done")

    def fail(self, message: str) -> StepFailed:
        assert self.step is not None
        return StepFailed(message, self.step.location)

    def duration(self, value: Any, what: str) -> float:
        try:
            return parse_duration(value)
        except ValueError as exc:
            raise ScenarioError(f"{what}: {exc}", self.step.location, self.step.path) from None

    def command(self, kind: str, timeout: float = COMMAND_TIMEOUT, **args: Any) -> dict[str, Any]:
        reply = self.agent.request(kind, timeout, **args)
        if not reply.get("ok"):
            raise self.fail(f"{kind} failed: {reply.get('message')}")
        return reply

    def pause(self, seconds: float) -> None:
        """Sleep; Cancelled when the run is torn down, AgentError if the worker dies."""
        from sipscen.agents.pjsua.controller import Cancelled
        deadline = time.monotonic() + max(0.0, seconds)
        while True:
            remaining = deadline - time.monotonic()
            if self.ctx.board.cancelled.wait(max(0.0, min(remaining, 0.1))):
                raise Cancelled(f"agent {self.ctx.name}: run cancelled")
            self.agent._raise_if_dead()
            if remaining <= 0.1:
                return

    # -- steps ---------------------------------------------------------------------
    def do_call(self, params: dict[str, Any]) -> None:
        if params.get("uri"):
            uri = str(params["uri"])
        elif params.get("to"):
            name = str(params["to"])
            if name not in self.ctx.contacts:
                raise self.fail(f"call: unknown agent or service {name!r}")
            uri = self.ctx.contact(name).uri
        else:
            raise self.fail("call needs 'to' (agent/service name) or 'uri'")
        timeout = params.get("timeout")
        timeout_ms = int(self.duration(timeout, "call timeout") * 1000) if timeout else 0
        reply = self.command(P.CALL, uri=uri, timeout_ms=timeout_ms)
        self.call_id = reply.get("call_id") or None    # the waits that follow are about it

    def do_answer(self, params: dict[str, Any]) -> None:
        code = params.get("code", params.get("value", 200))
        self.command(P.ANSWER, code=int(code))

    def do_hangup(self, params: dict[str, Any]) -> None:
        self.command(P.HANGUP)

    def do_hold(self, params: dict[str, Any]) -> None:
        self.command(P.HOLD)

    def do_unhold(self, params: dict[str, Any]) -> None:
        self.command(P.UNHOLD)

    def do_sleep(self, params: dict[str, Any]) -> None:
        self.pause(self.duration(params.get("value", params.get("duration", 0)), "sleep"))

    def do_signal(self, params: dict[str, Any]) -> None:
        name = params.get("value", params.get("name"))
        if not name:
            raise self.fail("signal needs a name")
        self.ctx.board.post(self.ctx.name, "signal", name=str(name))

    def do_dtmf(self, params: dict[str, Any]) -> None:
        digits = str(params.get("digits", params.get("value", "")))
        if not digits:
            raise self.fail("dtmf needs digits")
        method = str(params.get("method", P.RFC4733))
        if method not in DTMF_METHODS:
            raise self.fail(f"dtmf method must be one of {', '.join(DTMF_METHODS)}")
        duration = self.duration(params.get("duration", "160ms"), "dtmf duration")
        gap = self.duration(params.get("gap", "100ms"), "dtmf gap")
        timeout = len(digits) * (duration + gap) + COMMAND_TIMEOUT
        self.command(P.DTMF, timeout, digits=digits, method=method,
                     duration_ms=int(duration * 1000), gap_ms=int(gap * 1000))

    def do_play(self, params: dict[str, Any]) -> None:
        """Play a file (relative to the scenario's folder) or a tone; lasts as long as it plays."""
        length = None
        if params.get("duration") is not None:
            length = self.duration(params["duration"], "play duration")
        args: dict[str, Any] = {"duration_ms": int(length * 1000) if length else 0}
        if params.get("file") or params.get("value"):
            path = Path(str(params.get("file") or params.get("value")))
            if not path.is_absolute():
                path = self.ctx.scenario.file.parent / path
            try:
                with wave.open(str(path), "rb") as wav:
                    file_length = wav.getnframes() / float(wav.getframerate())
                    if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
                        raise wave.Error("PJSIP plays 16-bit mono PCM WAV only")
            except (OSError, wave.Error, EOFError) as exc:
                raise self.fail(f"play: cannot use WAV file {path}: {exc}") from None
            length = length or file_length
            args["file"] = str(path)
        else:
            tone = params.get("tone") or {}
            if length is None:
                length = self.duration(tone.get("duration", "500ms"), "tone duration")
            freqs = tone.get("frequencies") or [tone.get("frequency", 440)]
            args["tone"] = {"frequencies": [int(f) for f in freqs],
                            "duration_ms": int(length * 1000)}
        self.command(P.PLAY, **args)
        if params.get("wait", True):
            self.pause(length)

    def do_record(self, params: dict[str, Any]) -> None:
        """Record what the call receives to a WAV file inside the agent's artifacts folder."""
        key = next((k for k in ("file", "path", "value") if params.get(k)), None)
        name = Path(str(params[key]) if key else
                    f"{self.ctx.name}-recording-{len(self.agent.recordings) + 1}.wav")
        if name.is_absolute() or ".." in name.parts:
            raise ScenarioError(f"record: '{name}' must be a relative path inside the agent's "
                                f"artifacts folder (no absolute path, no '..')",
                                self.step.location,
                                f"{self.step.path}.record" + ("" if key == "value" else f".{key}"))
        path = self.ctx.artifacts_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        self.command(P.RECORD, path=str(path))
        self.agent.recordings.append(str(path))
        if params.get("duration") is not None:
            self.pause(self.duration(params["duration"], "record duration"))
            self.command(P.STOP_RECORD)

    def do_stop_record(self, params: dict[str, Any]) -> None:
        self.command(P.STOP_RECORD)

    # -- waits -------------------------------------------------------------------
    def do_wait(self, params: dict[str, Any]) -> None:
        """Wait for an event of this agent, or a signal of another one.

        Each wait consumes the event it matched: a second wait of the same kind
        needs a new one. Call waits (answered, media_active, disconnected,
        call_state) follow the current call: the one the last ``call`` step
        placed, else the one the first matching wait saw (``incoming`` takes any
        new call). Once a wait has seen the current call disconnect, the next
        waits are about the next call.
        """
        timeout = self.duration(params.get("timeout", DEFAULT_WAIT), "wait timeout")
        if params.get("signal"):
            self._wait_signal(str(params["signal"]), params.get("agent"), timeout)
            return
        event = str(params.get("event") or params.get("value") or "")
        if event == "dtmf":
            self._wait_dtmf(params.get("digits"), timeout)
            return
        predicate, key, abort = self._event_matcher(event, params)
        if key != "incoming":   # an incoming call is a new call: any call's INCOMING counts
            predicate, abort = self._current_call_only(predicate), self._current_call_only(abort)
        since = max(self.cursors.get(key, 0), self.floor)
        found = self.agent.wait_event(predicate, timeout, since, abort)
        if found is None:
            raise self.fail(f"wait for {key} timed out after {_secs(timeout)}")
        index, data = found
        if index < 0:
            raise self.fail(f"wait for {key}: {data['abort']}")
        self.cursors[key] = index + 1
        self.call_id = data.get("call_id") or self.call_id
        if data.get("state") == "DISCONNECTED":   # seen to end: the next waits are about the next call
            self.call_id, self.floor = None, index + 1

    def _current_call_only(self, test):
        """``test`` restricted to events of the current call (any call while there is none)."""
        if test is None:
            return None
        return lambda kind, d: (self.call_id is None or d.get("call_id") == self.call_id) \
            and test(kind, d)

    def _event_matcher(self, event: str, params: dict[str, Any]):
        def call_state(state: str, code: Any = None) -> Callable[[str, dict], bool]:
            return lambda kind, d: kind == P.CALL_STATE and d.get("state") == state and (
                code is None or d.get("code") == int(code))

        def ended_before(kind: str, d: dict) -> str | None:
            if kind == P.CALL_STATE and d.get("state") == "DISCONNECTED":
                return f"the call ended first ({d.get('code')} {d.get('reason')})"
            return None

        if event == "incoming":
            return call_state("INCOMING"), "incoming", None
        if event == "answered":
            return call_state("CONFIRMED"), "answered", ended_before
        if event == "disconnected":
            return call_state("DISCONNECTED"), "disconnected", None
        if event == "media_active":
            return (lambda kind, d: kind == P.MEDIA and d.get("state") == "active"), \
                "media_active", ended_before
        if event == "call_state":
            state = str(params.get("state") or "").upper()
            if not state:
                raise self.fail("wait for call_state needs a state")
            code = params.get("code")
            key = f"call_state {state}" + (f" {code}" if code is not None else "")
            return call_state(state, code), key, None
        raise ScenarioError(f"unknown wait event {event!r} (incoming, answered, media_active, "
                            f"disconnected, dtmf, call_state)", self.step.location, self.step.path)

    def _wait_dtmf(self, digits: Any, timeout: float) -> None:
        """Wait until the digits received since the previous dtmf wait's match contain
        ``digits`` (without ``digits``: any one new digit), then consume them up to the
        end of the match: digits are matched once, by one wait, whenever they arrived."""
        wanted = None if digits is None else str(digits)
        found = self.agent.wait_event(
            lambda kind, d: kind == P.DTMF_RECEIVED and self._dtmf_match_end(wanted) is not None,
            timeout)
        if found is None:
            what = "dtmf" if wanted is None else f"dtmf '{wanted}'"
            new = self.agent.book.received_digits()[self.dtmf_seen:]
            raise self.fail(f"wait for {what} timed out after {_secs(timeout)} "
                            f"(received '{new}')")
        self.dtmf_seen += self._dtmf_match_end(wanted)

    def _dtmf_match_end(self, wanted: str | None) -> int | None:
        """Where the first match of ``wanted`` ends among the digits not yet consumed."""
        new = self.agent.book.received_digits()[self.dtmf_seen:]
        if wanted is None:
            return 1 if new else None
        at = new.find(wanted)
        return None if at < 0 else at + len(wanted)

    def _wait_signal(self, name: str, agent: Any, timeout: float) -> None:
        from sipscen.agents.pjsua.controller import Cancelled
        sender = str(agent) if agent else None
        if self.signals.wait(name, sender, timeout, check=self.agent._raise_if_dead):
            return
        if self.ctx.board.cancelled.is_set():
            raise Cancelled(f"agent {self.ctx.name}: run cancelled")
        who = f" from {sender}" if sender else ""
        raise self.fail(f"wait for signal '{name}'{who} timed out after {_secs(timeout)}")
