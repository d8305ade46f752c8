"""``analyze_capture``: one capture file in, an :class:`Analysis` out.

``Analysis.to_dict()`` is the stable ``sipscen analyze --json`` contract
(docs/ARCHITECTURE.md): ``packets``, ``warnings``, ``calls``,
``rtp_streams`` and ``dtmf`` (in time order).  Extra keys may be added to the
objects; the documented ones never change meaning.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Iterable

from sipscen.errors import UsageError
from sipscen.analysis.analyzer import Analyzer
from sipscen.analysis.pcap import CaptureReader
from sipscen.analysis.srtp_streams import caller_candidates, looks_encrypted


@dataclass
class Analysis:
    """Everything read from one capture (plain data, JSON-ready)."""

    path: str
    packets: int
    warnings: list[str] = field(default_factory=list)
    calls: list[dict] = field(default_factory=list)
    rtp_streams: list[dict] = field(default_factory=list)
    dtmf: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "packets": self.packets, "warnings": list(self.warnings), "calls": self.calls,
            "rtp_streams": self.rtp_streams, "dtmf": self.dtmf,
        }

    def digits(self, method: str | None = None) -> str:
        return "".join(d["digit"] for d in self.dtmf if method is None or d["method"] == method)


def analyze_capture(path: str | os.PathLike, srtp_keys: Iterable[str] = (), *,
                    min_stream_packets: int = 2, strict_keys: bool = True) -> Analysis:
    """Read ``path`` (pcap or pcapng) and return calls, RTP streams, DTMF and SRTP results.

    ``srtp_keys``: ``"SUITE inline:KEY"``, ``"inline:KEY"`` or ``"KEY"`` strings
    for streams whose SDP is not in the capture (each is tried on every
    SRTP-looking stream; the one that authenticates wins).  Raises
    :class:`sipscen.errors.CaptureFileError` for a file that is not a capture
    (or an unsupported link type), :class:`sipscen.errors.UsageError` for a
    malformed key (with ``strict_keys=False`` a malformed key is skipped with a
    warning instead).  Damage inside the file becomes a warning.
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
    reader = CaptureReader(path)
    analyzer = Analyzer(keys)
    try:
        if reader.format == "pcap":
            analyzer.run_pcap(reader)       # walks the read buffers itself: the fastest way
        else:
            analyzer.run(reader.batches())
    finally:
        reader.close()
    warnings = key_warnings + reader.warnings + analyzer.warnings
    return _build(str(path), analyzer, warnings, min_stream_packets)


def _build(path: str, an: Analyzer, warnings: list[str], min_packets: int) -> Analysis:
    streams = []
    for st in sorted(an.streams.values(), key=lambda s: (s.first_time, s.index)):
        known = st.rx_media is not None or st.tx_media is not None
        if st.packets < min_packets and not known and st.tracker is None:
            continue
        streams.append(_stream_dict(st))
    dtmf = []
    for ev in an.events:
        st = ev.stream
        dtmf.append({
            "digit": ev.digit, "method": "rfc4733", "time": ev.time,
            "duration_ms": ev.duration_ms, "volume": ev.volume, "ssrc": f"0x{st.ssrc:08x}",
            "src": st.src_str, "dst": st.dst_str, "payload_type": ev.payload_type,
            "call_id": st.call_id, "end": ev.end_seen, "packets": ev.packets,
        })
    dtmf += an.calls.info_dtmf
    dtmf.sort(key=lambda d: d["time"])
    calls = [c.to_dict() for c in sorted(an.calls.calls.values(),
                                         key=lambda c: c.messages[0]["time"] if c.messages else 0)]
    return Analysis(path, an.packets, warnings, calls, streams, dtmf)


def _stream_dict(st) -> dict:
    srtp = None
    if st.srtp is not None:
        if st.srtp.winner is not None or st.srtp.declared:
            srtp = st.srtp.to_dict()
            if st.srtp.winner is None:
                srtp["auth_failed"] = st.packets
        elif looks_encrypted(bytes(st.payload_sample), bytes(st.first_bytes), st.sample_sizes):
            srtp = {"suite": None, "key_source": None, "authenticated": 0, "auth_failed": st.packets}
    elif st.tried_keys and looks_encrypted(bytes(st.payload_sample), bytes(st.first_bytes), st.sample_sizes):
        srtp = {"suite": None, "key_source": None, "authenticated": 0, "auth_failed": st.packets}
    events = sorted(st.event_pts) if st.event_pts is not None else sorted(
        pt for pt, c in st.classifiers.items() if c.state == c.EVENTS)
    return {
        "ssrc": f"0x{st.ssrc:08x}", "src": st.src_str, "dst": st.dst_str,
        "payload_types": sorted(st.pts), "packets": st.packets, "lost": st.lost,
        "jitter_ms": st.jitter_ms, "call_id": st.call_id, "srtp": srtp,
        "duplicated": st.dups, "out_of_order": st.ooo,
        "first_time": st.first_time, "last_time": st.last_time,
        "codecs": {str(pt): name for pt, name in st.codec_names().items()},
        "event_payload_types": events,
        "sdp": st.rx_media is not None or st.tx_media is not None,
    }


__all__ = ["Analysis", "analyze_capture"]
