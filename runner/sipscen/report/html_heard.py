"""What was heard: the spectrogram and a player of the recording an audio, rtp or
in-band DTMF check judged, next to its verdict in the HTML report.

A check names its recording in ``CheckResult.recording`` (a WAV under the run's
artifacts folder, written by ``checks/heard.save_recordings``). Here it becomes
a spectrogram computed with numpy (a short-time FFT, dB below full scale, time
left to right, frequency bottom to top) drawn into a PNG written by our own few
lines of zlib, inlined as a data URI, and an ``<audio>`` element: the WAV
itself as a data URI when it is small, else a link relative to the report.
A tone shows as a bright horizontal line; silence as a dark picture; one-way
audio as a dark half. Nothing here is markup: the template draws it.
"""
from __future__ import annotations

import base64
import os
import re
import struct
import wave
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from sipscen.report.views import artifact_href

HEIGHT = 128                 # frequency rows (0 Hz at the bottom, rate/2 at the top)
MAX_WIDTH = 640              # time columns
FLOOR_DB, TOP_DB = -90.0, -10.0
INLINE_WAV_BYTES = 120_000   # a WAV up to this size is inlined (~7 s at 8 kHz)
INLINE_PAGE_BYTES = 3_000_000  # past this many inlined WAV bytes in a page, WAVs are linked
# a perceptual dark-blue -> teal -> yellow ramp (viridis' anchor colours)
_RAMP = np.array([[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]],
                 dtype=float)


def spectrogram(samples: np.ndarray, rate: int, height: int = HEIGHT,
                max_width: int = MAX_WIDTH) -> np.ndarray:
    """dBFS per (frequency row, time column): rows from the top (highest frequency)
    down to 0 Hz, at most ``max_width`` columns over the whole recording."""
    x = np.asarray(samples, dtype=np.float64) / 32768.0
    frame = 2 * height                               # height bins up to Nyquist
    if len(x) < frame:
        x = np.pad(x, (0, frame - len(x)))
    columns = min(max_width, max(1, (len(x) - frame) // (frame // 4) + 1))
    starts = np.linspace(0, len(x) - frame, columns).astype(int)
    frames = x[starts[:, None] + np.arange(frame)[None, :]] * np.hanning(frame)[None, :]
    power = np.abs(np.fft.rfft(frames, axis=1))[:, :height]
    # a full-scale sine reads 0 dB: the window's coherent gain is its sum / 2
    db = 20 * np.log10(np.maximum(power / (np.hanning(frame).sum() / 2), 1e-9))
    return db.T[::-1]


def colours(db: np.ndarray) -> np.ndarray:
    """dBFS -> RGB bytes along the ramp (FLOOR_DB black-blue, TOP_DB yellow)."""
    level = np.clip((db - FLOOR_DB) / (TOP_DB - FLOOR_DB), 0, 1) * (len(_RAMP) - 1)
    low = np.floor(level).astype(int)
    high = np.minimum(low + 1, len(_RAMP) - 1)
    frac = (level - low)[..., None]
    return (_RAMP[low] * (1 - frac) + _RAMP[high] * frac).astype(np.uint8)


def png(rgb: np.ndarray) -> bytes:
    """An 8-bit RGB PNG of ``rgb`` (rows, columns, 3)."""
    rows, cols, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[r].tobytes() for r in range(rows))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", cols, rows, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def _data_uri(kind: str, data: bytes) -> str:
    return f"data:{kind};base64," + base64.b64encode(data).decode("ascii")


def _read(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2 or w.getnchannels() != 1:
            raise ValueError("not a 16-bit mono WAV")
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2"), w.getframerate()


def recording_path(result: Any, check: Any) -> Path | None:
    """The WAV a check judged, from its ``recording`` (relative to the artifacts
    folder); None when it names none. Never outside the artifacts folder."""
    recording = getattr(check, "recording", None)
    folder = (result.artifacts or {}).get("dir")
    if not recording or not folder:
        return None
    base = Path(folder).resolve()
    path = (base / recording).resolve()
    return path if path.is_relative_to(base) else None


SHOWN_WIDTH, SHOWN_HEIGHT = 420, 96     # the picture on the page (CSS px)
_ASKED = re.compile(r"(?:^|, )(no )?tone ([0-9.+]+) Hz")


def asked_frequencies(expected: Any) -> list[dict[str, Any]]:
    """The frequencies a tone check asked for (or asked to be absent), read from its
    expected text ("tone 1000+1200 Hz ±3% for 1s"): drawn over the spectrogram."""
    out = []
    for absent, freqs in _ASKED.findall(expected if isinstance(expected, str) else ""):
        for f in freqs.split("+"):
            try:
                out.append({"hz": float(f), "absent": bool(absent)})
            except ValueError:
                continue
    return out


def _overlay(rate: int, expected: Any) -> dict[str, Any]:
    """Frequency ticks (every kHz, or every 2 kHz above 8 kHz) and the asked tones'
    marks, in the picture's CSS pixels."""
    top = rate / 2
    step = 1000 if top <= 4000 else 2000 if top <= 8000 else 4000
    ticks = [{"y": round(SHOWN_HEIGHT * (1 - f / top), 1), "label": f"{f / 1000:g}k" if f else "0"}
             for f in range(0, int(top) + 1, step)]
    marks = [{"y": round(SHOWN_HEIGHT * (1 - m["hz"] / top), 1), "absent": m["absent"],
              "label": f"{'no ' if m['absent'] else ''}{m['hz']:g} Hz asked"}
             for m in asked_frequencies(expected) if 0 < m["hz"] < top]
    return {"ticks": ticks, "marks": marks, "width": SHOWN_WIDTH, "height": SHOWN_HEIGHT}


class Budget:
    """How many WAV bytes a page may still inline (one per rendered page)."""

    def __init__(self, total: int = INLINE_PAGE_BYTES):
        self.left = total

    def take(self, size: int) -> bool:
        if size > INLINE_WAV_BYTES or size > self.left:
            return False
        self.left -= size
        return True


def heard_view(result: Any, check: Any, base_dir: str | os.PathLike,
               budget: Budget | None = None) -> dict[str, Any] | None:
    """The picture and player of ``check``'s recording for the template, or None.
    The WAV is inlined while ``budget`` allows, else linked relative to ``base_dir``."""
    path = recording_path(result, check)
    if path is None:
        return None
    label = getattr(check, "recording", "")
    try:
        samples, rate = _read(path)
        size = path.stat().st_size
    except (OSError, EOFError, ValueError, wave.Error) as exc:
        return {"image": None, "src": None, "label": label,
                "note": f"recording {label} unreadable: {exc}"}
    db = spectrogram(samples, rate)
    seconds = len(samples) / rate if rate else 0.0
    if (budget or Budget()).take(size):
        src = _data_uri("audio/wav", path.read_bytes())
    else:
        src = artifact_href(str(path), base_dir)
    level = (20 * np.log10(max(float(np.sqrt(np.mean((samples / 32768.0) ** 2))), 1e-9))
             if len(samples) else None)
    return {"image": _data_uri("image/png", png(colours(db))), "width": db.shape[1],
            "height": db.shape[0], "src": src, "label": label, "seconds": f"{seconds:.2f}",
            "rate": rate, "top_hz": rate // 2, "overlay": _overlay(rate, getattr(check, "expected", None)),
            "note": f"what was heard: {seconds:.2f} s, 0-{rate // 2} Hz"
                    + (f", level {level:.0f} dBFS" if level is not None else "")}
