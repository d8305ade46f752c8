"""One pass over the capture's records: frame numbers, and an extract of the chosen calls.

The analysis contract gives each SIP message its capture time, not its frame
number; this pass maps those times back to frame numbers (1-based, as Wireshark
shows them; two messages at the same microsecond are told apart by their start
line). When the scaffold covers only some of the capture's calls it also
copies their frames (their SIP messages, TCP segments between their SIP
endpoints, and RTP to or from the media addresses their SDP names) into a small
pcap, so that the detailed analysis (in-band DTMF decodes audio) reads only
those. It uses the capture reader and layer decoding the ``transport`` checks
use too; nothing else of the analyser's inside.
"""
from __future__ import annotations

import struct
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from sipscen.analysis.layers import addr_bytes
from sipscen.analysis.pcap import CaptureReader


def time_key(t: float) -> int:
    return round(t * 1_000_000)


@dataclass
class Wanted:
    """What the pass looks for."""

    times: dict[int, list[bytes]] = field(default_factory=dict)   # time key -> start lines
    media: set[tuple[bytes, int]] = field(default_factory=set)     # (address bytes, port)
    sip_ends: set[tuple[bytes, int]] = field(default_factory=set)  # TCP SIP endpoints
    window: tuple[float, float] = (float("-inf"), float("inf"))


@dataclass
class Pass:
    frames: dict[int, list[tuple[int, bytes]]]   # time key -> [(frame number, start bytes)]
    total: int
    copied: int
    extract: Path | None
    warnings: list[str]


def scan(path: str, wanted: Wanted, extract: Path | None = None) -> Pass:
    """Read every record once: number the wanted SIP frames; copy the wanted frames to
    ``extract`` (a classic pcap) when given."""
    from sipscen.analysis.layers import TCP, UDP, ip_payload  # lazy: frame decoding: this pass only

    frames: dict[int, list[tuple[int, bytes]]] = defaultdict(list)
    out = None
    number = copied = 0
    linktype = None
    lo, hi = wanted.window
    media, ends, times = wanted.media, wanted.sip_ends, wanted.times
    warnings: list[str] = []
    try:
        with CaptureReader(path) as reader:
            for lt, batch in reader.batches():
                for t, frame in batch:
                    number += 1
                    k = time_key(t)
                    hit = k in times
                    if hit:
                        frames[k].append((number, bytes(frame[:2048])))
                    if extract is None:
                        continue
                    keep = hit
                    if not keep and lo <= t <= hi and (media or ends):
                        r = ip_payload(lt, frame)
                        if r is not None and r[2] in (UDP, TCP) and r[4] - r[3] >= 4:
                            src, dst, proto, off, _ = r
                            sport = (frame[off] << 8) | frame[off + 1]
                            dport = (frame[off + 2] << 8) | frame[off + 3]
                            pool = media if proto == UDP else ends
                            keep = (src, sport) in pool or (dst, dport) in pool
                    if not keep:
                        continue
                    if out is None:
                        linktype = lt
                        out = open(extract, "wb")
                        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, lt))
                    if lt != linktype:
                        continue
                    sec = int(t)
                    usec = min(999_999, round((t - sec) * 1_000_000))
                    out.write(struct.pack("<IIII", sec, usec, len(frame), len(frame)))
                    out.write(frame)
                    copied += 1
            warnings += reader.warnings
    finally:
        if out is not None:
            out.close()
    return Pass(frames, number, copied, extract if out is not None else None, warnings)


def assign(msgs, found: Pass) -> None:
    """Give each message (``.time``, ``.first_line``, ``.index``) its ``.frame``."""
    groups: dict[int, list] = defaultdict(list)
    for m in msgs:
        groups[time_key(m.time)].append(m)
    for k, group in groups.items():
        candidates = found.frames.get(k, [])
        used: set[int] = set()
        for m in sorted(group, key=lambda m: m.index):
            line = m.first_line.encode("latin-1", "replace")[:60]
            pick = next((n for n, data in candidates if n not in used and line in data), None)
            if pick is None:
                pick = next((n for n, _ in candidates if n not in used), None)
            if pick is not None:
                used.add(pick)
                m.frame = pick


def address_bytes(text: str) -> bytes | None:
    return addr_bytes(text)


def frames_text(frames: list[int]) -> str:
    frames = sorted({f for f in frames if f})
    if not frames:
        return ""
    if len(frames) > 6:
        return f"frames {frames[0]}-{frames[-1]}"
    return ("frame " if len(frames) == 1 else "frames ") + ", ".join(map(str, frames))
