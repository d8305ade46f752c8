"""``wait: {event: tone}``: a tone heard, live, in what the current call receives.

The agent's worker watches its receive tap (``analysis/tone_watch.py``); the
wait names the frequencies, tolerance, duration and level. A PJSUA agent carries
it out (``watch_tone``); its facts keep when the tone began and when it was heard.
"""
from __future__ import annotations

import re

from sipscen.language.registry import WaitEvent, register_event
from sipscen.language.timeline import ended_before
from sipscen.language.waits import CALL_KEY

_HZ = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(k?Hz)?\s*", re.I)


def hz(value) -> float:
    """``440``, ``"440Hz"``, ``"1.2kHz"`` -> Hz."""
    if isinstance(value, (int, float)):
        return float(value)
    m = _HZ.fullmatch(str(value))
    if not m:
        raise ValueError(f"not a frequency: {value!r}")
    return float(m.group(1)) * (1000 if (m.group(2) or "").lower() == "khz" else 1)


def _tolerance(value, lowest: float) -> float:
    if value is None:
        return 0.03
    text = str(value).strip()
    return float(text[:-1]) / 100 if text.endswith("%") else hz(text) / lowest


def _tone_run(t, params, timeout):
    freqs = [hz(f) for f in params.get("frequencies") or [params.get("frequency")]]
    duration = t.duration(params.get("min_duration", "200ms"), "tone min_duration")
    watch = f"{t.name}-{t.current_index}-{t.board_now():.3f}"
    named = t.target(params) if params.get("call") else None
    t.control.perform("watch_tone", named or t.call_id, watch=watch, frequencies=freqs,
                      tolerance=_tolerance(params.get("tolerance"), min(freqs)),
                      min_duration_ms=int(duration * 1000),
                      min_level=float(params.get("min_level", -40)))
    what = "+".join(f"{f:g}" for f in freqs)
    t.wait_call_event(f"tone {what}", lambda kind, d: kind == "tone" and d.get("watch") == watch,
                      timeout, ended_before, call=named)


_FREQ = {"type": ["number", "string"], "pattern": "^\\d+(\\.\\d+)? ?(Hz|kHz)?$",
         "exclusiveMinimum": 0,
         "x-error": "not a frequency: {value} (use e.g. 440, 440Hz or 1.2kHz)"}


def _tone_check(lc, params) -> None:
    if not params.get("frequencies") and params.get("frequency") is None:
        lc.fail("event tone needs `frequencies` (or `frequency`)", [])
    lc.durations(params, [])


register_event(WaitEvent(
    name="tone", run=_tone_run, check=_tone_check,
    keys={**CALL_KEY,
          "frequency": {**_FREQ, "description": "one frequency (or `frequencies`)"},
          "frequencies": {"type": "array", "minItems": 1, "maxItems": 4, "items": _FREQ,
                          "description": "the tone's frequencies, each its own spectral peak "
                                         "(440+480: US ringback)"},
          "tolerance": {"type": ["string", "number"], "pattern": "^\\d+(\\.\\d+)?(%|Hz)?$",
                        "description": "3% (default) or in Hz"},
          "min_duration": {"$ref": "#/$defs/duration",
                           "description": "how long it must last (default 200ms)"},
          "min_level": {"type": "number", "maximum": 0, "description": "dBFS (default -40)"}},
    doc="A tone is heard in what the current call receives (the agent's receive tap, "
        "live): `frequencies` each its own peak within `tolerance`, lasting `min_duration`, "
        "at `min_level` dBFS or louder; early media counts. The audio that arrives from "
        "the wait's start is looked at; the agent's facts record when it began and when it "
        "was heard (`tones_heard`: onset_at, heard_at). Fails at once if the call ends.",
    example="- wait: {event: tone, frequencies: [440, 480], timeout: 10s}"))

