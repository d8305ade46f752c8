"""The `audio` expectation family: its schema fragment and load-time checks.

Judged by :mod:`sipscen.checks.audio_judge` (imported only when checks run:
it needs numpy, which the language registry must not load).
"""
from __future__ import annotations

import difflib
import wave

from sipscen.language.registry import ExpectationFamily, register_expectation
from sipscen.capture.visibility import WHOLE

# ------------------------------------------------------------------ the family
FREQUENCY = {"type": ["number", "string"], "pattern": "^\\d+(\\.\\d+)? ?(Hz|kHz)?$",
             "exclusiveMinimum": 0,
             "x-error": "not a frequency: {value} (use e.g. 1000, 1000Hz or 1.2kHz)"}
STEP_MARK = {     # a phase bound: a signal's name, or one step of an agent (its index in steps)
    "type": ["string", "object"], "minLength": 1, "additionalProperties": False,
    "required": ["agent", "step"],
    "properties": {"agent": {"$ref": "#/$defs/name"},
                   "step": {"type": "integer", "minimum": 0,
                            "description": "index in the agent's steps (0 = the first)"}},
}
PHASE = {
    "after": {**STEP_MARK, "description": "phase start: a signal's name, or {agent, step}: "
                                          "when that step finished"},
    "before": {**STEP_MARK, "description": "phase end: a signal's name, or {agent, step}: "
                                           "when that step started"},
}
TONE = {
    "type": "object", "additionalProperties": False,
    "anyOf": [{"required": ["frequency"]}, {"required": ["frequencies"]}],
    "properties": {
        "frequency": FREQUENCY,
        "frequencies": {"type": "array", "minItems": 1, "maxItems": 4, "items": FREQUENCY},
        "tolerance": {"type": ["string", "number"], "pattern": "^\\d+(\\.\\d+)? ?(%|Hz)?$",
                      "description": "how far each measured frequency may be from the "
                                     "asked one: a percentage of it (default 3%) or Hz "
                                     "(10Hz, or a plain number)"},
        "min_duration": {"$ref": "#/$defs/duration"},
        "min_level": {"type": "number", "maximum": 0, "description": "dBFS (default -40)"},
    },
}


SCHEMA = {
    "description": "What `to` heard from `from` (at the agent's tap and on the wire), "
                   "optionally between two signals.",
    "type": "object", "required": ["from", "to"],
    "anyOf": [{"required": ["tone"]}, {"required": ["not_silent"]}, {"required": ["silent"]},
              {"required": ["matches"]}, {"required": ["no_tone"]}],
    "additionalProperties": False,
    "properties": {
        "from": {"$ref": "#/$defs/name"}, "to": {"$ref": "#/$defs/name"},
        "where": {"enum": ["agent", "wire", "both"]}, **PHASE,
        "tone": TONE,
        "no_tone": {**TONE, "description": "a tone that must be absent: never heard for "
                                           "`min_duration` (default 200ms) or longer"},
        "not_silent": {"const": True}, "silent": {"const": True},
        "threshold": {"type": "number", "maximum": 0,
                      "description": "dBFS under which audio is silence (default -50)"},
        "matches": {"$ref": "#/$defs/file_path"},
        "min_score": {"type": "number", "minimum": 0, "maximum": 1},
    },
}


def check_phase_and_pair(lc, params: dict) -> None:
    """Load time (audio and rtp): two different agents, phases named by signals that exist."""
    if params.get("from") is not None and params.get("from") == params.get("to"):
        lc.fail("'from' and 'to' must be two different agents", ["to"])
    checker = lc.checker
    parties = [*checker.agents, *checker.services]       # a service's steps signal too
    signals = set().union(*(checker._signals(n) for n in parties)) if parties else set()
    for key in ("after", "before"):
        name = params.get(key)
        if isinstance(name, dict):
            _check_step_mark(lc, name, key)
            continue
        if isinstance(name, str) and name not in signals:
            close = difflib.get_close_matches(name, sorted(signals), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            lc.fail(f"no agent or service sends signal '{name}' (a 'signal' step){hint}", [key])


def _check_step_mark(lc, mark: dict, key: str) -> None:
    agent, index = mark.get("agent"), mark.get("step")
    if not isinstance(agent, str) or not isinstance(index, int):
        return                                   # the schema said so already
    spec = lc.checker.agents.get(agent)
    if spec is None:
        lc.ref(agent, [key, "agent"])            # "no agent named ..." with a hint
        return
    steps = spec.get("steps") or []
    if index >= len(steps):
        lc.fail(f"agent '{agent}' has {len(steps)} step(s) (indexes 0-{len(steps) - 1}), "
                f"no step {index}", [key, "step"])


def _load_check(lc, params: dict) -> None:
    check_phase_and_pair(lc, params)
    before = params.get("matches")
    lc.file(params, "matches", [])
    if isinstance(before, str) and params.get("matches") != before:     # found: made absolute
        try:
            with wave.open(str(params["matches"]), "rb") as w:
                if w.getsampwidth() != 2:
                    raise wave.Error("16-bit samples needed")
        except (wave.Error, EOFError, OSError) as exc:
            why = f": {exc}" if str(exc) else ""
            lc.fail(f"'{before}' is not a 16-bit PCM WAV file{why}", ["matches"])
    if params.get("silent") and (params.get("not_silent") or params.get("tone")):
        lc.fail("'silent' contradicts 'not_silent'/'tone'", ["silent"], key=True)
    if "min_score" in params and "matches" not in params:
        lc.fail("'min_score' needs 'matches'", ["min_score"], key=True)
    for key in ("tone", "no_tone"):
        if isinstance(params.get(key), dict):
            lc.durations(params[key], [key])


register_expectation(ExpectationFamily(
    name="audio", evaluate="sipscen.checks.audio_judge:check_audio", schema=SCHEMA, check=_load_check,
    mutate="sipscen.checks.mutants_media:audio",   # falsified copies (sipscen judge --mutate)
    wire_needs=WHOLE,
    needs_audio=True,
    doc="What `to` heard from `from`, at the receiving PJSUA agent (its receive tap) and on the "
        "wire (PCMU, PCMA, L16, G.722, opus decoded, also inside SRTP), optionally between two signals "
        "(`after`, `before`): a `tone` (each of up to 4 `frequencies` a spectral peak of its "
        "own, its measured frequency within `tolerance` of the asked one: default 3%, or in Hz; "
        "for `min_duration`, default 200ms, at `min_level` dBFS or louder, default -40), "
        "`no_tone` (the same, absent: never heard that long), `not_silent`, `silent` (below "
        "`threshold` dBFS), or `matches` a "        "WAV file with a delay-compensated similarity of at least `min_score` (0..1). A phase "
        "bound is a signal's name or one step of an agent, `after: {agent: bob, step: 3}` "
        "(from when that step finished; `before`: until it started; 0 = the first step). A "
        "silent direction while the other carries audio fails as one-way audio. Through a "
        "relay the wire half reads the relay's leg into `to`; a service `to` records nothing "
        "(judged on the wire only); audio inside DTLS-SRTP is inconclusive on the wire.",
    example="- audio: {from: alice, to: bob, tone: {frequency: 1000Hz, min_duration: 500ms}}"))
