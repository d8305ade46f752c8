"""What one agent heard from another, per direction, at the agent and on the wire.

Shared by the ``audio`` and ``rtp`` checks. Two sources of evidence:

* **agent**: the receiving agent's tap of the call with the sender (its
  ``rx_audio`` WAV, tap.py), on the board's clock (``started_at``);
* **wire**: the decoded streams of the capture from the sender's addresses to
  the receiver's (``CheckContext.wire_audio``, capture clock).

A *phase* narrows both to the time between two bounds (``after``, ``before``):
a named signal (any agent's ``signal`` step) or one step of an agent
(``{agent, step}``: ``after`` from when it finished, ``before`` until it started). Board times become capture times
through ``CheckContext.epoch0`` (the wall-clock time of board time 0).
"""
from __future__ import annotations

import re
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sipscen.analysis.audio import read_wav
from sipscen.analysis.result import WireStream
from sipscen.checks.context import CheckContext
from sipscen.core.results import WIRE
from sipscen.checks.dtls_srtp import hidden_note
from sipscen.checks.media_path import media_path


@dataclass
class Heard:
    """Audio of one direction in one place, cut to the phase."""
    where: str                     # "at bob" or "wire"
    samples: np.ndarray | None     # None: no audio at all (say why in ``missing``)
    rate: int = 8000
    missing: str = ""
    packets: int | None = None     # RTP packets in the phase (wire only)
    max_gap: float | None = None   # longest gap between packets in the phase (wire only)
    expected: float | None = None  # seconds the phase lasted (when both ends are known)
    note: str = ""                 # which call was judged, when there were several


def inbound_streams(ctx: CheckContext, sender: str, receiver: str,
                    carried: bool = False) -> list[WireStream]:
    """Streams that reached ``receiver`` from ``sender``: directly, or through a relay
    its last leg into the receiver on their calls (``carried``: every leg on the way,
    for "no RTP at all"). Through the impairment relay (agents/impair.py) each
    direction shows twice on the wire, into the receiver's face and, impaired, out of
    the sender's face into the receiver's real address: only the latter is what the
    receiver got."""
    path = media_path(ctx, sender, receiver)
    streams = path.carried if carried else path.received
    record = ctx.record(receiver)
    if record is None or not record.face():
        return streams
    contact = ctx.contacts.get(receiver)
    real = contact.host if contact is not None else None
    return [s for s in streams if not ctx.owns(receiver, s.dst)   # a leg before
            or s.dst.rpartition(":")[0].strip("[]") == real]


def phase_of(exp_params: dict, ctx: CheckContext) -> tuple[float | None, float | None, str]:
    """(start, end) in board seconds (None: open) and a problem, if a signal never came."""
    bounds = []
    for key in ("after", "before"):
        name = exp_params.get(key)
        if name is None:
            bounds.append(None)
            continue
        if isinstance(name, dict):        # {agent, step}: after it finished, before it started
            status = "done" if key == "after" else "started"
            t = ctx.steps.get((str(name.get("agent")), int(name.get("step", -1))), {}).get(status)
            if t is None:
                verb = "finished" if key == "after" else "started"
                return None, None, f"{_mark(name)} ({key}) never {verb}"
            bounds.append(t)
            continue
        t = ctx.signals.get(str(name))
        if t is None:
            return None, None, f"signal '{name}' ({key}) was never sent"
        bounds.append(t)
    return bounds[0], bounds[1], ""


def _mark(value) -> str:
    if isinstance(value, dict):
        return f"{value.get('agent')} step {value.get('step')}"
    return str(value)


def phase_label(p: dict) -> str:
    parts = []
    if p.get("after"):
        parts.append(f"after {_mark(p['after'])}")
    if p.get("before"):
        parts.append(f"before {_mark(p['before'])}")
    return f" [{', '.join(parts)}]" if parts else ""


def _cut(samples: np.ndarray, rate: int, t0: float, start: float | None, end: float | None) -> np.ndarray:
    """``samples`` begin at time ``t0``; keep [start, end)."""
    a = 0 if start is None else max(0, int(round((start - t0) * rate)))
    b = len(samples) if end is None else max(a, int(round((end - t0) * rate)))
    return samples[a:b]


def at_agent(ctx: CheckContext, sender: str, receiver: str, start, end) -> Heard:
    where = f"at {receiver}"
    if ctx.evidence_of(receiver) == WIRE:
        return Heard(where, None, missing=f"inconclusive: {receiver} records nothing it "
                                          "receives (its calls are read from the capture): "
                                          "judge it on the wire (where: wire)")
    call = ctx.call_between(receiver, sender)
    if call is None:
        return Heard(where, None, missing=f"{receiver} has no call with {sender}")
    tap = call.rx_audio
    if not tap or not tap.get("path"):
        return Heard(where, None, missing=f"{receiver} recorded no received audio for the call")
    try:
        samples, rate = read_wav(tap["path"])
    except (OSError, ValueError, EOFError, wave.Error) as exc:
        return Heard(where, None, missing=f"{receiver}'s received audio unreadable: {exc}")
    expected = (end - start) if start is not None and end is not None else None
    return Heard(where, _cut(samples, rate, float(tap["started_at"]), start, end), rate,
                 expected=expected, note=ctx.first_of(receiver, sender))


def on_wire(ctx: CheckContext, sender: str, receiver: str, start, end,
            carried: bool = False) -> Heard:
    """The decoded audio of the direction on the wire, cut to the phase (``carried``:
    the packets of every leg on the way, for "no RTP at all")."""
    if ctx.wire is None:
        return Heard("wire", None, missing=ctx.wire_error or "no capture")
    streams = ctx.wire.rtp_streams
    wanted = {id(s) for s in inbound_streams(ctx, sender, receiver, carried)}
    pieces, codecs, packets, gaps = [], [], 0, [0.0]
    rate = 8000
    cstart = None if start is None else ctx.epoch0 + start
    cend = None if end is None else ctx.epoch0 + end
    found_stream = False
    for index, stream in enumerate(streams):
        if id(stream) not in wanted:
            continue
        found_stream = True
        audio = ctx.wire_audio.get(index)
        if audio is None:
            codecs.append(next(iter(stream.codecs.values()), "?"))
            continue
        rate = audio["rate"]
        a = 0 if cstart is None else max(0, int(round((cstart - audio["start"]) * rate)))
        pieces.append((audio["start"] + a / rate, rate,
                       _cut(audio["samples"], rate, audio["start"], cstart, cend)))
        times = [t for t in audio.get("times") or []
                 if (cstart is None or t >= cstart) and (cend is None or t < cend)]
        packets += len(times)
        if len(times) > 1:
            gaps.append(float(np.max(np.diff(np.asarray(times)))))
    if not found_stream:
        if not ctx.call_ids_between(sender, receiver):     # no RTP of no call proves nothing
            return Heard("wire", None, packets=0, missing=f"no call between {sender} and "
                                                         f"{receiver} in the capture")
        hidden = ctx.uncaptured(sender, receiver)
        if hidden:
            return Heard("wire", None, missing=hidden)
        return Heard("wire", np.zeros(0, dtype=np.int16), rate, packets=0, max_gap=None)
    if not pieces:
        hidden = hidden_note(ctx, receiver, f"the audio into {receiver}")
        if hidden:
            return Heard("wire", None, missing=hidden)
        return Heard("wire", None, missing=f"no decodable audio on the wire ({', '.join(codecs)}: "
                                            f"PCMU, PCMA, L16, G.722 and opus are decoded)")
    return Heard("wire", _merge(pieces), pieces[0][1], packets=packets, max_gap=max(gaps))


def _merge(pieces: list[tuple[float, int, np.ndarray]]) -> np.ndarray:
    """Several streams of one direction (a new SSRC after a re-INVITE, a relay's two
    legs) on one timeline, by their capture times."""
    if len(pieces) == 1:
        return pieces[0][2]
    rate = pieces[0][1]
    if any(r != rate for _, r, _ in pieces):
        return max((p for _, _, p in pieces), key=len)
    base = min(t for t, _, _ in pieces)
    length = max(int(round((t - base) * rate)) + len(p) for t, _, p in pieces)
    out = np.zeros(length, dtype=np.int32)
    for t, _, p in pieces:
        at = int(round((t - base) * rate))
        out[at:at + len(p)] += p
    return np.clip(out, -32768, 32767).astype(np.int16)


def sources(ctx: CheckContext, p: dict[str, Any], start, end) -> list[Heard]:
    where = p.get("where", "both")
    out = []
    wire_party = ctx.evidence_of(p["to"]) == WIRE     # a service: nothing of its own
    if where == "agent" or (where == "both" and not wire_party):
        out.append(at_agent(ctx, p["from"], p["to"], start, end))
    if where in ("wire", "both"):
        out.append(on_wire(ctx, p["from"], p["to"], start, end))
    return out


__all__ = ["Heard", "inbound_streams", "at_agent", "on_wire", "phase_of", "phase_label", "sources"]


# --- the recording a check judged, kept for the report ----------------------------
RECORDINGS = "heard"          # the folder in the run's artifacts
MAX_SECONDS = 600             # a longer recording is kept cut to its first 10 minutes


def attach(check, heard: Heard | None):
    """Remember on ``check`` the audio it judged (``heard``, cut to the phase), for
    :func:`save_recordings`; nothing when there was no audio. Returns ``check``."""
    if heard is not None and heard.samples is not None and len(heard.samples):
        check.__dict__["_heard"] = (heard.samples, heard.rate)
    return check


def save_recordings(checks, folder: str | Path | None) -> None:
    """Write the audio each check judged as a 16-bit mono WAV under ``folder/heard/``
    and set ``check.recording`` to its path relative to ``folder``. Without a folder,
    or when the disk refuses, the checks simply name no recording."""
    for index, check in enumerate(checks):
        audio = check.__dict__.pop("_heard", None)
        if audio is None or folder is None:
            continue
        samples, rate = audio
        slug = re.sub(r"[^A-Za-z0-9]+", "-", check.name).strip("-")[:60] or "check"
        relative = f"{RECORDINGS}/{index:02d}-{slug}.wav"
        target = Path(folder) / relative
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with wave.open(str(target), "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(int(rate))
                w.writeframes(np.asarray(samples[: int(rate) * MAX_SECONDS], dtype="<i2").tobytes())
        except OSError:
            continue
        check.recording = relative
