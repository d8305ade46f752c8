"""Live tone detection on a growing stream of samples (a PJSUA agent's receive tap).

``wait: {event: tone, frequencies: [440, 480]}`` ("hang up when ringback is
heard") needs the tone found while the call runs, not after it. A
:class:`ToneWatch` is fed the tap's new samples; it looks at 100 ms blocks
(Hann window, 50 ms hop, zero-padded to 1 Hz bins) and calls a block *on* when

* the bands ``f +- tolerance`` of the wanted frequencies together hold at
  least ``share`` of the block's energy, each at least its fair part of that;
* each wanted frequency is a peak of its own: between two of them the spectrum
  dips below half of the smaller peak (a single 460 Hz tone is not 440+480 Hz);
* the block is at least ``min_level_dbfs`` loud.

The tone is *heard* once consecutive on blocks span ``min_duration``; the
result gives its onset (seconds from the first sample fed) and its level.
"""
from __future__ import annotations

import numpy as np

BLOCK_S = 0.1
HOP_S = 0.05
FFT = 1 << 14          # zero padding: bins of rate/16384 Hz (about 1 Hz at 16 kHz)


class ToneWatch:
    def __init__(self, rate: int, frequencies: list[float], tolerance: float = 0.03,
                 min_duration: float = 0.2, min_level_dbfs: float = -40.0, share: float = 0.6):
        self.rate = int(rate)
        self.freqs = sorted(float(f) for f in frequencies)
        self.tolerance = tolerance
        self.min_duration = max(min_duration, BLOCK_S)
        self.min_level = min_level_dbfs
        self.share = share
        self.block = int(round(BLOCK_S * rate))
        self.hop = int(round(HOP_S * rate))
        self.window = np.hanning(self.block)
        self.buffer = np.zeros(0, dtype=np.float64)
        self.offset = 0                # samples dropped from the buffer's front so far
        self.run_start: int | None = None
        self.levels: list[float] = []
        self.found: dict | None = None  # {"onset": s, "level_dbfs": x, "seconds": s}
        bins = np.fft.rfftfreq(FFT, 1.0 / self.rate)
        self.bands = [(bins >= f - self._width(f)) & (bins <= f + self._width(f))
                      for f in self.freqs]
        self.gaps = [(bins > a + self._width(a)) & (bins < b - self._width(b))
                     for a, b in zip(self.freqs, self.freqs[1:])]

    def _width(self, f: float) -> float:
        return max(f * self.tolerance, 5.0)

    def feed(self, samples: np.ndarray) -> dict | None:
        """New samples (int16 or float); the tone once heard (then always that)."""
        if self.found is not None or not len(samples):
            return self.found
        self.buffer = np.concatenate([self.buffer, samples.astype(np.float64) / 32768.0])
        while len(self.buffer) >= self.block and self.found is None:
            self._judge(self.buffer[:self.block], self.offset)
            self.buffer = self.buffer[self.hop:]
            self.offset += self.hop
        return self.found

    def block_on(self, block: np.ndarray) -> tuple[bool, float]:
        """Whether one block carries the tone, and its level in dBFS."""
        rms = float(np.sqrt(np.mean(block ** 2)))
        level = 20 * np.log10(rms) if rms > 0 else -120.0
        if level < self.min_level:
            return False, level
        spec = np.abs(np.fft.rfft(block * self.window, FFT)) ** 2
        total = float(spec.sum())
        if total <= 0:
            return False, level
        energies = [float(spec[band].sum()) for band in self.bands]
        if sum(energies) < self.share * total or \
                min(energies) < self.share * total / (2 * len(energies)):
            return False, level
        peaks = [float(spec[band].max()) for band in self.bands]
        for gap, (a, b) in zip(self.gaps, zip(peaks, peaks[1:])):
            if gap.any() and float(spec[gap].min()) > 0.5 * min(a, b):
                return False, level        # one tone between two wanted ones, not both
        return True, level

    def _judge(self, block: np.ndarray, at: int) -> None:
        on, level = self.block_on(block)
        if not on:
            self.run_start, self.levels = None, []
            return
        if self.run_start is None:
            self.run_start = at
        self.levels.append(level)
        seconds = (at + self.block - self.run_start) / self.rate
        if seconds >= self.min_duration:
            self.found = {"onset": round(self.run_start / self.rate, 3),
                          "seconds": round(seconds, 3),
                          "level_dbfs": round(float(np.mean(self.levels)), 1)}
