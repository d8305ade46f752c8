"""Decoded audio of RTP streams: G.711 µ-law/A-law and L16, placed by RTP timestamp.

:class:`AudioSink` takes one stream's (decrypted) payloads in capture order and
builds its linear 16-bit audio: each payload lands at the sample its RTP
timestamp names (a gap -- loss, silence suppression -- becomes silence; a late
packet fills its hole while it is still in the buffer). Consumers that only
need a running look at the audio (in-band DTMF on a long capture) get it in
blocks that lag the write head by ``LAG`` samples, and the sink can forget what
they consumed (``keep=False``): memory stays bounded whatever the capture's
length. With ``keep=True`` (WAV export, scenario checks) the whole stream is
kept, up to ``MAX_SECONDS``.

G.722 is decoded with Sippy Software's libg722 (PyPI ``G722``: public domain,
bit-exact to ITU-T G.722, tested against the ITU vectors) to 16 kHz audio
(its RTP clock says 8000: one timestamp unit is two samples). A G.722
decoder has state: packets are decoded in arrival order (a reordered packet
costs the ADPCM predictor a few ms). Opus is decoded at 48 kHz mono by the
system libopus (``opus.py``, ctypes); lost packets are silence, not concealed.
A sink whose audio is not kept (in-band DTMF only) may decode at 8 kHz
(``decoder_for``'s ``rate``: G.722's lower sub-band, opus band-limited by
libopus); ``ts_scale / ts_div`` maps its RTP timestamps to those samples.
"""
from __future__ import annotations

import functools
import wave
from bisect import bisect_left
from itertools import accumulate
from operator import sub
from typing import Callable

import numpy as np
from sipscen.analysis import opus

MAX_SECONDS = 600          # kept audio per stream (10 min at 8 kHz = 9.6 MB)
MAX_GAP_SECONDS = 5        # a larger timestamp jump is checked against the capture clock
LAG_SECONDS = 0.2          # streaming consumers see audio this far behind the newest packet


def _ulaw_table() -> np.ndarray:
    out = np.zeros(256, dtype=np.int16)
    for i in range(256):
        u = ~i & 0xFF
        t = ((u & 0x0F) << 3) + 0x84
        t <<= (u & 0x70) >> 4
        out[i] = (0x84 - t) if u & 0x80 else (t - 0x84)
    return out


def _alaw_table() -> np.ndarray:
    out = np.zeros(256, dtype=np.int16)
    for i in range(256):
        a = i ^ 0x55
        t = (a & 0x0F) << 4
        seg = (a & 0x70) >> 4
        if seg == 0:
            t += 8
        elif seg == 1:
            t += 0x108
        else:
            t = (t + 0x108) << (seg - 1)
        out[i] = t if a & 0x80 else -t
    return out


ULAW = _ulaw_table()
ALAW = _alaw_table()
_EMPTY = np.zeros(0, dtype=np.int16)


def decoder_for(codec: str, rate: int | None = None) -> Callable[[bytes], np.ndarray] | None:
    """``bytes -> int16 samples`` for a codec name (``PCMU``, ``PCMA``, ``L16``, ``G722``,
    ``OPUS``), else None. Each call gives a new decoder (G.722 and opus keep state).

    ``rate``: the rate to decode to where the codec can give another than its own:
    opus any of 8, 12, 16, 24 or 48 kHz (libopus band-limits and resamples itself),
    G.722 8 kHz for its lower sub-band alone (0-4 kHz, the QMF synthesis and the
    upper band skipped: what in-band DTMF needs, at half the cost)."""
    name = codec.upper()
    if name == "OPUS":
        return opus.OpusDecoder(rate or opus.RATE) if opus.available() else None
    if name == "G722":
        try:
            import G722  # lazy: the G.722 codec only for G.722 streams
        except ImportError:          # optional: without it G.722 is simply not decoded
            return None
        state = G722.G722(8000 if rate == 8000 else 16000, 64000)
        return _G722Decode(state)
    return _STATELESS.get(name)


class _G722Decode:
    """A G.722 decoder as ``bytes -> samples``; ``joins``: payloads decoded one after
    the other give what their concatenation gives (the ADPCM state runs on byte by byte)."""

    joins = True
    __slots__ = ("decode",)

    def __init__(self, state):
        self.decode = state.decode

    def __call__(self, b: bytes) -> np.ndarray:
        return np.frombuffer(self.decode(b), dtype=np.int16)


def _pcmu(b: bytes) -> np.ndarray:
    return ULAW[np.frombuffer(b, dtype=np.uint8)]


def _pcma(b: bytes) -> np.ndarray:
    return ALAW[np.frombuffer(b, dtype=np.uint8)]


def _l16(b: bytes) -> np.ndarray:
    return np.frombuffer(b[: len(b) & ~1], dtype=">i2").astype(np.int16)


# decoders without state: one function each, shared by every stream
_STATELESS = {"PCMU": _pcmu, "PCMA": _pcma, "L16": _l16}
_pcmu.joins = _pcma.joins = True     # concatenated payloads decode as the payloads one by one


def encode_g711(samples: np.ndarray, codec: str) -> bytes:
    """Linear 16-bit -> G.711 bytes (nearest table entry; for tests and generators)."""
    table = ULAW if codec.upper() == "PCMU" else ALAW
    order = np.argsort(table)
    sorted_vals = table[order].astype(np.int32)
    x = np.asarray(samples, dtype=np.int32)
    idx = np.clip(np.searchsorted(sorted_vals, x), 1, 255)
    lower = sorted_vals[idx - 1]
    upper = sorted_vals[idx]
    pick = np.where(np.abs(x - lower) <= np.abs(upper - x), idx - 1, idx)
    return order[pick].astype(np.uint8).tobytes()


class AudioSink:
    """One stream's audio. ``add`` payloads; read ``samples()`` or feed ``consumer``.

    ``consumer(sink, samples, start_index)`` (optional) is called with
    consecutive blocks of samples, ``start_index`` counting from the stream's
    first sample; ``key`` is the owner's (which stream the sink belongs to).
    """

    __slots__ = ("codec", "rate", "decode", "ts_scale", "ts_div", "keep", "consumer", "buf", "dropped",
                 "base_ts", "head", "fed", "first_time", "lag", "max_samples", "packets", "late",
                 "restarts", "max_gap", "last_t", "truncated", "times", "released", "key", "nominal")

    def __init__(self, codec: str, rate: int, *, keep: bool = True,
                 consumer: Callable[["AudioSink", np.ndarray, int], None] | None = None,
                 ts_scale: int = 1, key=None, ts_div: int = 1, nominal: int | None = None):
        self.codec, self.rate, self.key = codec, rate, key
        # samples per RTP timestamp unit: ts_scale / ts_div (2 for G.722 at 16 kHz; 1/6 for
        # opus decoded at 8 kHz)
        self.ts_scale, self.ts_div = ts_scale, ts_div
        self.nominal = nominal or rate     # the codec's own audio rate (its name: "G722/16000")
        self.decode = decoder_for(codec, rate)
        self.keep, self.consumer = keep, consumer
        self.buf = _EMPTY          # (shared while empty: the first packet allocates)
        self.dropped = 0            # samples forgotten before buf[0]
        self.head = 0               # samples written (absolute index of the end)
        self.fed = 0                # samples handed to the consumer
        self.base_ts: int | None = None
        self.first_time = 0.0
        self.lag, self.max_samples = _limits(rate)
        self.packets = self.late = self.restarts = 0
        self.max_gap = 0.0          # longest time between two packets (seconds)
        self.last_t: float | None = None
        self.truncated = False
        self.times: list[float] | None = [] if keep else None    # packet arrival times (kept audio only)
        self.released = False       # samples and decoder let go (release); reopen() resumes

    def add(self, t: float, ts: int, payload: bytes) -> None:
        if self.decode is None or not payload:
            return
        self._place(t, ts, self.decode(payload))

    def add_run(self, times: list[float], stamps: list[int], payloads: list[bytes]) -> None:
        """Packets of the stream in capture order (non-empty payloads): what :meth:`add`
        gives one by one, sample for sample, with less work per packet: decoded in one
        call where the codec allows it (G.711, G.722: the payloads joined), placed in one
        copy where each packet's timestamp names the sample after the previous one's
        (no gap, no overlap), the consumer fed at the packets where ``add`` would."""
        decode = self.decode
        if decode is None or not payloads:
            return
        many = getattr(decode, "many", None)
        if getattr(decode, "joins", False):
            pcm = decode(b"".join(payloads))
            sizes = [len(b) for b in payloads]
            total = sum(sizes)
            per = len(pcm) // total if total else 0
            if per * total != len(pcm) or not per:       # (never: one sample count per byte)
                for t, ts, b in zip(times, stamps, payloads):
                    self.add(t, ts, b)
                return
            lens = sizes if per == 1 else [per * k for k in sizes]
        elif many is not None:
            pcm, lens = many(payloads)
        else:
            parts = [decode(b) for b in payloads]
            lens = [len(x) for x in parts]
            pcm = np.concatenate(parts) if parts else _EMPTY
        first = 0
        if self.base_ts is None:            # the stream's first packet sets the timeline
            self._place(times[0], stamps[0], pcm[:lens[0]])
            first = 1
        start = self.head
        if first:
            times, stamps, lens = times[1:], stamps[1:], lens[1:]
            if not lens:
                return
        off = len(pcm) - sum(lens)
        end = start + sum(lens)
        # contiguous: each packet's timestamp names the sample after the previous one's
        # (the comparisons run in C: map and list equality, no Python loop per packet)
        scale, div = self.ts_scale, self.ts_div
        steps = list(map(sub, stamps[1:], stamps[:-1]))
        pos = (stamps[0] - self.base_ts) & 0xFFFFFFFF
        contiguous = end <= self.max_samples and pos < 0x80000000 and pos * scale == start * div
        if contiguous and steps:
            if scale == div:
                contiguous = steps == lens[:-1]
            else:
                contiguous = [k * scale for k in steps] == [k * div for k in lens[:-1]]
        if not contiguous:
            for t, ts, ln in zip(times, stamps, lens):
                self._place(t, ts, pcm[off:off + ln])
                off += ln
            return
        # as _place, packet after packet
        self.packets += len(lens)
        kept = self.times
        if kept is not None:
            room = self.max_samples // 40 - len(kept)
            if room > 0:
                kept.extend(times[:room])
        gaps = list(map(sub, times[1:], times[:-1]))
        last, gap = self.last_t, self.max_gap
        if gaps and min(gaps) < 0.0:                 # (a capture not in time order)
            for t in times:
                if last is not None and t - last > gap:
                    gap = t - last
                last = t if last is None else max(last, t)
        else:
            if last is not None:
                if times[0] - last > gap:
                    gap = times[0] - last
                last = max(last, times[-1])
            else:
                last = times[-1]
            if gaps:
                gap = max(gap, max(gaps))
        self.last_t, self.max_gap = last, gap
        need = end - self.dropped
        if need > len(self.buf):
            bigger = np.zeros(max(need, 2 * len(self.buf)), dtype=np.int16)
            bigger[:start - self.dropped] = self.buf[:start - self.dropped]
            self.buf = bigger
        self.buf[start - self.dropped:need] = pcm[off:]
        self.head = end
        if self.consumer is not None and end - self.lag - self.fed >= self.rate:
            # fed where add() would: at the first packet whose end is a second of audio
            # (and the lag) past what was fed, and again from there
            ends = list(accumulate(lens, initial=start))[1:]
            lag, rate = self.lag, self.rate
            i = 0
            while True:
                i = bisect_left(ends, self.fed + lag + rate, i)
                if i == len(ends):
                    break
                self._feed(ends[i] - lag)
                i += 1

    def _place(self, t: float, ts: int, pcm: np.ndarray) -> None:
        """One packet's decoded samples at the place its timestamp names."""
        self.packets += 1
        if self.times is not None and len(self.times) < self.max_samples // 40:
            self.times.append(t)
        if self.last_t is not None and t - self.last_t > self.max_gap:
            self.max_gap = t - self.last_t
        self.last_t = t if self.last_t is None else max(self.last_t, t)
        if self.base_ts is None:
            self.base_ts = ts
            self.first_time = t
        pos = (ts - self.base_ts) & 0xFFFFFFFF
        if pos >= 0x80000000:
            pos -= 0x100000000
        pos = pos * self.ts_scale // self.ts_div
        if pos - self.head > MAX_GAP_SECONDS * self.rate:
            # a jump far ahead (a new talk spurt after a long pause, a reset): trust the
            # capture clock, not the timestamp, for how long the silence was (the phases
            # of the checks map capture times onto the samples)
            self.restarts += 1
            at = self.head + int(max(0.0, t - self._time_at(self.head)) * self.rate)
            self.base_ts = (ts - at * self.ts_div // self.ts_scale) & 0xFFFFFFFF
            pos = at
        if pos < self.dropped or pos < self.head - len(pcm) - 10 * self.rate:
            self.late += 1
            return
        end = pos + len(pcm)
        if end > self.max_samples:
            self.truncated = True
            return
        if end > self.head:
            need = end - self.dropped
            if need > len(self.buf):       # (no minimum: most streams of a load test are short)
                bigger = np.zeros(max(need, 2 * len(self.buf)), dtype=np.int16)
                bigger[:self.head - self.dropped] = self.buf[:self.head - self.dropped]
                self.buf = bigger
            else:
                self.buf[self.head - self.dropped:need] = 0    # a gap is silence
            self.head = end
        elif pos < self.fed:
            self.late += 1          # already handed to the consumer
            return
        self.buf[pos - self.dropped:end - self.dropped] = pcm
        if self.consumer is not None and self.head - self.lag - self.fed >= self.rate:   # 1 s blocks
            self._feed(self.head - self.lag)

    def _time_at(self, index: int) -> float:
        return self.first_time + index / self.rate

    def _feed(self, upto: int) -> None:
        if upto <= self.fed:
            return
        block = self.buf[self.fed - self.dropped:upto - self.dropped]
        start = self.fed
        self.fed = upto
        self.consumer(self, block, start)
        if not self.keep:
            cut = self.fed - self.dropped
            rest = self.head - self.fed
            self.buf[:rest] = self.buf[cut:cut + rest].copy()
            self.dropped = self.fed

    def finish(self) -> None:
        if self.consumer is not None:
            self._feed(self.head)

    def release(self) -> None:
        """Let the samples and the decoder go, keeping the figures (``seconds``,
        ``max_gap``, ``late``...): for a sink whose audio is not kept, after :meth:`finish`
        (an idle stream's). :meth:`reopen` takes it up again where its audio ends."""
        self.buf = _EMPTY
        self.dropped = self.fed = self.head
        self.decode = None
        self.released = True

    def reopen(self) -> None:
        """A released sink's stream sends again: a new decoder (G.722 and opus state
        starts afresh), the samples from where they ended."""
        self.decode = decoder_for(self.codec, self.rate)
        self.released = False

    def samples(self) -> np.ndarray:
        """Everything kept (from the first sample when ``keep``)."""
        return self.buf[:self.head - self.dropped]

    @property
    def seconds(self) -> float:
        return self.head / self.rate if self.rate else 0.0


@functools.cache
def _limits(rate: int) -> tuple[int, int]:
    """(lag, most samples kept) at ``rate``: one pair of int objects per rate, not per sink."""
    return int(LAG_SECONDS * rate), MAX_SECONDS * rate


def to_rate(samples: np.ndarray, src: int, dst: int) -> np.ndarray:
    """``samples`` at ``src`` Hz resampled up to ``dst`` Hz: band-limited (FFT
    zero-padding) for an integer ratio, linear otherwise. For 8 kHz G.711 beside
    16 kHz G.722 in one stream (a codec change mid-call)."""
    if dst <= src or not len(samples):
        return np.asarray(samples, dtype=np.int16)
    n = len(samples)
    m = int(round(n * dst / src))
    if dst % src:
        out = np.interp(np.arange(m) * src / dst, np.arange(n), samples.astype(np.float64))
    else:
        spectrum = np.fft.rfft(samples.astype(np.float64))
        wide = np.zeros(m // 2 + 1, dtype=complex)
        wide[:len(spectrum)] = spectrum
        out = np.fft.irfft(wide, m) * (dst // src)
    return np.clip(np.round(out), -32768, 32767).astype(np.int16)


def write_wav(path, samples: np.ndarray, rate: int) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.asarray(samples, dtype="<i2").tobytes())


def read_wav(path) -> tuple[np.ndarray, int]:
    """A 16-bit PCM WAV as mono int16 samples and its rate (channels averaged)."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{path}: 16-bit PCM WAV needed")
        n, ch, rate = w.getnframes(), w.getnchannels(), w.getframerate()
        data = np.frombuffer(w.readframes(n), dtype="<i2")
    if ch > 1:
        data = data.reshape(-1, ch).mean(axis=1).astype(np.int16)
    return data.astype(np.int16), rate


__all__ = ["AudioSink", "decoder_for", "encode_g711", "read_wav", "to_rate", "write_wav", "ULAW",
           "ALAW"]
