"""What the engine prepares for the media checks (kept out of run.py)."""
from __future__ import annotations

import time

from sipscen.core.events import EventBoard

# expectation kinds that read decoded wire audio; a dtmf expectation for in-band digits too
_AUDIO_KINDS = ("audio", "rtp")


def needs_wire_audio(expectations) -> bool:
    for exp in expectations:
        if exp.kind in _AUDIO_KINDS:
            return True
        if exp.kind == "dtmf" and exp.params.get("method") == "inband":
            return True
    return False


def signal_times(board: EventBoard) -> tuple[dict[str, float], float]:
    """Signal name -> board time of its first post; the wall-clock time of board time 0."""
    signals: dict[str, float] = {}
    for ev in board.events(kind="signal"):
        name = str(ev.data.get("name"))
        signals.setdefault(name, ev.t)
    return signals, time.time() - board.now()


def step_times(board: EventBoard) -> dict[tuple[str, int], dict[str, float]]:
    """(agent, step index) -> {"started": t, "done": t} (board times of their first posts)."""
    out: dict[tuple[str, int], dict[str, float]] = {}
    for ev in board.events(kind="step"):
        index = ev.data.get("index")
        if isinstance(index, int):
            out.setdefault((ev.agent, index), {}).setdefault(str(ev.data.get("status")), ev.t)
    return out
