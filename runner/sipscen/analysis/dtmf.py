"""DTMF: RFC 4733 (RFC 2833) telephone-events in RTP, and SIP INFO bodies.

One digit is one (SSRC, RTP timestamp, event code): every packet that
repeats it — updates, the triple end packet (even with one sequence number),
duplicates, late or reordered packets, an end packet before the last update
— only refines that digit.  Long presses split into segments (RFC 4733
§2.5.1.3: a new timestamp contiguous with the previous segment, no marker)
stay one digit.  Several events packed in one packet (§2.5.1.5) start at the
packet's timestamp plus the durations of the events before them.

``EventClassifier`` decides, for a payload type that no SDP describes,
whether a stream carries telephone-events — from content, never from a list
of "usual" numbers: 4-byte blocks with event codes 0-16 (the reserved bit ignored),
and the tell-tale shared RTP timestamp across packets with growing
durations.  Audio frames (opus, comfort noise) advance the timestamp on every
packet and are never taken for events.
"""
from __future__ import annotations

from sipscen.analysis.numbers import number_problem, wire_int

DIGITS = "0123456789*#ABCD"
MAX_RECENT = 32          # event keys remembered per stream (for late packets)
CLASSIFY_PACKETS = 12    # packets buffered per unknown payload type before deciding


def digit_name(code: int) -> str:
    if code < 16:
        return DIGITS[code]
    return "flash"


class DtmfEvent:
    """One digit as seen on the wire (mutable while packets keep arriving)."""

    __slots__ = ("code", "time", "start_ts", "segments", "end_seen", "volume",
                 "payload_type", "clock", "stream", "seg_ts", "packets")

    def __init__(self, code, time, start_ts, volume, payload_type, clock, stream):
        self.code = code
        self.time = time
        self.start_ts = start_ts
        self.segments: dict[int, int] = {start_ts: 0}   # segment timestamp -> max duration
        self.seg_ts = start_ts                          # latest segment
        self.end_seen = False
        self.volume = volume
        self.payload_type = payload_type
        self.clock = clock
        self.stream = stream
        self.packets = 0

    @property
    def digit(self) -> str:
        return digit_name(self.code)

    @property
    def duration_units(self) -> int:
        return sum(self.segments.values())

    @property
    def duration_ms(self) -> int:
        return round(self.duration_units * 1000 / (self.clock or 8000))


class EventTracker:
    """Turns the telephone-event packets of one RTP stream into digits."""

    __slots__ = ("stream", "out", "recent", "last")

    def __init__(self, stream, out: list):
        self.stream = stream
        self.out = out                  # shared list of every DtmfEvent, in creation order
        self.recent: dict[tuple[int, int], DtmfEvent] = {}
        self.last: DtmfEvent | None = None

    def feed(self, time: float, ts: int, marker: bool, payload: bytes, pt: int, clock: int) -> None:
        n = len(payload) // 4
        start = ts
        for i in range(n):
            o = 4 * i
            code = payload[o]
            flags = payload[o + 1]
            dur = (payload[o + 2] << 8) | payload[o + 3]
            if code <= 16:
                self._one(time, start, code, flags, dur, marker, pt, clock)
            if i < n - 1:
                start = (start + dur) & 0xFFFFFFFF

    def _one(self, time, ts, code, flags, dur, marker, pt, clock) -> None:
        key = (ts, code)
        ev = self.recent.get(key)
        if ev is None:
            prev = self.last
            if (prev is not None and prev.code == code and not marker
                    and self._continues(prev, ts, clock)):
                ev = prev                       # next segment of a long press
                ev.segments.setdefault(ts, 0)
                ev.seg_ts = ts
            else:
                ev = DtmfEvent(code, time, ts, flags & 0x3F, pt, clock, self.stream)
                self.out.append(ev)
            self.recent[key] = ev
            if len(self.recent) > MAX_RECENT:
                del self.recent[next(iter(self.recent))]
            if prev is None or ev is prev or _after(ts, prev.seg_ts):
                self.last = ev
        ev.packets += 1
        if time < ev.time:
            ev.time = time
        if dur > ev.segments.get(ts, 0):
            ev.segments[ts] = dur
        if flags & 0x80:
            ev.end_seen = True

    @staticmethod
    def _continues(prev: DtmfEvent, ts: int, clock: int) -> bool:
        seg_dur = prev.segments.get(prev.seg_ts, 0)
        if seg_dur < 0x8000:
            return False
        gap = (ts - (prev.seg_ts + seg_dur)) & 0xFFFFFFFF
        if gap >= 0x80000000:
            gap -= 0x100000000
        tol = max(1000, clock // 8)
        return -tol <= gap <= tol


def _after(a: int, b: int) -> bool:
    return 0 < ((a - b) & 0xFFFFFFFF) < 0x80000000


def valid_event_payload(payload: bytes) -> bool:
    n = len(payload)
    if n == 0 or n % 4 or n > 64:
        return False
    for o in range(0, n, 4):
        if payload[o] > 16:   # the R bit is ignored, as RFC 4733 tells receivers (SIPp sets it)
            return False
    return True


class EventClassifier:
    """Content-based decision for one (stream, payload type) with no SDP."""

    __slots__ = ("state", "buffer")

    UNDECIDED, EVENTS, AUDIO = 0, 1, 2

    def __init__(self):
        self.state = self.UNDECIDED
        self.buffer: list[tuple] = []   # (time, seq, ts, marker, payload)

    def add(self, time, seq, ts, marker, payload) -> int:
        if not valid_event_payload(payload):
            self.state = self.AUDIO
            self.buffer = []
            return self.state
        self.buffer.append((time, seq, ts, marker, payload))
        by_ts: dict[int, list[tuple]] = {}
        for item in self.buffer:
            by_ts.setdefault(item[2], []).append(item)
        for group in by_ts.values():
            seqs = {g[1] for g in group}
            if len(seqs) < 2:
                continue
            codes = {g[4][0] for g in group}
            if len(codes) != 1:
                self.state = self.AUDIO
                self.buffer = []
                return self.state
            ordered = sorted(group, key=lambda g: g[1])
            durs = [(g[4][2] << 8) | g[4][3] for g in ordered]
            ends = [g[4][1] & 0x80 for g in ordered]
            # durations grow (or stay) while the event lasts; updates after an end
            # packet are possible on reordering, so allow one step back
            backs = sum(1 for a, b in zip(durs, durs[1:]) if b < a)
            if backs <= 1 and (any(d > 0 for d in durs) or any(ends)):
                self.state = self.EVENTS
                return self.state
        if len(by_ts) >= 6 and all(len({g[1] for g in grp}) == 1 for grp in by_ts.values()):
            self.state = self.AUDIO
            self.buffer = []
        elif len(self.buffer) >= CLASSIFY_PACKETS:
            self.state = self.AUDIO
            self.buffer = []
        return self.state


def info_dtmf(content_type: str, body: str, problems: list | None = None
              ) -> tuple[str, int | None] | None:
    """``(digit, duration_ms)`` from a SIP INFO body, None when it carries no DTMF.

    ``application/dtmf-relay``: ``Signal=5`` / ``Duration=160`` lines;
    ``application/dtmf``: the digit itself (optionally ``Duration=``). A
    ``Duration`` that is not a number is left out, a signal that is not a
    DTMF event gives no digit; both are listed in ``problems``.
    """
    ctype = content_type.split(";")[0].strip().lower()
    if ctype not in ("application/dtmf-relay", "application/dtmf"):
        return None
    signal = None
    duration = None
    lines = [ln.strip() for ln in body.replace("\r", "\n").split("\n") if ln.strip()]
    for ln in lines:
        key, eq, value = ln.partition("=")
        if not eq:
            continue
        key = key.strip().lower()
        value = value.strip()
        if key == "signal":
            signal = value
            if _signal_digit(value) is None and problems is not None:
                problems.append(("INFO Signal", value, "is not a DTMF event"))
        elif key == "duration":
            duration = wire_int(value)
            if duration is None and problems is not None:
                problems.append(("INFO Duration", value, number_problem(value)))
    if signal is None and ctype == "application/dtmf" and lines and "=" not in lines[0]:
        signal = lines[0]
        if _signal_digit(signal) is None and problems is not None:
            problems.append(("INFO Signal", signal, "is not a DTMF event"))
    digit = _signal_digit(signal) if signal else None
    if digit is None:
        return None
    return digit, duration


def _signal_digit(value: str) -> str | None:
    v = value.strip().upper()
    if len(v) == 1 and v in DIGITS:
        return v
    code = wire_int(v, 10, 16)
    if code is not None:
        return digit_name(code)
    if v in ("FLASH", "HF", "HOOKFLASH"):
        return "flash"
    return None
