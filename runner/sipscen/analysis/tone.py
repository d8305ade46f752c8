"""Finding a tone in decoded audio: each asked frequency as its own spectral peak,
its frequency estimated finely enough that a tolerance means what it says.

:func:`find_tone` answers "did ``frequencies`` (each within ``+- tolerance``)
sound for how long, and how loud". Per 32 ms frame (the hop of
:mod:`sipscen.analysis.quality`) it looks at a Hann window centred on the
frame, long enough to resolve the asked frequencies from each other (at
least 64 ms; four bins between the two closest: 100 ms for ringback's 440 +
480 Hz), and for each asked frequency ``f``:

* evaluates the window's spectrum (a DTFT, not an FFT: only near ``f``) on a
  grid of 1/8 bin over ``f +- (tolerance + 1.5 bins)``, and takes the
  strongest *local maximum* inside the grid (the rising skirt of a tone
  outside the band has its maximum at the grid's edge: not a peak);
* refines it by parabolic interpolation of the log power: on the tones PJSUA
  plays through PCMA, PCMU and G.722 the estimate was within 0.01 Hz, at the
  agent and on the wire (``tests/checks/test_tone_truth.py`` measures it);
* the peak is found when the estimate is within the tolerance of ``f`` and
  the sine it stands for carries at least ``share / (2 k)`` of the window's
  energy (``k`` asked frequencies), all of them together ``share``.

Two asked frequencies must be two peaks at least two bins apart: a single
tone between 440 and 480 Hz is never ringback. The frame's own level must
reach ``min_level_dbfs``. The result is the longest run of such frames.
"""
from __future__ import annotations

import math

import numpy as np

HOP_SECONDS = 0.032          # the frames of quality.py
MIN_WINDOW_SECONDS = 0.064
MAX_WINDOW_SECONDS = 0.5
RESOLUTION_BINS = 4          # the Hann main lobe is 4 bins wide: two peaks that far apart are two
GRID_STEP_BINS = 1 / 8
MARGIN_BINS = 1.5            # the grid reaches this far beyond the tolerance (to see a peak as one)
CHUNK = 64                   # frames per product: bounded memory, and OpenBLAS stays on one thread
_FULL = 32768.0


def window_seconds(frequencies) -> float:
    """The analysis window for ``frequencies``: long enough to resolve the two closest."""
    freqs = sorted(float(f) for f in frequencies)
    seconds = MIN_WINDOW_SECONDS
    gaps = [b - a for a, b in zip(freqs, freqs[1:]) if b > a]
    if gaps:
        seconds = max(seconds, RESOLUTION_BINS / min(gaps))
    return min(seconds, MAX_WINDOW_SECONDS)


def _frame_levels(x: np.ndarray, hop: int, frames: int) -> np.ndarray:
    sq = x[:frames * hop].reshape(frames, hop)
    ms = (sq * sq).mean(axis=1)
    return 10 * np.log10(np.maximum(ms * 2 / (_FULL * _FULL), 1e-13))


def _windows(x: np.ndarray, hop: int, frames: int, size: int) -> np.ndarray:
    """(frames, size) view: a window of ``size`` samples centred on each hop frame."""
    half = size // 2
    padded = np.concatenate([np.zeros(half), x, np.zeros(size)])
    view = np.lib.stride_tricks.sliding_window_view(padded, size)
    return view[hop // 2::hop][:frames]


def _peaks(frames: np.ndarray, win: np.ndarray, rate: int, f: float, tol: float, bin_hz: float):
    """Per frame: the refined frequency of the strongest interior peak near ``f``
    (NaN: none) and the share of the window's energy the sine at it carries."""
    step = bin_hz * GRID_STEP_BINS
    reach = tol + MARGIN_BINS * bin_hz
    count = max(5, int(math.ceil(2 * reach / step)) + 1)
    grid = f - reach + step * np.arange(count)
    n = np.arange(len(win))
    basis = np.exp(-2j * np.pi * np.outer(n, grid) / rate) * win[:, None]
    power = np.abs(frames @ basis) ** 2                       # (frames, grid)
    inner = power[:, 1:-1]
    is_peak = (inner >= power[:, :-2]) & (inner > power[:, 2:])
    masked = np.where(is_peak, inner, 0.0)
    k = masked.argmax(axis=1) + 1                             # index in the grid
    rows = np.arange(len(power))
    found = masked[rows, k - 1] > 0
    a, b, c = (np.log(np.maximum(power[rows, k + d], 1e-30)) for d in (-1, 0, 1))
    den = a - 2 * b + c
    delta = np.where(den < 0, 0.5 * (a - c) / np.where(den < 0, den, -1.0), 0.0)
    freq = np.where(found, grid[k] + delta * step, np.nan)
    peak_power = np.exp(b - 0.25 * (a - c) * delta)
    energy = (frames * frames) @ (win * win)                  # sum((x w)^2) per frame
    # a sine of amplitude A: |X| = A sum(w) / 2 and sum((x w)^2) = A^2 / 2 sum(w^2)
    share = 2 * peak_power * float((win * win).sum()) / float(win.sum()) ** 2 / np.maximum(energy, 1e-9)
    return freq, np.where(found, share, 0.0)


def find_tone(samples: np.ndarray, rate: int, frequencies, tolerance: float = 0.03,
              min_level_dbfs: float = -40.0, share: float = 0.6, *,
              tolerance_hz: float | None = None) -> dict:
    """The longest run of frames where every one of ``frequencies`` is a peak of its own
    within its tolerance (``tolerance_hz``, else ``tolerance`` as a fraction of each
    frequency), the sines together carrying ``share`` of the energy, at
    ``min_level_dbfs`` or louder (see the module doc).

    ``{"seconds", "start", "level_dbfs", "frequencies"}``: the run's length and start
    (seconds from the first sample; 0/None when absent), its median level and the
    median estimated frequencies. ``"unleveled"``: the same for the longest run
    without the level condition (what was there, only too quiet), and
    ``"above_nyquist"``: asked frequencies the audio cannot carry.
    """
    freqs = [float(f) for f in frequencies]
    tols = [float(tolerance_hz) if tolerance_hz is not None else f * tolerance for f in freqs]
    result = {"seconds": 0.0, "start": None, "level_dbfs": None, "frequencies": [],
              "unleveled": {"seconds": 0.0, "level_dbfs": None},
              "above_nyquist": [f for f in freqs if f >= rate / 2]}
    hop = max(16, int(rate * HOP_SECONDS))
    frames = len(samples) // hop
    if not frames or not freqs or result["above_nyquist"]:
        return result
    x = np.asarray(samples, dtype=np.float64)
    size = max(hop, int(round(rate * window_seconds(freqs))))
    win = np.hanning(size + 2)[1:-1]
    bin_hz = rate / size
    estimates = np.full((frames, len(freqs)), np.nan)
    shares = np.zeros((frames, len(freqs)))
    view = _windows(x, hop, frames, size)
    for at in range(0, frames, CHUNK):
        block = np.ascontiguousarray(view[at:at + CHUNK])
        for j, (f, tol) in enumerate(zip(freqs, tols)):
            estimates[at:at + CHUNK, j], shares[at:at + CHUNK, j] = _peaks(block, win, rate, f, tol,
                                                                           bin_hz)
    within = np.abs(estimates - np.asarray(freqs)) <= np.asarray(tols)      # NaN: False
    hit = within.all(axis=1)
    hit &= (shares >= share / (2 * len(freqs))).all(axis=1) & (shares.sum(axis=1) >= share)
    for i in range(len(freqs)):                    # two asked frequencies: two peaks
        for j in range(i + 1, len(freqs)):
            hit &= ~(np.abs(estimates[:, i] - estimates[:, j]) < 2 * bin_hz)
    levels = _frame_levels(x, hop, frames)
    loud = hit & (levels >= min_level_dbfs)
    run, at = _longest(loud)
    if run:
        part = slice(at, at + run)
        result.update(seconds=round(run * hop / rate, 3), start=round(at * hop / rate, 3),
                      level_dbfs=round(float(np.median(levels[part])), 1),
                      frequencies=[round(float(np.median(estimates[part, j])), 2)
                                   for j in range(len(freqs))])
    run, at = _longest(hit)
    if run:
        result["unleveled"] = {"seconds": round(run * hop / rate, 3),
                               "level_dbfs": round(float(np.median(levels[at:at + run])), 1)}
    return result


def _longest(mask: np.ndarray) -> tuple[int, int]:
    """(length, start) of the longest run of True."""
    if not mask.any():
        return 0, 0
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    starts, ends = edges[::2], edges[1::2]
    i = int(np.argmax(ends - starts))
    return int(ends[i] - starts[i]), int(starts[i])


__all__ = ["find_tone", "window_seconds"]
