"""In-band DTMF: dual tones in decoded audio (ITU-T Q.23 frequencies, Q.24 acceptance).

The detector looks at 8 kHz audio in Hann-windowed blocks of ``BLOCK``
samples (25.6 ms; one every ``HOP`` = 6.4 ms) and evaluates the eight DTMF
frequencies in each block (the windowed Goertzel magnitude, computed for all
blocks at once as a product with the windowed cosine/sine table). The window
matters at the standard's edges: a rectangular 102-sample block (spandsp's)
leaks a column tone 10 dB into its neighbour 127 Hz away and the other
group's tone +-0.7 dB into the twist, so 40 ms digits with 4 dB twist were
missed; the Hann block keeps neighbours 31 dB (rows, 73 Hz apart) and 40 dB
(columns) down and measures twist within 0.2 dB. A block *votes* for a digit
when all of these hold:

* both tones at least ``MIN_LEVEL_DBFS`` (-36 dBFS, about -33 dBm0 per
  tone: Q.24 asks for acceptance down to about -25 dBm0 per tone in most
  administrations; G.711 quiet noise sits far below);
* twist: the low-group tone at most ``NORMAL_TWIST_DB`` (9 dB) above the
  high-group one, the high group at most ``REVERSE_TWIST_DB`` (5 dB) above
  the low one (Q.24 and Bellcore ask for acceptance of 8 dB normal and 4 dB
  reverse twist: 1 dB of margin for noise; 10 and 6 dB are refused);
* each tone at least ``RELATIVE_PEAK_DB`` (10 dB) above the other three
  frequencies of its group;
* the two tones carry at least ``TONE_SHARE`` (70 %) of the block's whole
  (windowed) energy: speech, music and noise spread theirs over many
  frequencies. This is the main talk-off guard.

A digit is reported once ``MIN_BLOCKS`` consecutive blocks (4: a tone of
about 30 ms; Q.24 asks for acceptance from 40 ms and rejection under 23 ms,
which gives 5-6 and 2-3 votes) vote for it, and ends after ``END_BLOCKS``
blocks that do not (5: a 40 ms pause gives 7-8, a 10 ms break 2-3 and a
lost 20 ms packet 4-5: the break is bridged, the packet unless it gives 5). Its start and end are the first
and last voting blocks' less ``EDGE`` (a voting block reaches that far past
the tone). A digit needs a pause between two of the same kind.
Call-progress tones (dial 350+440 Hz, ringback 440+480, busy 480+620)
never vote: their frequencies are far from the DTMF grid (the relative peak
and energy share tests fail).

Rates other than 8 kHz are decimated by an integer factor first (16 kHz L16
and G.722 audio), others are refused (``ValueError``).
"""
from __future__ import annotations

import math

import numpy as np

ROWS = (697.0, 770.0, 852.0, 941.0)
COLS = (1209.0, 1336.0, 1477.0, 1633.0)
KEYS = ("123A", "456B", "789C", "*0#D")
RATE = 8000
BLOCK = 205
HOP = 51
MIN_LEVEL_DBFS = -36.0
NORMAL_TWIST_DB = 9.0
REVERSE_TWIST_DB = 5.0
RELATIVE_PEAK_DB = 10.0
TONE_SHARE = 0.70
MIN_BLOCKS = 4
END_BLOCKS = 5
EDGE = 48          # a voting block reaches about this far (6 ms) beyond the tone at each end
MIN_SAMPLES = BLOCK + (MIN_BLOCKS - 1) * HOP     # at 8 kHz: no digit fits in less audio

_FREQS = ROWS + COLS
_n = np.arange(BLOCK)
_WINDOW = np.hanning(BLOCK + 2)[1:-1]                  # Hann, no zero end points
_TABLE = np.concatenate([np.cos(2 * np.pi * np.outer(_n, _FREQS) / RATE),
                         np.sin(2 * np.pi * np.outer(_n, _FREQS) / RATE)], axis=1) * _WINDOW[:, None]
_AMP = 4.0 / _WINDOW.sum() ** 2                        # |X(f)|^2 -> squared amplitude of a sine at f
_TABLE32 = (_TABLE * np.sqrt(_AMP)).astype(np.float32)  # projections straight in amplitude units
_WINDOW2 = (_WINDOW ** 2 / (_WINDOW ** 2).sum()).astype(np.float32)   # x^2 @ it: windowed mean square
_FULL = 32768.0
# the bounds in squared amplitudes (no logarithm per block)
_MIN_AMP2 = _FULL * _FULL * 10 ** (MIN_LEVEL_DBFS / 10)
_NORMAL = 10 ** (NORMAL_TWIST_DB / 10)
_REVERSE = 10 ** (REVERSE_TWIST_DB / 10)
_PEAK = 10 ** (RELATIVE_PEAK_DB / 10)
_SEGMENTS = BLOCK // HOP                               # 4 segments of HOP (and 1 sample) a block
assert BLOCK == _SEGMENTS * HOP + 1
# the table and the window in four parts of HOP rows, side by side: a segment's products
_TABLE_SEG = np.ascontiguousarray(np.concatenate(
    [_TABLE32[j * HOP:(j + 1) * HOP] for j in range(_SEGMENTS)], axis=1))
_WINDOW2_SEG = np.ascontiguousarray(_WINDOW2[:_SEGMENTS * HOP].reshape(_SEGMENTS, HOP).T)
_CHUNK = 4096                                          # segments per product
_NO_SAMPLES = np.zeros(0, dtype=np.int16)


def block_votes(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per block: the digit index it votes for (-1: none) and its tone level in dBFS
    (-120 where it does not vote)."""
    return votes_many([samples])[0]


def votes_many(pieces: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    """:func:`block_votes` of each piece (audio of many streams), computed together:
    the pieces laid out one after the other, each from a multiple of ``HOP``, so that
    every piece's blocks are blocks of one grid (those across two pieces are left out)
    and numpy's cost per call is paid once for all the streams."""
    out: list = [None] * len(pieces)
    starts, counts = [], []
    at = 0
    for i, x in enumerate(pieces):
        n = len(x)
        k = (n - BLOCK) // HOP + 1 if n >= BLOCK else 0
        if not k:
            out[i] = (np.zeros(0, dtype=np.int8), np.zeros(0))
        starts.append(at)
        counts.append(k)
        at += -(-n // HOP) * HOP
    if not any(counts):
        return out
    f = np.zeros(at + _SEGMENTS * HOP, dtype=np.float32)
    for a, x in zip(starts, pieces):
        f[a:a + len(x)] = x
    if len(pieces) == 1:
        rows = np.arange(counts[0])
    else:
        rows = np.concatenate([np.arange(a // HOP, a // HOP + k) for a, k in zip(starts, counts) if k])
    votes, level = _votes(f, rows)
    at = 0
    for i, k in enumerate(counts):
        if k:
            out[i] = (votes[at:at + k], level[at:at + k])
            at += k
    return out


def _votes(f: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The votes of the blocks ``f[r * HOP:r * HOP + BLOCK]`` for each ``r`` in ``rows``
    (``f``: float32, a whole number of ``HOP`` segments, ``_SEGMENTS`` of them past the
    last block's start).

    A block is four segments of ``HOP`` samples and one sample more, so its windowed
    energy is a sum of the squared segments' products with the window's four parts,
    and its windowed projections one of the segments' products with the four parts of
    the table: matrix products over the segments, each sample read once, no block
    copied out. Blocks too quiet to hold two tones at ``MIN_LEVEL_DBFS`` are not
    looked at further; when they are most, only the segments of the others are
    multiplied."""
    seg = f.reshape(-1, HOP)
    k = len(seg) - _SEGMENTS
    last = f[_SEGMENTS * HOP::HOP][:k]          # each block's sample after its four segments
    nblocks = len(rows)
    votes = np.full(nblocks, -1, dtype=np.int8)
    level = np.full(nblocks, -120.0)
    total = np.empty(k, dtype=np.float32)
    for a in range(0, k, _CHUNK):             # bounded temporaries (and OpenBLAS's products)
        b = min(k, a + _CHUNK)
        part = seg[a:b + _SEGMENTS]
        q = (part * part) @ _WINDOW2_SEG
        n = b - a
        total[a:b] = q[0:n, 0] + q[1:n + 1, 1] + q[2:n + 2, 2] + q[3:n + 3, 3] \
            + last[a:b] * last[a:b] * _WINDOW2[_SEGMENTS * HOP]
    total = total[rows]
    loud = np.flatnonzero(total >= 0.5 * _MIN_AMP2)     # two tones at the floor: about their sum
    if not len(loud):
        return votes, level
    blocks = rows[loud]
    if 3 * len(loud) >= k:                    # most are loud: every segment's products
        proj = np.empty((k, 16), dtype=np.float32)
        for a in range(0, k, _CHUNK):
            b = min(k, a + _CHUNK)
            p = seg[a:b + _SEGMENTS] @ _TABLE_SEG
            n = b - a
            proj[a:b] = p[0:n, 0:16] + p[1:n + 1, 16:32] + p[2:n + 2, 32:48] + p[3:n + 3, 48:64]
        proj = proj[blocks]
    else:                                     # the loud blocks' segments only
        need = np.unique((blocks[:, None] + np.arange(_SEGMENTS)).ravel())
        p = seg[need] @ _TABLE_SEG
        at = np.searchsorted(need, blocks)
        proj = p[at, 0:16] + p[at + 1, 16:32] + p[at + 2, 32:48] + p[at + 3, 48:64]
    proj = (proj + last[blocks, None] * _TABLE32[_SEGMENTS * HOP]).astype(np.float64)
    total = total[loud]
    amp2 = proj[:, :8] ** 2 + proj[:, 8:] ** 2          # squared amplitude of a sine at f
    rows_, cols = amp2[:, :4], amp2[:, 4:]
    r = rows_.argmax(axis=1)
    c = cols.argmax(axis=1)
    idx = np.arange(len(loud))
    ra, ca = rows_[idx, r], cols[idx, c]
    ok = (ra >= _MIN_AMP2) & (ca >= _MIN_AMP2) & (ra <= ca * _NORMAL) & (ca <= ra * _REVERSE)
    rows_other = rows_.copy()
    rows_other[idx, r] = 0
    cols_other = cols.copy()
    cols_other[idx, c] = 0
    ok &= (rows_other.max(axis=1) * _PEAK <= ra) & (cols_other.max(axis=1) * _PEAK <= ca)
    ok &= (ra + ca) / 2.0 >= TONE_SHARE * np.maximum(total, 1e-9)
    hit = loud[ok]
    votes[hit] = (r[ok] * 4 + c[ok]).astype(np.int8)
    level[hit] = 10 * np.log10(np.maximum((ra[ok] + ca[ok]) / 2 / (_FULL * _FULL), 1e-12))
    return votes, level


class InbandDetector:
    """Streaming detector: ``feed`` consecutive sample blocks, read ``digits``.

    Each digit: ``{"digit", "start", "duration_ms", "level_dbfs"}`` with
    ``start`` the index of its first sample (in the stream's own samples).
    """

    __slots__ = ("rate", "factor", "pending", "offset", "digits", "cur", "run", "miss",
                 "start", "levels", "reported", "rest")

    def __init__(self, rate: int = RATE, start: int = 0):
        """``start``: the index (at ``rate``) in the stream's samples of the first one fed."""
        if rate % RATE:
            raise ValueError(f"in-band DTMF needs audio at a multiple of 8 kHz, not {rate} Hz")
        self.rate = rate
        self.factor = rate // RATE
        self.pending = np.zeros(0, dtype=np.int16)
        self.offset = start // self.factor      # 8 kHz index of pending[0]
        self.digits: list[dict] = []
        self.cur = -1            # digit being voted for
        self.run = 0             # consecutive blocks voting for cur
        self.miss = 0
        self.start = 0
        self.levels: list[float] = []
        self.reported = False    # cur has been reported (reached MIN_BLOCKS)
        self.rest = _NO_SAMPLES  # (rate > 8 kHz) input samples short of a decimation step

    def feed(self, samples: np.ndarray, _start: int | None = None) -> None:
        data, at = self.prepare(samples)
        self.apply(*block_votes(data), at)

    def prepare(self, samples: np.ndarray) -> tuple[np.ndarray, int]:
        """The first half of :meth:`feed`: the 8 kHz audio to look at now (what was left
        of the last feed, then ``samples``) and where it starts; the blocks' votes go to
        :meth:`apply` (``feed`` does both; ``votes_many`` can find many detectors' votes
        at once in between). What is past the last whole block is kept for the next."""
        if self.factor > 1:
            if len(self.rest):
                samples = np.concatenate([self.rest, samples])
            n = len(samples) // self.factor * self.factor
            self.rest = samples[n:].copy() if n < len(samples) else _NO_SAMPLES
            samples = samples[:n].reshape(-1, self.factor).mean(axis=1).astype(np.int16)
        data = np.concatenate([self.pending, samples]) if len(self.pending) else samples
        at = self.offset
        used = ((len(data) - BLOCK) // HOP + 1) * HOP if len(data) >= BLOCK else 0
        self.pending = data[used:].copy()
        self.offset += used
        return data, at

    def apply(self, votes: np.ndarray, levels: np.ndarray, at: int) -> None:
        """The second half of :meth:`feed`: the votes of the blocks of :meth:`prepare`'s
        audio, which started at ``at``."""
        nblocks = len(votes)
        if nblocks:
            changes = np.flatnonzero(np.diff(votes)) + 1      # most blocks repeat the last vote
            bounds = np.concatenate([[0], changes, [nblocks]])
            for a, b in zip(bounds[:-1], bounds[1:]):
                v = int(votes[a])
                if v < 0 and self.cur < 0:
                    continue
                for i in range(a, b):
                    self._block(v, float(levels[i]), at + i * HOP)
                    if v < 0 and self.cur < 0:
                        break

    def _block(self, vote: int, level: float, at: int) -> None:
        if vote >= 0 and vote == self.cur:
            self.run += 1
            self.miss = 0
            self.levels.append(level)
            if self.run == MIN_BLOCKS and not self.reported:
                self.reported = True
            return
        if self.cur >= 0:
            self.miss += 1
            if self.miss < END_BLOCKS and vote < 0:
                return               # a short drop inside a digit (a lost packet's edge)
            self._close(at - (self.miss - 1) * HOP + BLOCK - HOP - EDGE)
        if vote >= 0:
            self.cur, self.run, self.miss, self.start = vote, 1, 0, at + EDGE
            self.levels = [level]
            self.reported = False

    def _close(self, end: int) -> None:
        if self.reported:
            self.digits.append({
                "digit": KEYS[self.cur // 4][self.cur % 4],
                "start": self.start * self.factor,
                "duration_ms": int(round((end - self.start) * 1000 / RATE)),
                "level_dbfs": round(float(np.median(self.levels)), 1),
            })
        self.cur, self.run, self.miss, self.reported = -1, 0, 0, False
        self.levels = []

    def finish(self) -> list[dict]:
        if self.cur >= 0:
            self._close(self.offset)
        return self.digits


def detect_dtmf(samples: np.ndarray, rate: int = RATE) -> list[dict]:
    """All in-band digits of one piece of audio (see :class:`InbandDetector`)."""
    det = InbandDetector(rate)
    det.feed(np.asarray(samples, dtype=np.int16))
    return det.finish()


def dtmf_audio(digits: str, rate: int = RATE, duration: float = 0.1, gap: float = 0.1,
               level_dbfs: float = -10.0, twist_db: float = 0.0) -> np.ndarray:
    """Synthesised in-band DTMF (for tests and the agent's sender): each tone at
    ``level_dbfs`` (the high group ``twist_db`` lower)."""
    out = []
    amp = _FULL * 10 ** (level_dbfs / 20)
    n_on, n_off = int(duration * rate), int(gap * rate)
    t = np.arange(n_on) / rate
    for ch in digits:
        for ri, row in enumerate(KEYS):
            if ch.upper() in row:
                ci = row.index(ch.upper())
                break
        else:
            raise ValueError(f"not a DTMF digit: {ch!r}")
        tone = amp * np.sin(2 * math.pi * ROWS[ri] * t) + \
            amp * 10 ** (-twist_db / 20) * np.sin(2 * math.pi * COLS[ci] * t)
        out += [tone, np.zeros(n_off)]
    return np.clip(np.concatenate(out) if out else np.zeros(0), -32768, 32767).astype(np.int16)


__all__ = ["InbandDetector", "detect_dtmf", "dtmf_audio", "block_votes", "votes_many"]
