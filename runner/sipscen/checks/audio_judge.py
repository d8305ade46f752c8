"""`audio` expectations: what the receiving side heard from the sender.

    - audio: {from: alice, to: bob, tone: {frequency: 1000Hz, min_duration: 500ms}}
    - audio: {from: bob, to: alice, not_silent: true}
    - audio: {from: alice, to: bob, silent: true, after: held, before: resumed}
    - audio: {from: alice, to: bob, matches: hello.wav, min_score: 0.8}

Each is judged at the receiving agent (its tap of the call) and on the wire
(the decoded stream from sender to receiver) unless ``where`` says one of
them. When the sender's audio is missing but the other direction carries
audio, the failure names it: one-way audio.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sipscen.analysis.audio import read_wav
from sipscen.analysis.quality import SILENCE_DBFS, audio_summary, find_tone, similarity
from sipscen.checks.context import CheckContext
from sipscen.checks.heard import Heard, at_agent, attach, on_wire, phase_label, phase_of, sources
from sipscen.core.results import ERROR, FAILED, PASSED, WIRE, CheckResult
from sipscen.core.model import Expectation, parse_duration

MIN_ACTIVE = 0.2      # seconds of sound for "not silent"
MIN_LEVEL = -40.0     # dBFS: a tone's default min_level


def parse_hz(value: Any) -> float:
    """``1000``, ``"1000Hz"``, ``"1.2kHz"`` -> Hz."""
    if isinstance(value, (int, float)):
        return float(value)
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(k?Hz)?\s*", str(value), re.I)
    if not m:
        raise ValueError(f"not a frequency: {value!r}")
    return float(m.group(1)) * (1000 if (m.group(2) or "").lower() == "khz" else 1)


DEFAULT_TOLERANCE = "3%"


def parse_tolerance(value: Any) -> tuple[float | None, float | None]:
    """``3%`` (of each frequency) or ``20Hz`` / a number of Hz (the same for every
    frequency) -> (fraction, None) or (None, Hz); None is the default, 3 %."""
    text = str(DEFAULT_TOLERANCE if value is None else value).strip()
    if text.endswith("%"):
        return float(text[:-1]) / 100, None
    return None, parse_hz(text)


def tolerance_text(value: Any) -> str:
    fraction, hz = parse_tolerance(value)
    return f"±{hz:g} Hz" if hz is not None else f"±{fraction * 100:g}%"


def _percent(value: Any) -> float:
    text = str(value).strip()
    return float(text[:-1]) if text.endswith("%") else float(text)


def check_audio(exp: Expectation, ctx: CheckContext) -> list[CheckResult]:
    p = exp.params
    loc = str(exp.location)
    sender, receiver = p["from"], p["to"]
    label = f"audio {sender}->{receiver}" + phase_label(p)
    start, end, problem = phase_of(p, ctx)
    if problem:
        return [CheckResult(label, FAILED, None, None, problem, loc)]
    results = []
    for heard in sources(ctx, p, start, end):
        name = f"{label} ({heard.where})"
        if heard.samples is None:
            status = ERROR if heard.missing.startswith("inconclusive") else FAILED
            results.append(CheckResult(name, status, _wanted(p), None, heard.missing, loc,
                                       _evidence(ctx, heard, receiver)))
            continue
        ok, actual, message = _judge(p, heard, exp)
        if not ok and (p.get("tone") or p.get("not_silent") or p.get("matches")):
            message = _one_way(ctx, p, heard, start, end, message)
        if heard.note:
            message = "; ".join(x for x in (message, heard.note) if x)
        results.append(attach(CheckResult(name, PASSED if ok else FAILED, _wanted(p), actual,
                                          message, loc, _evidence(ctx, heard, receiver)), heard))
    return results


def _evidence(ctx: CheckContext, heard: Heard, receiver: str) -> str:
    return WIRE if heard.where == "wire" else ctx.evidence_of(receiver)


def _wanted(p: dict) -> str:
    parts = []
    if p.get("tone"):
        t = p["tone"]
        freqs = t.get("frequencies") or [t.get("frequency")]
        level = f" at >= {t['min_level']:g} dBFS" if t.get("min_level") is not None else ""
        parts.append("tone " + "+".join(f"{parse_hz(f):g}" for f in freqs) + " Hz "
                     f"{tolerance_text(t.get('tolerance'))} for {t.get('min_duration', '200ms')}"
                     + level)
    if p.get("no_tone"):
        t = p["no_tone"]
        freqs = t.get("frequencies") or [t.get("frequency")]
        parts.append("no tone " + "+".join(f"{parse_hz(f):g}" for f in freqs) + " Hz "
                     f"{tolerance_text(t.get('tolerance'))} for {t.get('min_duration', '200ms')}")
    if p.get("not_silent"):
        parts.append("not silent")
    if p.get("silent"):
        parts.append("silent")
    if p.get("matches"):
        parts.append(f"matches {Path(str(p['matches'])).name} (score >= {p.get('min_score', 0.8)})")
    return ", ".join(parts)


def _judge(p: dict, heard: Heard, exp: Expectation) -> tuple[bool, Any, str]:
    samples, rate = heard.samples, heard.rate
    threshold = float(p.get("threshold", SILENCE_DBFS))
    summary = audio_summary(samples, rate, threshold)
    actual: dict[str, Any] = {"seconds": summary["seconds"], "active_seconds": summary["active_seconds"],
                              "level_dbfs": summary["level_dbfs"], "frequencies": summary["frequencies"]}
    ok, why = True, []
    if p.get("tone"):
        ok_tone, why_tone = _judge_tone(p["tone"], samples, rate, summary, threshold, actual)
        ok = ok and ok_tone
        why += why_tone
    if p.get("no_tone"):
        ok_absent, why_absent = _judge_no_tone(p["no_tone"], samples, rate, actual)
        ok = ok and ok_absent
        why += why_absent
    if p.get("not_silent") and summary["active_seconds"] < MIN_ACTIVE:
        ok = False
        why.append(f"silent: {summary['active_seconds']:g}s above {threshold:g} dBFS "
                   f"in {summary['seconds']:g}s")
    if p.get("silent") and heard.expected and summary["seconds"] < 0.9 * heard.expected:
        ok = False        # silence is only proven over audio the tap really recorded
        why.append(f"the received audio covers {summary['seconds']:g}s of the "
                   f"{heard.expected:g}s phase")
    if p.get("silent") and summary["active_seconds"] > 0:
        ok = False
        why.append(f"not silent: {summary['active_seconds']:g}s above {threshold:g} dBFS "
                   f"(level {summary['level_dbfs']:g} dBFS)")
    if p.get("matches"):
        ref_path = Path(str(p["matches"]))
        if not ref_path.is_absolute():
            ref_path = Path(exp.location.file).resolve().parent / ref_path
        ref, ref_rate = read_wav(ref_path)
        score = similarity(samples, rate, ref, ref_rate)
        actual["score"] = score["score"]
        actual["delay_ms"] = score["delay_ms"]
        if score["score"] < float(p.get("min_score", 0.8)):
            ok = False
            why.append(f"similarity {score['score']:g} < {p.get('min_score', 0.8)}")
    if heard.samples is not None and len(heard.samples) == 0:
        why.append("no audio at all in the phase")
    return ok, actual, "; ".join(why)


def _judge_tone(t: dict, samples, rate: int, summary: dict, threshold: float,
                actual: dict) -> tuple[bool, list[str]]:
    freqs = [parse_hz(f) for f in (t.get("frequencies") or [t.get("frequency")])]
    fraction, hz = parse_tolerance(t.get("tolerance"))
    need = parse_duration(t.get("min_duration", "200ms"))
    floor = float(t.get("min_level", MIN_LEVEL))
    found = find_tone(samples, rate, freqs, tolerance=fraction or 0.0, tolerance_hz=hz,
                      min_level_dbfs=floor)
    actual["tone_seconds"] = found["seconds"]
    if found["frequencies"]:
        actual["tone_frequencies"] = found["frequencies"]
        actual["tone_level_dbfs"] = found["level_dbfs"]
    if found["seconds"] >= need:
        return True, []
    wanted = f"tone {'+'.join(f'{f:g}' for f in freqs)} Hz {tolerance_text(t.get('tolerance'))}"
    if found["above_nyquist"]:
        return False, [f"{wanted}: {', '.join(f'{f:g}' for f in found['above_nyquist'])} Hz is "
                       f"above what {rate} Hz audio carries ({rate // 2} Hz)"]
    quiet = found["unleveled"]
    if quiet["seconds"] >= need:
        return False, [f"{wanted} is there for {quiet['seconds']:g}s but at {quiet['level_dbfs']:g} "
                       f"dBFS, below min_level {floor:g} dBFS"]
    heard = (f"heard {', '.join(f'{f:.0f} Hz' for f in summary['frequencies'])}"
             if summary["frequencies"] else f"heard nothing above {threshold:g} dBFS")
    return False, [f"{wanted} lasted {found['seconds']:g}s (< {need:g}s); {heard}"]


def _judge_no_tone(t: dict, samples, rate: int, actual: dict) -> tuple[bool, list[str]]:
    """A tone that must be absent: never heard for ``min_duration`` (default 200ms)."""
    freqs = [parse_hz(f) for f in (t.get("frequencies") or [t.get("frequency")])]
    fraction, hz = parse_tolerance(t.get("tolerance"))
    need = parse_duration(t.get("min_duration", "200ms"))
    found = find_tone(samples, rate, freqs, tolerance=fraction or 0.0, tolerance_hz=hz,
                      min_level_dbfs=float(t.get("min_level", MIN_LEVEL)))
    actual["no_tone_seconds"] = found["seconds"]
    if found["seconds"] < need:
        return True, []
    start = f" from {found['start']:g}s" if found.get("start") is not None else ""
    return False, [f"tone {'+'.join(f'{f:g}' for f in freqs)} Hz "
                   f"{tolerance_text(t.get('tolerance'))} was heard for {found['seconds']:g}s "
                   f"(>= {need:g}s){start}"]


def _one_way(ctx: CheckContext, p: dict, heard: Heard, start, end, message: str) -> str:
    """Name one-way audio: the reverse direction carries sound in the same place."""
    sender, receiver = p["from"], p["to"]
    threshold = float(p.get("threshold", SILENCE_DBFS))
    if audio_summary(heard.samples, heard.rate, threshold)["active_seconds"] >= MIN_ACTIVE:
        return message            # the sender is heard: wrong audio, not one-way audio
    if heard.where == "wire":
        back = on_wire(ctx, receiver, sender, start, end)
    else:
        back = at_agent(ctx, receiver, sender, start, end)
    if back.samples is None or not len(back.samples):
        return message
    active = audio_summary(back.samples, back.rate)["active_seconds"]
    if active >= MIN_ACTIVE:
        return (f"one-way audio: {sender}->{receiver} is silent while {receiver}->{sender} "
                f"carries audio ({active:g}s); " + message)
    return message


__all__ = ["check_audio", "parse_hz"]
