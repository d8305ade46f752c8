"""What a piece of decoded audio holds, and how good an RTP stream was.

Pure functions over int16 samples (numpy), shared by the wire analysis and
the PJSUA agent's own analysis of what it received:

* :func:`audio_summary` -- level (dBFS, 0 = a full-scale sine), active time,
  the dominant frequencies of the loud parts;
* :func:`find_tone` (``tone.py``) -- the longest stretch where each given
  frequency is a spectral peak of its own (within a tolerance that means
  what it says) and together they carry most of the energy, at a minimum level;
* :func:`similarity` -- a full-reference score (0..1) of received audio
  against the file the other side played: delay-compensated normalized
  cross-correlation per 256 ms segment, weighted by the reference's energy.
  Each segment may slip +-500 ms against the one before: a jitter buffer or
  a loaded conference bridge moves audio as it adapts (jumps of 100-400 ms
  and 10 ms steps were measured at a receiving PJSUA agent on a busy
  machine), so the delay is followed from segment to segment. 1.0 is a sample-exact copy; G.711 on a clean path scores
  > 0.95; lost packets (silence or concealment in their place) lower it
  about in proportion. It is *not* PESQ (see docs/ANALYSIS.md);
* :func:`e_model` -- the ITU-T G.107 E-model's R factor and MOS from codec,
  loss, jitter and delay (the simplified form VoIP monitoring uses: G.113
  codec impairments, random loss, a jitter buffer of twice the jitter).
"""
from __future__ import annotations

import math

import numpy as np

from sipscen.analysis.emodel import CODEC_IMPAIRMENT, e_model  # noqa: F401 (re-exported)
from sipscen.analysis.tone import find_tone  # noqa: F401 (re-exported)

FRAME_SECONDS = 0.032        # analysis frames (256 samples at 8 kHz: 31 Hz bins)
SILENCE_DBFS = -50.0         # a frame below this is silent
SUMMARY_WINDOW = 0.128       # seconds: the windows of the summary's frequencies
_FULL = 32768.0


def _frames(samples: np.ndarray, rate: int) -> tuple[np.ndarray, int]:
    n = max(16, int(rate * FRAME_SECONDS))
    count = len(samples) // n
    return samples[:count * n].reshape(count, n).astype(np.float64), n


def frame_levels(samples: np.ndarray, rate: int) -> np.ndarray:
    """Level of each frame in dBFS (a full-scale sine = 0 dBFS)."""
    x, _ = _frames(samples, rate)
    if not len(x):
        return np.zeros(0)
    ms = (x * x).mean(axis=1)
    return 10 * np.log10(np.maximum(ms * 2 / (_FULL * _FULL), 1e-13))


def level_dbfs(samples: np.ndarray) -> float:
    if len(samples) == 0:
        return -130.0
    x = samples.astype(np.float64)
    return round(float(10 * math.log10(max((x * x).mean() * 2 / (_FULL * _FULL), 1e-13))), 1)


def audio_summary(samples: np.ndarray, rate: int, threshold_dbfs: float = SILENCE_DBFS) -> dict:
    """``{"seconds", "level_dbfs", "peak_dbfs", "active_seconds", "frequencies"}``.

    ``level_dbfs`` is over the active frames (the whole audio when none is
    active); ``frequencies`` are the strongest spectral peaks (Hz) of the
    active frames, strongest first (up to 3).
    """
    levels = frame_levels(samples, rate)
    active = levels > threshold_dbfs
    frame = int(rate * FRAME_SECONDS)
    out = {"seconds": round(len(samples) / rate, 3) if rate else 0.0,
           "level_dbfs": level_dbfs(samples), "peak_dbfs": round(float(levels.max()), 1) if len(levels) else -130.0,
           "active_seconds": round(float(active.sum()) * frame / rate, 3), "frequencies": []}
    if active.any():
        x, _ = _frames(samples, rate)
        act = x[active].ravel()
        out["level_dbfs"] = level_dbfs(act)
        out["frequencies"] = _strongest(act, rate)
    return out


def _strongest(active: np.ndarray, rate: int, count: int = 3) -> list[float]:
    """The strongest spectral peaks (Hz) of the active audio, strongest first: Hann
    windows of 128 ms (8 Hz bins: ringback's 440 and 480 Hz are two peaks), their
    mean power, peaks at least 3 bins apart, refined by parabolic interpolation."""
    n = max(16, int(rate * SUMMARY_WINDOW))
    if len(active) < n:
        n = len(active)
    x = active[:len(active) // n * n].reshape(-1, n)
    mean = (np.abs(np.fft.rfft(x * np.hanning(n), axis=1)) ** 2).mean(axis=0)
    peaks: list[int] = []
    for i in np.argsort(mean)[::-1][:60]:
        if i == 0 or mean[i] < mean.max() * 0.05:
            continue
        if any(abs(i - j) <= 3 for j in peaks):
            continue
        peaks.append(int(i))
        if len(peaks) == count:
            break
    return [round(_refine(mean, i) * rate / n, 1) for i in peaks]


def _refine(spec: np.ndarray, i: int) -> float:
    """Parabolic interpolation of a spectral peak's bin (log magnitude)."""
    if 0 < i < len(spec) - 1:
        a, b, c = (math.log(max(v, 1e-20)) for v in spec[i - 1:i + 2])
        d = a - 2 * b + c
        if d < 0:
            return i + 0.5 * (a - c) / d
    return float(i)


def _resample(x: np.ndarray, src: int, dst: int) -> np.ndarray:
    if src == dst or not len(x):
        return x.astype(np.float64)
    n = int(len(x) * dst / src)
    return np.interp(np.arange(n) * src / dst, np.arange(len(x)), x.astype(np.float64))


def similarity(received: np.ndarray, rate: int, reference: np.ndarray, ref_rate: int) -> dict:
    """Delay-compensated similarity of ``received`` to ``reference`` (see module doc).

    ``{"score": 0..1, "delay_ms": where the reference starts in the received audio}``.
    """
    ref = _resample(reference, ref_rate, rate)
    rx = received.astype(np.float64)
    if len(ref) < rate // 10 or len(rx) < rate // 10 or not np.any(ref) or not np.any(rx):
        return {"score": 0.0, "delay_ms": None}
    size = 1 << int(math.ceil(math.log2(len(rx) + len(ref))))
    corr = np.fft.irfft(np.fft.rfft(rx, size) * np.conj(np.fft.rfft(ref, size)), size)
    lags = np.concatenate([corr[:len(rx)], corr[size - len(ref) + 1:]])
    lag_values = np.concatenate([np.arange(len(rx)), np.arange(-len(ref) + 1, 0)])
    delay = int(lag_values[int(np.argmax(np.abs(lags)))])
    seg = int(rate * 0.256)
    slip = int(rate * 0.5)
    rx2 = np.concatenate([[0.0], np.cumsum(rx * rx)])
    num = den = 0.0
    lag = delay
    for start in range(0, len(ref) - seg + 1, seg):
        r = ref[start:start + seg]
        er = float(r @ r)
        if er < seg * 10.0:           # reference silence carries no weight
            continue
        lo = max(0, start + lag - slip)
        hi = min(len(rx) - seg, start + lag + slip)
        best, best_at = 0.0, None
        if hi >= lo:
            window = rx[lo:hi + seg]
            dots = np.correlate(window, r, mode="valid")            # one per offset lo..hi
            energy = rx2[lo + seg:hi + seg + 1] - rx2[lo:hi + 1]
            corr = np.where(energy > 0, dots / np.sqrt(er * np.maximum(energy, 1e-9)), 0.0)
            i = int(np.argmax(corr))
            best, best_at = float(corr[i]), lo + i
        if best_at is not None and best > 0.5:
            lag = best_at - start     # follow the drift a jitter buffer puts in
        num += max(0.0, best) * er
        den += er
    score = num / den if den else 0.0
    return {"score": round(max(0.0, score), 3), "delay_ms": round(delay * 1000 / rate, 1)}


__all__ = ["audio_summary", "find_tone", "frame_levels", "level_dbfs", "similarity", "e_model",
           "SILENCE_DBFS"]
