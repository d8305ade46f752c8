"""What a PJSUA agent hears: a per-call receive tap and in-band DTMF (worker side).

Every call with active audio gets an ``AudioMediaRecorder`` fed from the call's
audio (what it *receives*, nothing the agent plays itself) writing
``rx-<n>.wav`` in the agent's artifacts folder. The worker polls the growing
file every ``POLL_SECONDS`` (PJMEDIA's WAV writer flushes every few hundred
ms) and runs the in-band DTMF detector on the new samples: each digit becomes
a ``dtmf`` event with ``method: inband``, as if the stack had reported it.
When the call ends the recorder is destroyed (the WAV header is finalised)
and the tap reports ``tap {call_id, path, rate, started}``: the checks read
the file afterwards for tones, levels, silence and similarity.

In-band sending lives here too: :func:`inband_digits` builds the
``ToneDigitVector`` for ``pj.ToneGenerator.playDigits``.
"""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
import wave
from sipscen.agents.pjsua import protocol as P
from sipscen.agents.pjsua import protocol as P
from sipscen.agents.pjsua import protocol as P

if TYPE_CHECKING:  # pragma: no cover
    from sipscen.agents.pjsua.pjobjects import WorkerCall
    from sipscen.analysis.inband import InbandDetector

POLL_SECONDS = 0.1
HEADER = 44                       # PJMEDIA writes the canonical 44-byte WAV header
INBAND_VOLUME = 20000             # ToneGenerator volume (peak of the sum): each tone about -10 dBFS = -7 dBm0 (Q.23)


def _preload() -> None:
    import numpy  # noqa: F401  # lazy: preloaded in a thread, the worker starts at once
    import sipscen.analysis.inband  # noqa: F401  # lazy: the same


class RxTap:
    def __init__(self, call: "WorkerCall", path: Path):
        import pjsua2 as pj  # lazy: pjsua2 exists in the worker process only
        self.call = call
        self.path = path
        self.rate = 0                # from the file's header (the conference bridge's rate)
        self.started = time.monotonic()
        self.closed = False
        self.recorder = pj.AudioMediaRecorder()
        self.recorder.createRecorder(str(path))
        # A looped silent file keeps the recorder fed while the call has no audio port
        # (hold, re-INVITE): the file's timeline stays the wall clock's.
        self.silence = pj.AudioMediaPlayer()
        self.silence.createPlayer(_silence_file(Path(path).parent), 0)
        self.silence.startTransmit(self.recorder)
        self.reconnect()
        self.read_at = HEADER
        self.detector: InbandDetector | None = None
        self.sent = 0                # digits already reported
        self.watches: list[tuple[dict, Any]] = []   # (the watch_tone command, ToneWatch)
        self.heard: list[tuple[dict, dict]] = []    # tones found since the last poll

    def reconnect(self) -> None:
        """(Re)connect the call's audio (a re-INVITE gives the call a new audio port)."""
        if not self.closed and self.call.audio_index is not None:
            self.call.getAudioMedia(self.call.audio_index).startTransmit(self.recorder)

    def poll(self) -> list[dict[str, Any]]:
        """New samples -> detector; the digits found since the last poll."""
        try:
            size = os.path.getsize(self.path)
        except OSError:
            return []
        if not self.rate and size >= HEADER:
            with open(self.path, "rb") as f:
                self.rate = int.from_bytes(f.read(HEADER)[24:28], "little")
            if self.rate and self.rate % 8000 == 0:
                from sipscen.analysis.inband import InbandDetector  # lazy: numpy only for in-band detection
                self.detector = InbandDetector(self.rate)
        if self.detector is None:
            return []
        end = HEADER + (size - HEADER) // 2 * 2
        if end > self.read_at:
            with open(self.path, "rb") as f:
                f.seek(self.read_at)
                data = f.read(end - self.read_at)
            self.read_at += len(data)
            import numpy as np  # lazy: numpy only for in-band detection
            samples = np.frombuffer(data, dtype="<i2").astype(np.int16)
            self.detector.feed(samples)
            self._watch(samples)
        return self._new_digits()

    def watch(self, command: dict) -> None:
        """Look for a tone in what arrives from now on (``watch_tone``)."""
        from sipscen.analysis.tone_watch import ToneWatch  # lazy: loads pjsua2
        self.watches.append((command, ToneWatch(
            self.rate or 16000, list(command["frequencies"]),
            tolerance=float(command.get("tolerance") or 0.03),
            min_duration=float(command.get("min_duration_ms") or 200) / 1000,
            min_level_dbfs=float(command.get("min_level", -40)))))
        self.watches[-1][1].base = self.read_at     # where in the file it starts looking

    def _watch(self, samples) -> None:
        for command, watch in list(self.watches):
            found = watch.feed(samples)
            if found is not None:
                self.watches.remove((command, watch))
                onset = (watch.base - HEADER) / 2 / (self.rate or 16000) + found["onset"]
                self.heard.append((command, {**found, "onset": self.started + onset}))

    def _new_digits(self) -> list[dict[str, Any]]:
        found = self.detector.digits[self.sent:]
        self.sent += len(found)
        return found

    def close(self) -> list[dict[str, Any]]:
        """Stop recording (finalises the file); the last digits."""
        if self.closed:
            return []
        self.closed = True
        digits = self.poll()
        self.silence = None
        self.recorder = None      # destroying it writes the WAV header
        if self.detector is not None:
            self.detector.finish()
            digits += self._new_digits()
        return digits


class Taps:
    """The worker's receive taps, one per call (``emit`` is the worker's event writer)."""

    def __init__(self, folder: str, emit):
        self.folder, self.emit = folder, emit
        self.taps: dict[int, RxTap] = {}      # id(call) -> tap
        self.pending: dict[int, list[dict]] = {}   # id(call) -> tone watches before its audio
        # numpy and the in-band detector (~0.1-0.2 s of imports) load in the background:
        # neither the worker's start nor, on a tap's first audio, its loop waits for them
        # (a tap that needs them before then waits on the import lock)
        self._preload = threading.Thread(target=_preload, name="tap-preload", daemon=True)
        self._preload.start()

    def on_audio_active(self, call: "WorkerCall") -> None:
        from sipscen.agents.pjsua import protocol as P  # lazy: loads pjsua2
        from sipscen.agents.pjsua.pjobjects import error_text  # lazy: loads pjsua2
        try:          # a broken tap must not cost the call its media event
            if id(call) in self.taps:
                self.taps[id(call)].reconnect()
                return
            path = os.path.join(self.folder, f"rx-{len(self.taps) + 1}.wav")
            self.taps[id(call)] = RxTap(call, Path(path))
            for command in self.pending.pop(id(call), []):
                self.taps[id(call)].watch(command)
        except Exception as exc:
            self.emit(P.ERROR, message=f"receive tap: {error_text(exc)}")

    def poll(self) -> None:
        for tap in list(self.taps.values()):
            if not tap.closed:
                self._digits(tap, tap.poll())
                for command, found in tap.heard:
                    self.emit(P.TONE, call_id=tap.call.sip_call_id, watch=command.get("watch"),
                              frequencies=list(command["frequencies"]),
                              onset=found["onset"], seconds=found["seconds"],
                              level_dbfs=found["level_dbfs"])
                tap.heard.clear()

    def watch_tone(self, call: "WorkerCall", command: dict) -> None:
        """``watch_tone`` on a call: now if it has a tap, else once its audio starts."""
        tap = self.taps.get(id(call))
        if tap is not None and not tap.closed:
            tap.watch(command)
        else:
            self.pending.setdefault(id(call), []).append(command)

    def on_call_ended(self, call: "WorkerCall") -> None:
        tap = self.taps.get(id(call))
        if tap is None or tap.closed:
            return
        self._digits(tap, tap.close())
        self.emit(P.TAP, call_id=call.sip_call_id, path=str(tap.path), rate=tap.rate,
                  started=tap.started)

    def _digits(self, tap: RxTap, digits: list[dict[str, Any]]) -> None:
        for d in digits:
            self.emit(P.DTMF_RECEIVED, call_id=tap.call.sip_call_id, digit=d["digit"],
                      method=P.INBAND, duration_ms=d["duration_ms"], level_dbfs=d["level_dbfs"])

    def drop(self) -> None:
        """Free every PJSUA2 object (before the library goes)."""
        for tap in self.taps.values():
            tap.silence = tap.recorder = None
        self.taps.clear()
        self._preload.join(10.0)      # no exit in the middle of an import


def start_inband(call: "WorkerCall", digits: str, duration_ms: int, gap_ms: int):
    """A ``pj.ToneGenerator`` playing ``digits`` into the call (ValueError: not DTMF)."""
    import pjsua2 as pj  # lazy: pjsua2 exists in the worker process only
    bad = [c for c in digits if c.upper() not in "0123456789*#ABCD"]
    if bad:
        raise ValueError(f"not a DTMF digit: {bad[0]!r}")
    generator = pj.ToneGenerator()
    generator.createToneGenerator()
    generator.startTransmit(call.getAudioMedia(call.audio_index))
    generator.playDigits(inband_digits(digits, duration_ms, gap_ms), False)
    return generator


def _silence_file(folder: Path) -> str:
    """100 ms of silence (16-bit, 8 kHz) for :class:`RxTap`, written once per folder."""
    path = folder / ".tap-silence.wav"
    if not path.exists():
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(8000)
            w.writeframes(b"\0" * 1600)
    return str(path)


def inband_digits(digits: str, duration_ms: int, gap_ms: int, volume: int = INBAND_VOLUME):
    """A ``pj.ToneDigitVector`` for ``ToneGenerator.playDigits`` (Q.23 dual tones)."""
    import pjsua2 as pj  # lazy: pjsua2 exists in the worker process only
    vec = pj.ToneDigitVector()
    for ch in digits:
        d = pj.ToneDigit()
        d.digit = ch
        d.on_msec = duration_ms
        d.off_msec = gap_ms
        d.volume = volume
        vec.append(d)
    return vec


__all__ = ["RxTap", "Taps", "inband_digits", "start_inband", "POLL_SECONDS"]
