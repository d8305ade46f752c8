"""CallControl: what an agent type implements so that the timeline can drive it.

The timeline (``timeline.py``) owns the meaning of a scenario's steps; an agent
is the transport that carries the operations out. An agent type implements the
operations behind the step kinds it declares (``AgentType.steps``) and, for call
events, ``wait_event``; the defaults refuse, so a missing one is a clear error
rather than a silent no-op (``validate`` refuses undeclared kinds before that).

Operations raise :class:`OperationFailed` when they cannot be carried out (the
timeline turns it into ``StepFailed`` at the step), :class:`Cancelled` when
the run is torn down, ``AgentError`` when the agent itself died.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Mapping

from sipscen.core.errors import AgentError

Predicate = Callable[[str, Mapping[str, Any]], bool]
Abort = Callable[[str, Mapping[str, Any]], "str | None"]


class Cancelled(AgentError):
    """The run is being torn down (``board.cancelled`` or ``stop()``): ``run()`` ends
    quietly. An AgentError so that it stays a SipscenError wherever else it surfaces."""


class OperationFailed(Exception):
    """An operation the agent could not carry out (becomes StepFailed at the step)."""


class CallControl:
    """The interface between the timeline and one agent (see the module docstring)."""

    agent_name: str = ""
    board: Any = None           # the run's EventBoard

    # -- every agent -------------------------------------------------------------
    def check_alive(self) -> None:
        """Raise AgentError (or Cancelled) if the agent can no longer act."""

    def pause(self, seconds: float) -> None:
        """Sleep; Cancelled when the run is torn down, AgentError if the agent dies."""
        deadline = time.monotonic() + max(0.0, seconds)
        while True:
            remaining = deadline - time.monotonic()
            if self.board.cancelled.wait(max(0.0, min(remaining, 0.1))):
                raise Cancelled(f"agent {self.agent_name}: run cancelled")
            self.check_alive()
            if remaining <= 0.1:
                return

    # -- the agent's own events (call_state, media, dtmf, ...) ----------------------
    def wait_event(self, predicate: Predicate, timeout: float, since: int = 0,
                   abort: Abort | None = None) -> tuple[int, dict[str, Any]] | None:
        """First own event (index >= since) with ``predicate(kind, data)``: (index, data);
        None on timeout; (-1, {"abort": message}) when ``abort`` said why it cannot come."""
        raise self._unsupported("waiting for call events")

    def wait_log(self, pattern: str, timeout: float) -> bool:
        """Whether ``pattern`` (a regex) shows in this party's log within ``timeout``,
        in text after the previous log wait's match."""
        raise self._unsupported("waiting for a log line")

    def received_digits(self) -> str:
        """Every DTMF digit received so far, in order."""
        raise self._unsupported("receiving DTMF")

    # -- call control ------------------------------------------------------------
    def make_call(self, uri: str, timeout: float | None, headers: Mapping[str, str],
                  name: str | None = None, options: Mapping[str, Any] | None = None) -> str:
        """Place a call (``name``: its ``id`` in the scenario; ``options``: the step's
        ``identity`` and ``sdp`` when given); returns its SIP Call-ID."""
        raise self._unsupported("call")

    def name_call(self, call_id: str, name: str) -> None:
        """A wait named the incoming call ``call_id`` (its ``id``): the facts say so too
        (default: nothing, for agents that report no calls)."""

    def answer(self, code: int, headers: Mapping[str, str], reason: str = "") -> None:
        raise self._unsupported("answer")

    def hangup(self, call_id: str | None) -> None:
        raise self._unsupported("hangup")

    def cancel(self, call_id: str | None) -> None:
        """CANCEL an outgoing call that is not answered yet."""
        raise self._unsupported("cancel")

    def send_dtmf(self, digits: str, method: str, duration: float, gap: float) -> None:
        raise self._unsupported("dtmf")

    def play(self, file: str | None, tone: Mapping[str, Any] | None, duration: float) -> None:
        raise self._unsupported("play")

    def record(self, path: str) -> None:
        raise self._unsupported("record")

    def stop_record(self) -> None:
        raise self._unsupported("stop_record")

    def register(self) -> None:
        raise self._unsupported("register")

    def unregister(self) -> None:
        raise self._unsupported("unregister")

    def send_message(self, uri: str, body: str, content_type: str,
                     headers: Mapping[str, str]) -> None:
        raise self._unsupported("send a MESSAGE")

    def transfer(self, call_id: str | None, uri: str, headers: Mapping[str, str],
                 replaces: str | None = None) -> None:
        """Blind transfer to ``uri``; or attended: ``replaces`` is our other call's Call-ID."""
        raise self._unsupported("transfer")

    def reinvite(self, call_id: str | None, method: str, codecs: list[str],
                 headers: Mapping[str, str]) -> None:
        raise self._unsupported("re-INVITE")

    def send_request(self, method: str, uri: str, content_type: str, body: str,
                     headers: Mapping[str, str]) -> None:
        """An out-of-dialog request; its answer is a ``request_answered`` event."""
        raise self._unsupported(f"send a {method}")

    def send_info(self, call_id: str | None, content_type: str, body: str,
                  headers: Mapping[str, str]) -> None:
        raise self._unsupported("send an INFO")

    def hold(self, call_id: str | None, mode: str) -> None:
        raise self._unsupported("hold")

    def unhold(self, call_id: str | None) -> None:
        raise self._unsupported("unhold")

    # -- any other operation -------------------------------------------------------
    def perform(self, operation: str, call_id: str | None, **args: Any) -> None:
        """An operation a step kind names and the agent type carries out by that name
        (``call_id``: the call it acts on, None for none): how a step is added
        without a method here (e.g. ``steps/update.py``). Default: refuse."""
        raise self._unsupported(operation.replace("_", " "))

    def _unsupported(self, what: str) -> OperationFailed:
        return OperationFailed(f"{type(self).__name__} cannot {what}")
