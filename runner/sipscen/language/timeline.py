"""The one interpreter of an agent's steps, for every agent type.

It carries the timeline's meaning: steps in order, each announced on the board
as ``step {index, step, status}``; waits that consume what they matched (a
second wait of the same kind needs a new event); signals between agents; the
current call that call waits follow. What a step *does* is its kind's handler
(``registry.StepKind.run``), which acts through the agent's
:class:`~sipscen.language.control.CallControl`.

Current call: the one the last ``call`` step placed, else the one the first
matching wait saw (``incoming`` takes any new call). Once a wait has seen the
current call disconnect, the next waits are about the next call.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

from sipscen.language.signals import SignalWaits
from sipscen.core.errors import ScenarioError, StepFailed
from sipscen.language import registry
from sipscen.language.control import CallControl, Cancelled, OperationFailed
from sipscen.core.model import Step, parse_duration

DEFAULT_WAIT = 10.0


def secs(value: float) -> str:
    return f"{value:g}s"


class Timeline:
    def __init__(self, control: CallControl, ctx: Any):
        self.control = control
        self.ctx = ctx                       # the agent's AgentContext
        self.cursors: dict[str, int] = {}    # wait key -> first event index not yet consumed
        self.floor = 0                       # no wait looks before this event (a call's end)
        self.call_id: str | None = None      # the call waits are about (None: the next one)
        self.named: dict[str, str] = {}      # call id (scenario name) -> SIP Call-ID
        self.dtmf_seen = 0                   # received digits consumed by dtmf waits
        self.recordings = 0
        self.signals = SignalWaits(ctx.board)
        self.step: Step | None = None
        self.current_index: int | str = 0    # the running step's index (board posts)

    @property
    def name(self) -> str:
        return self.ctx.name

    def board_now(self) -> float:
        return self.ctx.board.now()

    # -- running -------------------------------------------------------------------
    def run(self, steps: Iterable[tuple[int, Step]] | None = None) -> None:
        """Carry out ``steps`` ((index, step) pairs; default: all of the agent's)."""
        kinds = registry.steps()
        pairs = list(enumerate(self.ctx.spec.steps)) if steps is None else list(steps)
        for index, step in pairs:
            if self.ctx.board.cancelled.is_set():
                return
            self.step, self.current_index = step, index
            kind = kinds.get(step.kind)
            if kind is None:
                raise ScenarioError(f"unknown step '{step.kind}'", step.location, step.path)
            # The step's kind travels as "step": "kind" is post()'s own argument.
            self.ctx.board.post(self.name, "step", index=index, step=step.kind, status="started")
            try:
                kind.run(self, dict(step.params))
            except OperationFailed as exc:
                failure = self.fail(f"{step.kind} failed: {exc}")
                self._post_failed(index, step, failure)
                raise failure from None
            except StepFailed as exc:
                self._post_failed(index, step, exc)
                raise
            self.ctx.board.post(self.name, "step", index=index, step=step.kind, status="done")

    def _post_failed(self, index: int, step: Step, exc: Exception) -> None:
        self.ctx.board.post(self.name, "step", index=index, step=step.kind, status="failed",
                            message=str(exc))

    # -- helpers for step handlers -------------------------------------------------------
    def fail(self, message: str) -> StepFailed:
        assert self.step is not None
        return StepFailed(message, self.step.location)

    def error(self, message: str, key: str = "") -> ScenarioError:
        assert self.step is not None
        path = f"{self.step.path}.{self.step.kind}" + (f".{key}" if key else "")
        return ScenarioError(message, self.step.location, path)

    def duration(self, value: Any, what: str) -> float:
        try:
            return parse_duration(value)
        except ValueError as exc:
            raise self.error(f"{what}: {exc}") from None

    def pause(self, seconds: float) -> None:
        self.control.pause(seconds)

    def placed(self, call_id: str | None, name: str | None = None) -> None:
        """A ``call`` step placed this call: the waits that follow are about it."""
        self.call_id = call_id or None
        if name and call_id:
            self.named[name] = call_id

    def target(self, params: Mapping[str, Any]) -> str | None:
        """The SIP Call-ID a step or wait aims at: its ``call`` (a named call), else the
        current call (None: the agent's own choice)."""
        name = params.get("call") if isinstance(params, Mapping) else None
        if not name:
            return self.call_id
        if name not in self.named:
            raise self.fail(f"no call named '{name}' was placed before this step "
                            f"(named: {', '.join(self.named) or 'none'})")
        return self.named[name]

    # -- waits -------------------------------------------------------------------------
    def wait_call_event(self, key: str, predicate: Callable, timeout: float,
                        abort: Callable | None = None, any_call: bool = False,
                        call: str | None = None,
                        explain: Callable[[], str] | None = None) -> dict:
        """Wait for the agent's own event; consume it; follow the current call.

        ``key`` names what is consumed (a second wait with the same key needs a new
        event); ``any_call``: not restricted to the current call (a new call);
        ``call``: a named call's SIP Call-ID (its events only; the current call stays);
        ``explain()``: what to add to a timeout (events that came but did not match)."""
        why = (lambda: explain() if explain is not None else "")
        if call is not None:
            key = f"{key} @{call}"
            predicate, abort = _only(predicate, call), _only(abort, call)
            since = self.cursors.get(key, 0)
            found = self.control.wait_event(predicate, timeout, since, abort)
            if found is None:
                raise self.fail(f"wait for {key.split(' @')[0]} timed out after "
                                f"{secs(timeout)}{why()}")
            if found[0] < 0:
                raise self.fail(f"wait for {key.split(' @')[0]}: {found[1]['abort']}")
            self.cursors[key] = found[0] + 1
            return found[1]
        if not any_call:
            predicate, abort = self._current_call_only(predicate), self._current_call_only(abort)
        since = max(self.cursors.get(key, 0), self.floor)
        found = self.control.wait_event(predicate, timeout, since, abort)
        if found is None:
            raise self.fail(f"wait for {key} timed out after {secs(timeout)}{why()}")
        index, data = found
        if index < 0:
            raise self.fail(f"wait for {key}: {data['abort']}")
        self.cursors[key] = index + 1
        self.call_id = data.get("call_id") or self.call_id
        if data.get("state") == "DISCONNECTED":   # seen to end: next waits are about the next call
            self.call_id, self.floor = None, index + 1
        return data

    def _current_call_only(self, test):
        if test is None:
            return None
        return lambda kind, d: (self.call_id is None or d.get("call_id") == self.call_id) \
            and test(kind, d)

    def wait_dtmf(self, digits: Any, timeout: float) -> None:
        """Wait until the digits received since the previous dtmf wait's match contain
        ``digits`` (without: any one new digit), then consume them up to the match's end."""
        wanted = None if digits is None else str(digits)
        found = self.control.wait_event(
            lambda kind, d: kind == "dtmf" and self._dtmf_match_end(wanted) is not None,
            timeout)
        if found is None:
            what = "dtmf" if wanted is None else f"dtmf '{wanted}'"
            new = self.control.received_digits()[self.dtmf_seen:]
            raise self.fail(f"wait for {what} timed out after {secs(timeout)} "
                            f"(received '{new}')")
        self.dtmf_seen += self._dtmf_match_end(wanted)

    def _dtmf_match_end(self, wanted: str | None) -> int | None:
        new = self.control.received_digits()[self.dtmf_seen:]
        if wanted is None:
            return 1 if new else None
        at = new.find(wanted)
        return None if at < 0 else at + len(wanted)

    def wait_signal(self, name: str, sender: str | None, timeout: float) -> None:
        if self.signals.wait(name, sender, timeout, check=self.control.check_alive):
            return
        if self.ctx.board.cancelled.is_set():
            raise Cancelled(f"agent {self.name}: run cancelled")
        who = f" from {sender}" if sender else ""
        raise self.fail(f"wait for signal '{name}'{who} timed out after {secs(timeout)}")


def _only(test, call_id: str):
    if test is None:
        return None
    return lambda kind, d: d.get("call_id") == call_id and test(kind, d)


def scripted_time(steps: Iterable[Step]) -> float:
    """The time these steps themselves ask to spend (each kind's ``scripted``)."""
    kinds = registry.steps()
    total = 0.0
    for step in steps:
        kind = kinds.get(step.kind)
        if kind is not None and kind.scripted is not None:
            try:
                total += kind.scripted(step.params)
            except (ValueError, OSError):
                pass
    return total


def call_state_is(state: str, code: Any = None) -> Callable[[str, Mapping], bool]:
    return lambda kind, d: kind == "call_state" and d.get("state") == state and (
        code is None or d.get("code") == int(code))


def ended_before(kind: str, d: Mapping) -> str | None:
    if kind == "call_state" and d.get("state") == "DISCONNECTED":
        return f"the call ended first ({d.get('code')} {d.get('reason')})"
    return None
