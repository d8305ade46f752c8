"""Audio on the wire: decode each stream's (decrypted) payloads while the analyzer runs.

:class:`AudioCollector` is the analyzer's optional companion (``Analyzer(...,
audio=AudioCollector(...))``). Every plain audio packet of PCMU, PCMA, L16,
G.722 or opus is handed to the stream's
:class:`~sipscen.analysis.audio.AudioSink`: in-band DTMF runs on the audio as
it is built, and with ``keep`` the whole audio is kept for checks and WAV
export. Each payload type of a stream has its own sink (a re-INVITE may change
the codec on the same SSRC); a stream's audio is all of them on one timeline
(:meth:`AudioCollector.merged`). Streams of other codecs are left alone.

How packets arrive: the general path (``Analyzer._content``) hands over one
packet at a time (:meth:`packet`: a stream's first packets, SRTP after
decryption, pcapng). In a classic pcap the column loop (``fastcolumns.py``,
``Analyzer.audio_fast``) keeps decoded streams on the fast path too and hands
over each flow's in-order run of a buffer at once (:meth:`run`:
:func:`payload_bounds` finds every record's payload with numpy, then
``AudioSink.add_run`` decodes the run in one call where the codec allows it
and places it in one copy where the timestamps follow on), and its single
records (a packet after a loss, a late one) by :meth:`frame`. Either way the
sink sees the same packets in the same order: the tests compare the two.

Without ``keep`` only the digits are wanted: G.722 is decoded to its lower
sub-band at 8 kHz (the upper band and the QMF synthesis skipped: half the
cost) and opus at 8 kHz (libopus band-limits itself), which is what the
detector looks at anyway; the stream's ``audio.codec`` still names the
codec's own rate. The detector's work is queued and done for many streams at
once (:meth:`_detect`, ``inband.votes_many``).

Memory stays with the streams *active* at a time, not with all the streams
of the capture (a load test's capture has 100,000s, most a few packets
long). All state is found by the stream's index (nothing scans the others):
a sink grows its buffer with the audio (none is allocated ahead); an
in-band detector is made when the first block of audio reaches it (a stream
shorter than a digit gets none). Without ``keep``, a sink whose stream has
been silent for ``IDLE_SECONDS`` of capture time is *retired*: its last
audio goes to the detector, the detector's digits are kept and the detector,
the samples and the decoder are let go (a packet after that opens a new
decoder and detector where the audio resumes). Retired sinks are looked for
when the number of active ones has doubled since the last look, so the
looking costs a constant per stream. :meth:`finish` retires the rest.
"""
from __future__ import annotations

import importlib.util
import sys
from operator import sub
from pathlib import Path

import numpy as np

from sipscen.analysis import opus
from sipscen.analysis.analyzer import rtp_payload
from sipscen.analysis.audio import AudioSink, decoder_for, to_rate, write_wav
from sipscen.analysis.inband import BLOCK, MIN_SAMPLES, InbandDetector, votes_many
from sipscen.analysis.layers import ip_payload
from sipscen.analysis.quality import audio_summary
from sipscen.analysis.rtp import RtpStream
from sipscen.analysis.sdp import STATIC_PT

_DECODABLE = ("PCMU", "PCMA", "L16", "G722", "OPUS")
_HAVE_G722 = importlib.util.find_spec("G722") is not None     # optional decoder (audio.py)
_HAVE_OPUS = opus.available()                                 # the system libopus (opus.py)
IDLE_SECONDS = 15.0       # a stream this long without a packet (capture time) is retired
SWEEP_MIN = 1024          # active sinks before the first look for idle ones
CODEC_CACHE = 1 << 16     # streams whose codec is remembered (then forgotten: bounded)
DETECT_SAMPLES = 1 << 18  # queued 8 kHz samples (512 KB) voted on at once, all streams together


class AudioCollector:
    def __init__(self, *, keep: bool = False, inband: bool = False):
        self.keep = keep
        self.inband = inband
        self.sinks: dict[tuple[int, int], AudioSink] = {}    # (stream index, pt) -> sink
        self.detectors: dict[tuple[int, int], InbandDetector] = {}
        self.digits: dict[int, list[tuple[int, dict]]] = {}  # stream index -> (pt, digit) found
        self.active: dict[tuple[int, int], AudioSink] = {}   # the sinks not retired
        self._sweep_at = SWEEP_MIN
        self._codec: dict[int, tuple[int, int, str | None]] = {}   # index -> (SDP gen, pt, codec)
        self._consumer = self._inband if inband else None    # one bound method for every sink
        self._merged: dict[int, dict] = {}                    # stream index -> merged() (keep)
        self._queue: list[tuple[InbandDetector, np.ndarray, int]] = []   # audio to vote on
        self._queued = 0                                      # its samples

    def codec(self, st: RtpStream, pt: int) -> str | None:
        """The decodable codec of ``pt`` on ``st`` ("PCMA/8000"), else None."""
        known = self._codec.get(st.index)
        if known is not None and known[0] == st.sdp_gen and known[1] == pt:
            return known[2]
        name = None
        if st.event_pts is None or pt not in st.event_pts:
            full = _codec_name(st, pt)
            base = full.split("/")[0].upper() if full else ""
            if base in _DECODABLE and (base != "G722" or _HAVE_G722) and (
                    base != "OPUS" or _HAVE_OPUS):
                name = full
        if len(self._codec) >= CODEC_CACHE:
            self._codec.clear()
        self._codec[st.index] = (st.sdp_gen, pt, name)     # one entry per stream, the latest
        return name

    def wants(self, st: RtpStream, pt: int) -> bool:
        return self.codec(st, pt) is not None

    def packet(self, st: RtpStream, t: float, ts: int, pt: int, payload: bytes | None) -> None:
        if not payload:
            return
        full = self.codec(st, pt)
        if full is None:
            return
        self._sink(st.index, pt, full, t).add(t, ts, payload)

    def _sink(self, index: int, pt: int, full: str, t: float) -> AudioSink:
        """The sink of stream ``index``'s payload type ``pt`` (codec ``full``), made or
        taken up again at capture time ``t``."""
        key = (index, pt)
        sink = self.sinks.get(key)
        if sink is None:
            name, _, rate = full.partition("/")
            name = sys.intern(name.upper())
            rate_i = int(rate.split("/")[0] or 8000)
            scale, div, nominal = 1, 1, None
            if name == "G722":        # RTP clock 8000, audio 16 kHz (RFC 3551)
                rate_i, scale = 16000, 2
                if not self.keep:     # only its digits are wanted: the lower sub-band, 8 kHz
                    rate_i, scale, nominal = 8000, 1, 16000
            elif name == "OPUS":      # RTP clock always 48000 (RFC 7587): decoded at 48k
                rate_i = opus.RATE
                if not self.keep:     # only its digits are wanted: libopus decodes to 8 kHz
                    rate_i, div, nominal = 8000, opus.RATE // 8000, opus.RATE
            consumer = self._consumer if rate_i % 8000 == 0 else None
            sink = self.sinks[key] = AudioSink(name, rate_i, keep=self.keep, consumer=consumer,
                                               ts_scale=scale, key=key, ts_div=div,
                                               nominal=nominal)
            self._activate(key, sink, t)
        elif sink.released:
            sink.reopen()
            self._activate(key, sink, t)
        return sink

    # ---- the column loop's hand-over (fastcolumns.py): a fast stream's packets in runs
    def frame(self, st: RtpStream, t: float, ts: int, pt: int, lt: int, frame: bytes) -> None:
        """One RTP packet of a fast stream as a whole frame (link type ``lt``): its payload
        found as the general path finds it (``Analyzer.packet``)."""
        if self.codec(st, pt) is None:
            return
        r = ip_payload(lt, frame)
        if r is None or r[2] != 17:
            return
        _src, _dst, _proto, off, end = r
        if end - off < 8:
            return
        ulen = (frame[off + 4] << 8) | frame[off + 5]
        if 8 <= ulen and off + ulen < end:
            end = off + ulen
        self.packet(st, t, ts, pt, rtp_payload(frame[off + 8:end]))

    @staticmethod
    def bounds(buf: bytes, recs, incl, ipo: int) -> tuple:
        """:func:`payload_bounds` (for the column loop, which imports nothing of this module)."""
        return payload_bounds(buf, recs, incl, ipo)

    def run(self, st: RtpStream, buf: bytes, bounds: tuple, a: int, b: int, tc, tsc) -> None:
        """Chain positions ``a..b-1`` of a column-loop buffer: in-order packets of ``st``,
        of its fast payload type; ``bounds``: every chain position's payload (start,
        end) in ``buf`` (:func:`payload_bounds`), ``tc``/``tsc``: capture times and RTP
        timestamps. What :meth:`packet` one by one would do, in one :meth:`AudioSink.add_run`."""
        pt = st.fastpt
        full = self.codec(st, pt)
        if full is None:
            return
        starts, ends = bounds[0][a:b].tolist(), bounds[1][a:b].tolist()
        times, stamps = tc[a:b].tolist(), tsc[a:b].tolist()
        payloads = [buf[x:y] for x, y in zip(starts, ends)]
        if min(map(sub, ends, starts)) <= 0:          # (rare) empty, or not RTP
            keep = [i for i in range(len(ends)) if ends[i] > starts[i]]
            if not keep:
                return
            times = [times[i] for i in keep]
            stamps = [stamps[i] for i in keep]
            payloads = [payloads[i] for i in keep]
        self._sink(st.index, pt, full, times[0]).add_run(times, stamps, payloads)

    def _activate(self, key: tuple[int, int], sink: AudioSink, t: float) -> None:
        if self.keep:
            return              # kept audio is kept whole: nothing is retired
        self.active[key] = sink
        if len(self.active) >= self._sweep_at:
            horizon = t - IDLE_SECONDS
            for other_key, other in list(self.active.items()):
                if other.last_t is not None and other.last_t < horizon:
                    self._retire(other_key, other)
            self._sweep_at = max(SWEEP_MIN, 2 * len(self.active))

    def _retire(self, key: tuple[int, int], sink: AudioSink) -> None:
        """The sink's last audio to its detector, the detector's digits kept; the
        detector and (without ``keep``) the samples and the decoder let go."""
        sink.finish()
        if not self.keep:
            sink.release()
            self.active.pop(key, None)
        det = self.detectors.pop(key, None)
        if det is not None:
            if self._queue:
                self._detect()
            found = det.finish()
            if found:
                self.digits.setdefault(key[0], []).extend((key[1], d) for d in found)

    def _inband(self, sink: AudioSink, samples, start: int) -> None:
        """A sink's consumer: its stream's in-band detector, made on the first block
        (none for less audio than a digit needs)."""
        det = self.detectors.get(sink.key)
        if det is None:
            if len(samples) < MIN_SAMPLES * (sink.rate // 8000):
                return
            det = self.detectors[sink.key] = InbandDetector(sink.rate, start)
        data, at = det.prepare(samples)
        if len(data) < BLOCK:
            return
        if data.base is not None:
            data = data.copy()           # (a view of the sink's buffer, which moves on)
        self._queue.append((det, data, at))
        self._queued += len(data)
        if self._queued >= DETECT_SAMPLES:
            self._detect()

    def _detect(self) -> None:
        """The queued audio's blocks voted on, all streams' at once (``votes_many``: numpy's
        cost per call paid once for many streams), each detector's in the order queued."""
        queue, self._queue, self._queued = self._queue, [], 0
        for (det, _data, at), (votes, levels) in zip(queue, votes_many([q[1] for q in queue])):
            det.apply(votes, levels, at)

    def finish(self) -> None:
        """Every sink retired (with ``keep``: its audio to the detector, the samples kept)."""
        sinks = list(self.sinks.items() if self.keep else self.active.items())
        for _key, sink in sinks:
            sink.finish()                # the last audio queued for detection, all of it
        if self._queue:
            self._detect()               # voted on at once
        for key, sink in sinks:
            self._retire(key, sink)
        self.active.clear()
        self._codec.clear()

    def parts(self, st: RtpStream) -> list[tuple[int, AudioSink]]:
        """(payload type, sink) of each decoded payload type of the stream, in time order:
        a codec change on the same SSRC (a re-INVITE) makes two."""
        found = [(pt, self.sinks[(st.index, pt)]) for pt in st.payload_types
                 if (st.index, pt) in self.sinks]
        return sorted(((pt, s) for pt, s in found if s.packets), key=lambda p: p[1].first_time)

    def main_sink(self, st: RtpStream) -> tuple[int, AudioSink] | None:
        """The stream's payload type with the most decoded packets, and its sink."""
        parts = self.parts(st)
        return max(parts, key=lambda kv: kv[1].packets) if parts else None

    def merged(self, st: RtpStream) -> dict | None:
        """The stream's audio over all its payload types on one timeline (capture times),
        at the highest of their rates: ``{"samples", "rate", "start", "times", "parts"}``
        (``parts``: each payload type's own ``{"payload_type", "codec", "samples", "rate",
        "start", "times"}``). Only with ``keep``."""
        if not self.keep:
            return None
        if st.index not in self._merged:
            parts = self.parts(st)
            if not parts:
                return None
            self._merged[st.index] = _merge(parts)
        return self._merged[st.index]

    def stream_audio(self, st: RtpStream) -> dict | None:
        """The ``audio`` object of a stream dict (None: nothing decoded): the main codec,
        the whole stream's longest gap and, with ``keep``, the summary of all of it."""
        found = self.main_sink(st)
        if found is None:
            return None
        pt, sink = found
        parts = self.parts(st)
        whole = self.merged(st)
        out = {"codec": f"{sink.codec}/{sink.nominal}", "payload_type": pt,
               "max_gap_ms": round(_max_gap(parts, whole) * 1000, 1),
               "late": sum(s.late for _, s in parts)}
        if len(parts) > 1:
            out["parts"] = [{"payload_type": p, "codec": f"{s.codec}/{s.nominal}", "packets": s.packets,
                             "first_time": s.first_time, "seconds": round(s.seconds, 3)}
                            for p, s in parts]
        if whole is not None:
            out.update(audio_summary(whole["samples"], whole["rate"]))
        else:
            out["seconds"] = round(max(s.seconds for _, s in parts), 3)
        return out

    def inband_digits(self, st: RtpStream) -> list[dict]:
        """The stream's in-band digits (after :meth:`finish`)."""
        out = []
        for pt, d in self.digits.get(st.index, ()):
            sink = self.sinks[(st.index, pt)]
            level = d["level_dbfs"]
            out.append({
                "digit": d["digit"], "method": "inband",
                "time": round(sink.first_time + d["start"] / sink.rate, 6),
                "duration_ms": d["duration_ms"],
                # RFC 4733's volume: the tone's power in -dBm0 (0 dBm0 = 3.17 dB under full scale)
                "volume": max(0, min(63, int(round(-(level + 3.17))))),
                "level_dbfs": level,
                "ssrc": f"0x{st.ssrc:08x}", "src": st.src_str, "dst": st.dst_str,
                "payload_type": pt, "call_id": st.call_id, "end": True, "packets": None,
            })
        return out

    def export_wav(self, st: RtpStream, folder: Path) -> str | None:
        whole = self.merged(st)
        if whole is None:
            return None
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{st.ssrc:08x}_{st.src_str}_to_{st.dst_str}".replace(":", "-").replace("[", "").replace("]", "")
        path = folder / f"{name}.wav"
        write_wav(path, whole["samples"], whole["rate"])
        return str(path)


def _merge(parts: list[tuple[int, AudioSink]]) -> dict:
    own = [{"payload_type": pt, "codec": f"{s.codec}/{s.rate}", "samples": s.samples(),
            "rate": s.rate, "start": s.first_time, "times": s.times} for pt, s in parts]
    if len(own) == 1:
        return {**{k: own[0][k] for k in ("samples", "rate", "start", "times")}, "parts": own}
    rate = max(p["rate"] for p in own)
    start = min(p["start"] for p in own)
    pieces = [(int(round((p["start"] - start) * rate)), to_rate(p["samples"], p["rate"], rate))
              for p in own]
    out = np.zeros(max(at + len(x) for at, x in pieces), dtype=np.int32)
    for at, x in pieces:
        out[at:at + len(x)] += x
    times = sorted(t for p in own for t in (p["times"] or []))
    return {"samples": np.clip(out, -32768, 32767).astype(np.int16), "rate": rate,
            "start": start, "times": times, "parts": own}


def _max_gap(parts: list[tuple[int, AudioSink]], whole: dict | None) -> float:
    """The longest time between two decoded packets of the stream, whatever their payload
    type: from the kept arrival times; without them, each sink's own longest gap and the
    gaps between one payload type's last packet and the next one's first (exact unless
    payload types alternate)."""
    if len(parts) == 1:
        return parts[0][1].max_gap
    times = (whole or {}).get("times")
    if times and len(times) > 1:
        return float(np.max(np.diff(np.asarray(times))))
    gap = max(s.max_gap for _, s in parts)
    for (_, a), (_, b) in zip(parts, parts[1:]):
        if a.last_t is not None:
            gap = max(gap, b.first_time - a.last_t)
    return gap


def _codec_name(st: RtpStream, pt: int) -> str | None:
    for media in (st.rx_media, st.tx_media):
        if media is not None and media.codec(pt):
            name, rate = media.codec(pt)
            return f"{name}/{rate}"
    if pt in STATIC_PT and pt != 10:        # 10 is stereo L16
        return f"{STATIC_PT[pt][0]}/{STATIC_PT[pt][1]}"
    return None


__all__ = ["AudioCollector", "decoder_for"]


def payload_bounds(buf: bytes, recs: np.ndarray, incl: np.ndarray, ipo: int) -> tuple:
    """The RTP payload of each record at ``recs`` in a classic pcap buffer (frames of
    ``incl`` bytes carrying UDP in IPv4 without options, the IP header ``ipo`` bytes in):
    ``(starts, ends)``, as the general path cuts it (IP total length, UDP length, CSRCs,
    header extension, padding; ``end <= start``: no payload). Vectorised over the
    records; those with an extension, padding or a fragment offset one by one."""
    data = np.frombuffer(buf, dtype=np.uint8)
    ip = recs + (16 + ipo)
    frame_end = recs + 16 + incl.astype(np.int64)
    total = (data[ip + 2].astype(np.int64) << 8) | data[ip + 3]
    end = np.where(total >= 20, ip + total, frame_end)
    np.minimum(end, frame_end, out=end)
    udp = ip + 20
    ulen = (data[udp + 4].astype(np.int64) << 8) | data[udp + 5]
    short = ulen < 8
    cut = ~short & (udp + ulen < end)
    end[cut] = (udp + ulen)[cut]
    rtp = udp + 8
    b0 = data[rtp]
    start = rtp + 12 + 4 * (b0 & 0x0F).astype(np.int64)
    odd = ((b0 & 0x30) != 0) | (((data[ip + 6] & 0x3F) | data[ip + 7]) != 0)
    start[end - rtp < 12] = -1           # not an RTP packet the general path would read
    end[end - rtp < 12] = -1
    for i in np.flatnonzero(odd).tolist():
        frag = ((buf[ip[i] + 6] & 0x3F) << 8) | buf[ip[i] + 7]
        e = int(end[i])
        if frag or e < 0:
            start[i] = end[i] = -1       # a fragment: the general path reassembles first
            continue
        r = int(rtp[i])
        body = rtp_payload(buf[r:e])
        if body is None:
            start[i] = end[i] = -1
        else:                            # rtp_payload cuts from the front and the end only
            skip = _payload_start(buf, r, e)
            start[i], end[i] = r + skip, r + skip + len(body)
    return start, end


def _payload_start(buf: bytes, r: int, e: int) -> int:
    """Where ``rtp_payload`` starts the payload of the RTP packet ``buf[r:e]``."""
    b0 = buf[r]
    p = 12 + 4 * (b0 & 0x0F)
    if b0 & 0x10:
        p += 4 + 4 * ((buf[r + p + 2] << 8) | buf[r + p + 3])
    return p
