"""RTP streams: per SSRC and direction statistics with bounded state.

Each :class:`RtpStream` keeps a handful of integers whatever the number of
packets: the extended highest sequence number, the set of sequence numbers
missing in the last 1024 (to tell duplicates from late packets), and the RFC 3550 §6.4.1 interarrival jitter
estimate (in timestamp units of the payload's clock rate).
"""
from __future__ import annotations

from sipscen.analysis.layers import endpoint_str
from sipscen.analysis.sdp import STATIC_PT

WINDOW = 1024


_NO_HOLES: frozenset = frozenset()


class RtpStream:
    __slots__ = (
        "src", "sport", "dst", "dport", "ssrc", "packets", "first_time", "last_time", "pts",
        "max_seq", "fwd", "base_ext", "holes", "dups", "ooo",
        "transit", "jitter", "jpt", "clocks",
        "call_id", "rx_media", "tx_media", "sdp_gen", "event_pts", "classifiers", "tracker",
        "srtp", "tried_keys", "payload_sample", "index", "fastpt", "jclock", "first_bytes", "sample_sizes", "probe",
        "split", "counted", "fast_owner", "cur_pt", "cur_entry",
    )

    def __init__(self, src: bytes, sport: int, dst: bytes, dport: int, ssrc: int,
                 t: float, seq: int, index: int):
        self.src, self.sport, self.dst, self.dport, self.ssrc = src, sport, dst, dport, ssrc
        self.index = index
        self.packets = 0
        self.first_time = t
        self.last_time = t
        self.pts = 0                         # payload types seen: bit N set for PT N (< 128)
        self.max_seq = (seq - 1) & 0xFFFF   # so the first packet counts as "next in order"
        self.fwd = seq - 1                   # extended highest seq == packets + fwd
        self.base_ext = seq
        self.holes: set[int] | frozenset = _NO_HOLES    # a set of its own at the first gap
        self.dups = 0
        self.ooo = 0
        self.transit = 0.0
        self.jitter = 0.0
        self.jpt = -1
        self.clocks: dict[int, int] = {}     # payload type -> clock rate (cache)
        self.call_id: str | None = None
        self.rx_media = None                 # SdpMedia of the receiving side
        self.tx_media = None                 # SdpMedia of the sending side
        self.sdp_gen = -1
        self.event_pts: dict[int, int] | None = None   # pt -> clock; None: no SDP, classify
        self.classifiers: dict = {}
        self.tracker = None
        self.srtp = None                     # SrtpStreamState
        self.tried_keys = False
        # SRTP sampling state, allocated only for streams keys are tried on (start_sampling):
        # a long load test has tens of thousands of streams that never need it
        self.payload_sample: bytearray | None = None   # payloads of streams tried with keys
        self.first_bytes: bytearray | None = None
        self.sample_sizes: dict[int, set[int]] | None = None   # pt -> payload sizes sampled
        self.probe: list[tuple] | None = None   # packets seen while keys were tried (replayed if plain)
        self.fastpt = -1                     # audio payload type the analyzer's fast path may take
        self.jclock = 8000
        # per payload type [packets, first time, last time], from the second payload type on
        # (a codec change mid-call); the fast path's packets since ``counted`` are ``fast_owner``'s
        self.split: dict[int, list] | None = None
        self.counted = 0
        self.fast_owner = -1
        self.cur_pt = -1                     # payload type of the last packet counted in split
        self.cur_entry: list | None = None   # its entry

    @property
    def payload_types(self) -> list[int]:
        """The payload types seen, ascending."""
        out = []
        pts = self.pts
        while pts:
            low = pts & -pts
            out.append(low.bit_length() - 1)
            pts ^= low
        return out

    def start_sampling(self) -> None:
        if self.probe is None:
            self.payload_sample, self.first_bytes = bytearray(), bytearray()
            self.sample_sizes, self.probe = {}, []

    def go_fast(self, pt: int) -> None:
        """Allow the inline fast path for in-order packets of ``pt`` (plain audio)."""
        if pt == self.jpt and not self.srtp:
            self.fastpt = self.fast_owner = pt
            # a float: the fast path multiplies a float time by it (float * float is cheaper)
            self.jclock = float(self.clocks.get(pt) or self.clock_for(pt))

    def add(self, t: float, seq: int, ts: int, pt: int, timed: bool) -> None:
        """Account one packet. ``timed``: include it in the jitter estimate.

        Invariant: extended highest sequence number == ``packets + fwd``; an
        in-order packet (the analyzer's inline fast path) only bumps
        ``packets`` and ``max_seq``.  ``holes`` holds the missing extended
        sequence numbers of the last ``WINDOW`` (late arrivals fill them).
        """
        old = self.packets + self.fwd
        split = self.split
        if split is not None:
            if pt == self.cur_pt and self.counted == self.packets:     # the usual case
                entry = self.cur_entry
                entry[0] += 1
                entry[2] = t
                self.counted += 1
            else:
                self._by_payload_type(t, pt)
        elif not (self.pts >> pt) & 1:
            self._by_payload_type(t, pt)
        self.packets += 1
        self.last_time = t
        d = (seq - self.max_seq) & 0xFFFF
        if d == 1:
            self.max_seq = seq
        elif d == 0:
            self.dups += 1
            self.fwd -= 1
            return
        elif d < 0x8000:
            self.max_seq = seq
            self.fwd += d - 1
            new = old + d
            if self.holes is _NO_HOLES:
                self.holes = set()
            self.holes.update(range(max(old + 1, new - WINDOW), new))
            if len(self.holes) > 2 * WINDOW:
                self.holes = {h for h in self.holes if h > new - WINDOW}
        else:
            back = 0x10000 - d
            ext = old - back
            self.fwd -= 1
            if ext in self.holes:
                self.holes.discard(ext)
            elif ext < self.base_ext:
                if self.holes is _NO_HOLES:
                    self.holes = set()
                self.holes.update(range(max(ext + 1, self.base_ext - WINDOW), self.base_ext))
                self.base_ext = ext
            elif back < WINDOW:
                self.dups += 1
                return
            self.ooo += 1
        if timed:
            clock = self.clocks.get(pt)
            if clock is None:
                clock = self.clock_for(pt)
            transit = t * clock - ts
            if self.jpt == pt:
                dd = transit - self.transit
                if dd < 0:
                    dd = -dd
                if dd > 2147483648.0:
                    dd = abs(dd - 4294967296.0)
                self.jitter += (dd - self.jitter) / 16.0
            self.transit = transit
            self.jpt = pt

    def _by_payload_type(self, t: float, pt: int) -> None:
        """Count one packet of ``pt`` per payload type (before ``add`` counts it): only
        once a stream has shown a second payload type; the fast path's packets since
        the last count belong to the payload type it was given (``go_fast``)."""
        split = self.split
        if split is None:
            if not self.pts:                 # the first packet: one payload type so far
                self.pts = 1 << pt
                return
            only = self.payload_types[0]     # every packet so far was of it
            split = self.split = {only: [self.packets, self.first_time, self.last_time]}
        elif self.counted != self.packets:
            entry = split[self.fast_owner]
            entry[0] += self.packets - self.counted
            entry[2] = self.last_time
        self.pts |= 1 << pt
        entry = split.get(pt)
        if entry is None:
            entry = split[pt] = [1, t, t]
        else:
            entry[0] += 1
            entry[2] = t
        self.cur_pt, self.cur_entry = pt, entry
        self.counted = self.packets + 1

    def by_payload_type(self) -> dict[int, dict]:
        """``{pt: {"packets", "first_time", "last_time"}}`` (a codec change splits a stream)."""
        if self.split is None:
            return {pt: {"packets": self.packets, "first_time": self.first_time,
                         "last_time": self.last_time} for pt in self.payload_types}
        out = {pt: {"packets": n, "first_time": a, "last_time": b}
               for pt, (n, a, b) in sorted(self.split.items())}
        if self.counted != self.packets:
            owner = out[self.fast_owner]
            owner["packets"] += self.packets - self.counted
            owner["last_time"] = self.last_time
        return out

    def clock_for(self, pt: int) -> int:
        clock = None
        for media in (self.rx_media, self.tx_media):
            if media is not None:
                codec = media.codec(pt)
                if codec:
                    clock = codec[1]
                    break
        if clock is None:
            clock = STATIC_PT.get(pt, ("", 8000))[1]
        self.clocks[pt] = clock
        return clock

    @property
    def lost(self) -> int:
        expected = self.packets + self.fwd - self.base_ext + 1
        return max(0, expected - (self.packets - self.dups))

    @property
    def jitter_ms(self) -> float:
        if self.jpt < 0:
            return 0.0
        clock = self.clocks.get(self.jpt) or 8000
        return round(self.jitter * 1000.0 / clock, 3)

    @property
    def src_str(self) -> str:
        return endpoint_str(self.src, self.sport)

    @property
    def dst_str(self) -> str:
        return endpoint_str(self.dst, self.dport)

    def codec_names(self) -> dict[int, str]:
        names = {}
        for pt in self.payload_types:
            for media in (self.rx_media, self.tx_media):
                if media is not None and media.codec(pt):
                    name, rate = media.codec(pt)
                    names[pt] = f"{name}/{rate}"
                    break
            else:
                if pt in STATIC_PT:
                    names[pt] = f"{STATIC_PT[pt][0]}/{STATIC_PT[pt][1]}"
                elif pt in self.classifiers and self.classifiers[pt].state == 1:
                    names[pt] = "telephone-event (by content)"
        return names
