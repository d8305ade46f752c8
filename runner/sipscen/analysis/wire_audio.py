"""Audio on the wire: decode each stream's (decrypted) payloads while the analyzer runs.

:class:`AudioCollector` is the analyzer's optional companion (``Analyzer(...,
audio=AudioCollector(...))``). While it is there, decodable streams stay on
the general path (the inline fast path never sees payloads) and every plain
audio packet of PCMU, PCMA, L16, G.722 or opus is handed to the stream's
:class:`~sipscen.analysis.audio.AudioSink`: in-band DTMF runs on the audio as
it is built, and with ``keep`` the whole audio is kept for checks and WAV
export. Each payload type of a stream has its own sink (a re-INVITE may change
the codec on the same SSRC); a stream's audio is all of them on one timeline
(:meth:`AudioCollector.merged`). Streams of other codecs are left alone (and
keep their fast path).
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

from sipscen.analysis import opus
import numpy as np

from sipscen.analysis.audio import AudioSink, decoder_for, to_rate, write_wav
from sipscen.analysis.inband import InbandDetector
from sipscen.analysis.quality import audio_summary
from sipscen.analysis.rtp import RtpStream
from sipscen.analysis.sdp import STATIC_PT

_DECODABLE = ("PCMU", "PCMA", "L16", "G722", "OPUS")
_HAVE_G722 = importlib.util.find_spec("G722") is not None     # optional decoder (audio.py)
_HAVE_OPUS = opus.available()                                 # the system libopus (opus.py)


class AudioCollector:
    def __init__(self, *, keep: bool = False, inband: bool = False):
        self.keep = keep
        self.inband = inband
        self.sinks: dict[int, dict[int, AudioSink]] = {}     # stream index -> pt -> sink
        self.detectors: dict[tuple[int, int], InbandDetector] = {}
        self._codec: dict[tuple[int, int, int], str | None] = {}
        self.gaps: dict[int, list[float]] = {}     # stream index -> [last arrival, longest gap]
        self._merged: dict[int, dict] = {}         # stream index -> merged() (after finish)

    def codec(self, st: RtpStream, pt: int) -> str | None:
        """The decodable codec of ``pt`` on ``st`` ("PCMA/8000"), else None."""
        key = (st.index, pt, st.sdp_gen)
        if key not in self._codec:
            name = None
            if st.event_pts is None or pt not in st.event_pts:
                full = _codec_name(st, pt)
                base = full.split("/")[0].upper() if full else ""
                if base in _DECODABLE and (base != "G722" or _HAVE_G722) and (
                        base != "OPUS" or _HAVE_OPUS):
                    name = full
            self._codec[key] = name
        return self._codec[key]

    def wants(self, st: RtpStream, pt: int) -> bool:
        return self.codec(st, pt) is not None

    def packet(self, st: RtpStream, t: float, ts: int, pt: int, payload: bytes | None) -> None:
        if not payload:
            return
        full = self.codec(st, pt)
        if full is None:
            return
        gap = self.gaps.get(st.index)          # over every decoded payload type of the stream
        if gap is None:
            self.gaps[st.index] = [t, 0.0]
        else:
            if t - gap[0] > gap[1]:
                gap[1] = t - gap[0]
            if t > gap[0]:
                gap[0] = t
        per = self.sinks.setdefault(st.index, {})
        sink = per.get(pt)
        if sink is None:
            name, _, rate = full.partition("/")
            rate_i = int(rate.split("/")[0] or 8000)
            scale = 1
            if name.upper() == "G722":        # RTP clock 8000, audio 16 kHz (RFC 3551)
                rate_i, scale = 16000, 2
            elif name.upper() == "OPUS":      # RTP clock always 48000 (RFC 7587): decoded at 48k
                rate_i = opus.RATE
            consumer = None
            if self.inband and rate_i % 8000 == 0:
                det = self.detectors[(st.index, pt)] = InbandDetector(rate_i)
                consumer = det.feed
            sink = per[pt] = AudioSink(name.upper(), rate_i, keep=self.keep, consumer=consumer,
                                       ts_scale=scale)
        sink.add(t, ts, payload)

    def finish(self) -> None:
        for per in self.sinks.values():
            for sink in per.values():
                sink.finish()

    def parts(self, st: RtpStream) -> list[tuple[int, AudioSink]]:
        """(payload type, sink) of each decoded payload type of the stream, in time order:
        a codec change on the same SSRC (a re-INVITE) makes two."""
        per = self.sinks.get(st.index) or {}
        return sorted(((pt, s) for pt, s in per.items() if s.packets), key=lambda p: p[1].first_time)

    def main_sink(self, st: RtpStream) -> tuple[int, AudioSink] | None:
        parts = self.parts(st)
        return max(parts, key=lambda kv: kv[1].packets) if parts else None

    def merged(self, st: RtpStream) -> dict | None:
        """The stream's audio over all its payload types on one timeline (capture times),
        at the highest of their rates: ``{"samples", "rate", "start", "times", "parts"}``
        (``parts``: each payload type's own ``{"payload_type", "codec", "samples", "rate",
        "start", "times"}``). Only with ``keep``."""
        if st.index in self._merged:
            return self._merged[st.index]
        parts = self.parts(st)
        if not parts or not self.keep:
            return None
        self._merged[st.index] = whole = self._merge(parts)
        return whole

    @staticmethod
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

    def stream_audio(self, st: RtpStream) -> dict | None:
        """The ``audio`` object of a stream dict (None: nothing decoded): the main codec,
        the whole stream's longest gap and, with ``keep``, the summary of all of it."""
        found = self.main_sink(st)
        if found is None:
            return None
        pt, sink = found
        parts = self.parts(st)
        out = {"codec": f"{sink.codec}/{sink.rate}", "payload_type": pt,
               "max_gap_ms": round(self.gaps[st.index][1] * 1000, 1),
               "late": sum(s.late for _, s in parts)}
        if len(parts) > 1:
            out["parts"] = [{"payload_type": p, "codec": f"{s.codec}/{s.rate}", "packets": s.packets,
                             "first_time": s.first_time, "seconds": round(s.seconds, 3)}
                            for p, s in parts]
        if self.keep:
            whole = self.merged(st)
            out.update(audio_summary(whole["samples"], whole["rate"]))
        else:
            out["seconds"] = round(max(s.seconds for _, s in parts), 3)
        return out

    def inband_digits(self, st: RtpStream) -> list[dict]:
        out = []
        for (index, pt), det in self.detectors.items():
            if index != st.index:
                continue
            sink = self.sinks[index][pt]
            for d in det.finish():
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


def _codec_name(st: RtpStream, pt: int) -> str | None:
    for media in (st.rx_media, st.tx_media):
        if media is not None and media.codec(pt):
            name, rate = media.codec(pt)
            return f"{name}/{rate}"
    if pt in STATIC_PT and pt != 10:        # 10 is stereo L16
        return f"{STATIC_PT[pt][0]}/{STATIC_PT[pt][1]}"
    return None


__all__ = ["AudioCollector", "decoder_for"]
