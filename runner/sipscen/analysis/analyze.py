"""``analyze_capture``: one capture file in, an :class:`Analysis` out.

``Analysis.to_dict()`` is the stable ``sipscen analyze --json`` contract
(docs/ARCHITECTURE.md): ``packets``, ``warnings``, ``calls``,
``rtp_streams`` and ``dtmf`` (in time order), then what the collectors of
``dissectors.py`` read in the same pass: ``stun`` and ``tls`` (always), and
``dtls`` (when DTLS was seen or the media was sampled).  Extra keys may be
added to the objects; the documented ones never change meaning.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable, Iterator, TextIO

from sipscen.core.errors import UsageError
from sipscen.analysis.analyzer import Analyzer
from sipscen.analysis.pcap import CaptureReader
from sipscen.analysis.emodel import e_model
from sipscen.analysis.srtp_streams import caller_candidates, looks_encrypted
from sipscen.analysis.fastpath import run_batches, run_pcap
from sipscen.analysis.tls_decrypt import KeyLog


# json.dumps' output, without its check for circular references (the dicts are built
# here, none holds itself): a tenth of the JSON's encoding time
_encode = json.JSONEncoder(check_circular=False).encode


class Analysis:
    """Everything read from one capture (plain data, JSON-ready).

    ``calls`` and ``rtp_streams`` are built on first use (and kept); a huge
    capture is better written with :meth:`write_json`, which builds one call or
    stream at a time (the messages themselves wait on disk, see
    ``calls.MessageSpool``): memory then stays with the number of calls and
    streams, a few hundred bytes each, never with messages or packets.
    """

    def __init__(self, path: str, packets: int, warnings: list[str] | None = None,
                 calls: list[dict] | None = None, rtp_streams: list[dict] | None = None,
                 dtmf: list[dict] | None = None, audio: dict | None = None, *,
                 call_objects: list | None = None, stream_objects: list | None = None,
                 stream_audio=None, extras: dict | None = None):
        self.path = path
        # index into rtp_streams -> {"samples": int16 array, "rate", "start": capture time of
        # samples[0], "times": packet arrival times, "parts": the same per payload type} (the
        # stream's payload types on one timeline); only with analyze_capture(keep_audio=True)
        self.audio = audio if audio is not None else {}
        self.packets = packets
        self.warnings = list(warnings or [])
        self.dtmf = list(dtmf or [])
        self._calls = calls
        self._streams = rtp_streams
        self._call_objects = call_objects or []
        self._stream_objects = stream_objects or []
        self._stream_audio = stream_audio     # RtpStream -> its "audio" entry (--inband), or None
        # what the collectors read in the same pass: {"stun": [...], "tls": [...], "dtls": {...}}
        self.extras = dict(extras or {})

    @property
    def call_count(self) -> int:
        return len(self._calls) if self._calls is not None else len(self._call_objects)

    @property
    def stream_count(self) -> int:
        return len(self._streams) if self._streams is not None else len(self._stream_objects)

    def iter_calls(self) -> Iterator[dict]:
        if self._calls is not None:
            yield from self._calls
        else:
            for call in self._call_objects:
                yield call.to_dict()

    def iter_streams(self) -> Iterator[dict]:
        if self._streams is not None:
            yield from self._streams
        else:
            for st in self._stream_objects:
                entry = _stream_dict(st)
                if self._stream_audio is not None:
                    entry["audio"] = self._stream_audio(st)
                yield entry

    @property
    def calls(self) -> list[dict]:
        if self._calls is None:
            self._calls = list(self.iter_calls())
        return self._calls

    @property
    def rtp_streams(self) -> list[dict]:
        if self._streams is None:
            self._streams = list(self.iter_streams())
        return self._streams

    def to_dict(self) -> dict:
        return {
            "packets": self.packets, "warnings": list(self.warnings), "calls": self.calls,
            "rtp_streams": self.rtp_streams, "dtmf": self.dtmf, **self.extras,
        }

    def write_json(self, out: TextIO) -> None:
        """The ``to_dict()`` document, written one call / stream / event at a time."""
        out.write(f'{{"packets": {json.dumps(self.packets)},\n'
                  f'"warnings": {json.dumps(self.warnings)},\n"calls": [')
        for key, items in (("calls", self.iter_calls()), ("rtp_streams", self.iter_streams()),
                           ("dtmf", iter(self.dtmf))):
            if key != "calls":
                out.write(f'],\n"{key}": [')
            for i, item in enumerate(items):
                out.write(",\n" if i else "\n")
                out.write(_encode(item))
        out.write("]")
        for key, value in self.extras.items():
            out.write(f',\n"{key}": {json.dumps(value)}')
        out.write("}\n")

    def digits(self, method: str | None = None) -> str:
        return "".join(d["digit"] for d in self.dtmf if method is None or d["method"] == method)


def analyze_capture(path: str | os.PathLike | list, srtp_keys: Iterable[str] = (), *,
                    min_stream_packets: int = 2, strict_keys: bool = True,
                    inband: bool = False, keep_audio: bool = False,
                    wav_dir: str | os.PathLike | None = None,
                    sample_media: bool = False,
                    tls_keylogs: Iterable[str | os.PathLike] = ()) -> Analysis:
    """Read ``path`` (pcap or pcapng) and return calls, RTP streams, DTMF and SRTP results.

    ``path`` may be a list of files read one after the other as one capture (the
    files of a rotated capture, ``capture.tcpdump.rotated_files``).

    ``srtp_keys``: ``"SUITE inline:KEY"``, ``"inline:KEY"`` or ``"KEY"`` strings
    for streams whose SDP is not in the capture (each is tried on every
    SRTP-looking stream; the one that authenticates wins).  Raises
    :class:`sipscen.core.errors.CaptureFileError` for a file that is not a capture
    (or an unsupported link type), :class:`sipscen.core.errors.UsageError` for a
    malformed key (with ``strict_keys=False`` a malformed key is skipped with a
    warning instead).  Damage inside the file becomes a warning.

    Audio (``wire_audio.py``): ``inband`` detects in-band DTMF in every PCMU,
    PCMA and L16 stream (``method: "inband"`` entries in ``dtmf``);
    ``keep_audio`` keeps each decoded stream (``Analysis.audio``) and adds
    its level, active time and frequencies to the stream's ``audio``;
    ``wav_dir`` writes each decoded stream there as a WAV file (implies
    ``keep_audio``). Without any of them the analysis never decodes audio.

    ``sample_media`` samples every stream's payload (the first few KB) and says
    under ``dtls.rtp`` whether it looks like ciphertext: the evidence a "plain
    RTP" verdict needs. Streams on a pair that carried DTLS are always sampled.

    ``tls_keylogs``: TLS key log files (``SSLKEYLOGFILE``): SIP over secure
    WebSocket is read with them (``websocket.py``, ``tls_decrypt.py``); SIP over
    plain WebSocket needs nothing.
    """
    key_warnings: list[str] = []
    if strict_keys:
        try:
            keys = caller_candidates(srtp_keys)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    else:
        keys = []
        for text in srtp_keys:
            try:
                keys += [k for k in caller_candidates([text]) if k not in keys]
            except ValueError as exc:
                key_warnings.append(f"{exc}: skipped")
    paths = [path] if isinstance(path, (str, os.PathLike)) else list(path)
    collector = None
    if inband or keep_audio or wav_dir is not None:
        from sipscen.analysis.wire_audio import AudioCollector  # lazy: decoders, only when asked for
        collector = AudioCollector(keep=keep_audio or wav_dir is not None, inband=inband)
    analyzer = Analyzer(keys, collector, sample_media=sample_media,
                        tls_keylog=KeyLog.read(tls_keylogs))
    read_warnings: list[str] = []
    if len(paths) == 1:
        reader = CaptureReader(paths[0])
        try:
            if reader.format == "pcap":
                analyzer.run_pcap(reader)   # walks the read buffers itself: the fastest way
            else:
                analyzer.run(reader.batches())
        finally:
            reader.close()
        read_warnings += reader.warnings
    else:           # a rotated capture: every file through one analyzer, finished once
        for one in paths:
            reader = CaptureReader(one)
            try:
                if reader.format == "pcap":
                    run_pcap(analyzer, reader)
                else:
                    run_batches(analyzer, reader.batches())
            finally:
                reader.close()
            read_warnings += reader.warnings
        analyzer.finish()
    warnings = key_warnings + read_warnings + analyzer.warnings
    return _build(str(paths[0]), analyzer, warnings, min_stream_packets,
                  Path(wav_dir) if wav_dir is not None else None)


def _build(path: str, an: Analyzer, warnings: list[str], min_packets: int,
           wav_dir: Path | None = None) -> Analysis:
    streams = []
    audio: dict = {}
    inband: list[dict] = []
    col = an.audio
    for st in sorted(an.streams.values(), key=lambda s: (s.first_time, s.index)):
        known = st.rx_media is not None or st.tx_media is not None
        if st.packets < min_packets and not known and st.tracker is None:
            continue
        if col is not None and col.inband:
            inband += col.inband_digits(st)
        if col is None or not col.keep:
            # each stream's dict (with its audio figures) is built when read: a load
            # test's 100,000s of streams never sit in memory as dicts
            streams.append(st)
            continue
        entry = _stream_dict(st)
        entry["audio"] = col.stream_audio(st)
        whole = col.merged(st)
        if whole is not None:           # every payload type of the stream on one timeline
            audio[len(streams)] = whole
        if wav_dir is not None:
            entry["wav"] = col.export_wav(st, wav_dir)
        streams.append(entry)
    dtmf = []
    ends: dict = {}             # stream -> its ssrc, src and dst text (a stream has several digits)
    for ev in an.events:
        st = ev.stream
        named = ends.get(st)
        if named is None:
            named = ends[st] = (f"0x{st.ssrc:08x}", st.src_str, st.dst_str)
        dtmf.append({
            "digit": ev.digit, "method": "rfc4733", "time": ev.time,
            "duration_ms": ev.duration_ms, "volume": ev.volume, "ssrc": named[0],
            "src": named[1], "dst": named[2], "payload_type": ev.payload_type,
            "call_id": st.call_id, "end": ev.end_seen, "packets": ev.packets,
        })
    ends = None
    dtmf += an.calls.info_dtmf
    dtmf += inband
    dtmf.sort(key=lambda d: d["time"])
    calls = sorted(an.calls.calls.values(), key=lambda c: c.start if c.start is not None else 0)
    extras = _collected(an)
    if col is None or not col.keep:
        return Analysis(path, an.packets, warnings, dtmf=dtmf, call_objects=calls,
                        stream_objects=streams, extras=extras,
                        stream_audio=col.stream_audio if col is not None else None)
    return Analysis(path, an.packets, warnings, rtp_streams=streams, dtmf=dtmf, audio=audio,
                    call_objects=calls, extras=extras)


def _collected(an: Analyzer) -> dict:
    """The collectors' results by binding name; ``dtls`` with the payload samples
    of the streams on its pairs (or of every stream, with ``sample_media``)."""
    out = {name: c.result() for name, c in an.collectors.items()}
    flows = out.pop("dtls", [])
    if flows or an.sample_media:
        pairs = an.collectors["dtls"].pairs()
        rtp: dict[tuple[str, str], dict] = {}
        for st, (sample, firsts) in an.samples.items():
            key = (st.src_str, st.dst_str)
            if not (an.sample_media or key in pairs):
                continue
            if st.srtp is not None and st.payload_sample is not None:
                sample, firsts = st.payload_sample, st.first_bytes or b""
            entry = rtp.get(key)
            if entry is None:
                rtp[key] = {"src": key[0], "dst": key[1], "first": st.first_time,
                            "packets": st.packets,
                            "looks_encrypted": looks_encrypted(bytes(sample), bytes(firsts))}
            else:
                entry["packets"] += st.packets
        out["dtls"] = {"flows": flows, "rtp": list(rtp.values())}
    return out


def _stream_dict(st) -> dict:
    srtp = None
    if st.srtp is not None:
        if st.srtp.winner is not None or st.srtp.declared:
            srtp = st.srtp.to_dict()
            if st.srtp.winner is None:
                srtp["auth_failed"] = st.packets
        elif looks_encrypted(bytes(st.payload_sample or b""), bytes(st.first_bytes or b""),
                             st.sample_sizes):
            srtp = {"suite": None, "key_source": None, "authenticated": 0, "auth_failed": st.packets}
    elif st.tried_keys and looks_encrypted(bytes(st.payload_sample or b""),
                                           bytes(st.first_bytes or b""), st.sample_sizes):
        srtp = {"suite": None, "key_source": None, "authenticated": 0, "auth_failed": st.packets}
    events = sorted(st.event_pts) if st.event_pts is not None else sorted(
        pt for pt, c in st.classifiers.items() if c.state == c.EVENTS)
    names = st.codec_names()
    pts = st.payload_types
    codec = next((names[pt].split("/")[0] for pt in pts
                  if pt in names and pt not in events and "telephone" not in names[pt]), None)
    lost, jitter_ms = st.lost, st.jitter_ms
    expected = st.packets - st.dups + lost
    loss_pct = round(100.0 * lost / expected, 2) if expected > 0 else 0.0
    return {
        "ssrc": f"0x{st.ssrc:08x}", "src": st.src_str, "dst": st.dst_str,
        "payload_types": pts, "packets": st.packets, "lost": lost,
        "by_payload_type": {str(pt): v for pt, v in st.by_payload_type().items()},
        "jitter_ms": jitter_ms, "call_id": st.call_id, "srtp": srtp,
        "duplicated": st.dups, "out_of_order": st.ooo,
        "first_time": st.first_time, "last_time": st.last_time,
        "codecs": {str(pt): name for pt, name in names.items()},
        "event_payload_types": events,
        "sdp": st.rx_media is not None or st.tx_media is not None,
        "quality": {"codec": codec, "loss_pct": loss_pct,
                    **e_model(codec, loss_pct, jitter_ms)},
    }


__all__ = ["Analysis", "analyze_capture"]
