"""Synthetic captures for the memory benchmark and tests: many calls, few or many
RTP packets, and the pcap writer the benches share (raw bytes with struct, no scapy).

    generate_calls(path, calls=40_000, rtp_per_stream=4, body_padding=0)

Each call: INVITE with SDP, 200 OK with SDP, ACK, BYE; two RTP streams of
``rtp_per_stream`` G.729 packets. Addresses walk 127.x.y.z so 100k calls fit.
"""
from __future__ import annotations

import struct
import sys
from pathlib import Path




def _ip_checksum(hdr: bytes) -> int:
    s = sum(struct.unpack("!10H", hdr))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


class PcapWriter:
    def __init__(self, f):
        self.f = f
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        self.buf = []
        self.count = 0

    def udp(self, t: float, src: bytes, sport: int, dst: bytes, dport: int, payload: bytes) -> None:
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28 + len(payload), 0, 0x4000, 64, 17, 0, src, dst)
        ip = ip[:10] + struct.pack("!H", _ip_checksum(ip)) + ip[12:]
        frame = (b"\x00" * 12 + b"\x08\x00" + ip
                 + struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload)
        self.raw(t, frame)

    def raw(self, t: float, frame: bytes) -> None:
        sec = int(t)
        self.buf.append(struct.pack("<IIII", sec, int((t - sec) * 1e6), len(frame), len(frame)))
        self.buf.append(frame)
        self.count += 1
        if len(self.buf) > 20000:
            self.flush()

    def flush(self) -> None:
        self.f.write(b"".join(self.buf))
        self.buf = []


def _sip(lines: list[str], body: str = "") -> bytes:
    head = "\r\n".join(lines + [f"Content-Length: {len(body.encode())}"])
    return (head + "\r\n\r\n" + body).encode()


# codec name -> (payload type, rtpmap, clock, payload sizes); opus frames vary in size
CODECS = {"G729": (18, "G729/8000", 8000, (20,)), "PCMA": (8, "PCMA/8000", 8000, (160,)),
          "G722": (9, "G722/8000", 8000, (160,)),
          "opus": (111, "opus/48000/2", 48000, tuple(range(40, 161, 8)))}
MIX = ("PCMA", "G722", "opus", "G729")


def _sdp(ip: str, port: int, te_pt: int, codec: str = "G729") -> str:
    pt, rtpmap, clock, _ = CODECS[codec]
    return (f"v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
            f"m=audio {port} RTP/AVP {pt} {te_pt}\r\na=rtpmap:{pt} {rtpmap}\r\n"
            f"a=rtpmap:{te_pt} telephone-event/{clock}\r\na=fmtp:{te_pt} 0-16\r\na=sendrecv\r\n")

def _addr(side: int, c: int) -> tuple[bytes, str]:
    raw = bytes([127, side * 64 + (c >> 16) % 64, (c >> 8) & 0xFF, 1 + (c & 0xFF) % 254])
    return raw, ".".join(map(str, raw))


def generate_calls(path: Path, calls: int, rtp_per_stream: int = 4,
                   body_padding: int = 0) -> int:
    """Write the capture; returns its number of packets. ``body_padding`` adds a
    header of that many bytes to every SIP message (big messages)."""
    hdr = struct.Struct("!BBHII").pack
    pad = [f"X-Padding: {'p' * body_padding}"] if body_padding else []
    with open(path, "wb") as f:
        w = PcapWriter(f)
        t0 = 1_700_000_000.0
        for c in range(calls):
            a_ip, a = _addr(0, c)
            b_ip, b = _addr(1, c)
            ap, bp = 20000 + 2 * (c % 20000), 40000 + 2 * (c % 10000)
            cid = f"mem-{c}@{a}"
            common = [f"Call-ID: {cid}", f"From: <sip:a{c}@{a}>;tag=a{c}",
                      f"Via: SIP/2.0/UDP {a}:5060", *pad]
            t = t0 + c * 0.02
            w.udp(t, a_ip, 5060, b_ip, 5060, _sip(
                [f"INVITE sip:b{c}@{b} SIP/2.0", *common, f"To: <sip:b{c}@{b}>", "CSeq: 1 INVITE",
                 "Content-Type: application/sdp"], _sdp(a, ap, 101)))
            w.udp(t + 0.002, b_ip, 5060, a_ip, 5060, _sip(
                ["SIP/2.0 200 OK", *common, f"To: <sip:b{c}@{b}>;tag=b{c}", "CSeq: 1 INVITE",
                 "Content-Type: application/sdp"], _sdp(b, bp, 101)))
            w.udp(t + 0.003, a_ip, 5060, b_ip, 5060, _sip(
                [f"ACK sip:b{c}@{b} SIP/2.0", *common, f"To: <sip:b{c}@{b}>;tag=b{c}",
                 "CSeq: 1 ACK"]))
            for i in range(rtp_per_stream):
                for src, sport, dst, dport, ssrc in ((a_ip, ap, b_ip, bp, 0x10000000 + c),
                                                     (b_ip, bp, a_ip, ap, 0x20000000 + c)):
                    w.udp(t + 0.01 + i * 0.02, src, sport, dst, dport,
                          hdr(0x80, 18, i, i * 160, ssrc) + bytes(20))
            w.udp(t + 0.02 + rtp_per_stream * 0.02, a_ip, 5060, b_ip, 5060, _sip(
                [f"BYE sip:b{c}@{b} SIP/2.0", *common, f"To: <sip:b{c}@{b}>;tag=b{c}",
                 "CSeq: 2 BYE"]))
        w.flush()
    return w.count


def generate_rtp(path: Path, packets: int, streams: int = 20) -> int:
    """One call's worth of SIP and ``packets`` RTP packets over ``streams`` streams."""
    hdr = struct.Struct("!BBHII").pack
    with open(path, "wb") as f:
        w = PcapWriter(f)
        a_ip, a = _addr(0, 1)
        b_ip, b = _addr(1, 1)
        t = 1_700_000_000.0
        for i in range(packets):
            s = i % streams
            n = i // streams
            w.udp(t + n * 0.02, a_ip, 20000 + 2 * s, b_ip, 40000 + 2 * s,
                  hdr(0x80, 18, n & 0xFFFF, (n * 160) & 0xFFFFFFFF, 0x30000000 + s) + bytes(20))
        w.flush()
    return w.count


# The child's own high-water mark (VmHWM), printed as it exits. getrusage's
# ru_maxrss of a child also counts the parent's memory it shared between fork and
# exec: a big test process would make a small child look big.
_MEASURED = ("import atexit, runpy, sys\n"
             "def hwm():\n"
             "    for line in open('/proc/self/status'):\n"
             "        if line.startswith('VmHWM:'):\n"
             "            sys.stderr.write('sipscen-vmhwm-kb ' + line.split()[1] + '\\n')\n"
             "atexit.register(hwm)\n"
             "sys.argv = ['sipscen'] + sys.argv[1:]\n"
             "runpy.run_module('sipscen', run_name='__main__')\n")


def run_sipscen_measured(args: list[str], out: Path, cwd: Path) -> tuple[float, int, int]:
    """``python -m sipscen ARGS`` with stdout to ``out``: (wall s, peak RSS KiB, exit code)."""
    import subprocess
    import time

    with open(out, "wb") as f:
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", _MEASURED, *args], stdout=f,
                              stderr=subprocess.PIPE, cwd=cwd)
    wall = time.perf_counter() - start
    kb = [int(line.split()[1]) for line in proc.stderr.decode(errors="replace").splitlines()
          if line.startswith("sipscen-vmhwm-kb ")]
    return wall, (kb[-1] if kb else -1), proc.returncode


# codec name -> (payload type, rtpmap, RTP clock, packet time s, payload bytes per packet)
_STREAM_CODECS = {
    "PCMU": (0, "PCMU/8000", 8000, 0.02, 160), "PCMA": (8, "PCMA/8000", 8000, 0.03, 240),
    "G722": (9, "G722/8000", 8000, 0.02, 160), "G729": (18, "G729/8000", 8000, 0.02, 20),
    "opus": (111, "opus/48000/2", 48000, 0.02, 0),
}
_STREAM_MIX = ("PCMA", "PCMU", "G722", "opus", "G729", "PCMA")


def _g711_tone(codec: str, seconds: float, freqs: tuple[float, ...]) -> bytes:
    """G.711 bytes of ``freqs`` summed at -12 dBFS each (a tone, or a DTMF digit's pair)."""
    import math

    from sipscen.analysis.audio import encode_g711
    import numpy as np
    n = int(8000 * seconds)
    t = np.arange(n) / 8000
    x = sum(8000 * np.sin(2 * math.pi * f * t) for f in freqs)
    return encode_g711(x, codec)


def generate_streams(path: Path, streams: int, seed: int = 7) -> dict:
    """``streams`` RTP streams as ``streams // 2`` calls (INVITE/200 with SDP, ACK, BYE):
    codecs mixed per call (PCMA 30 ms / 240 B, PCMU 20 ms / 160 B, G.722 160 B, opus
    with variable 3-120 B frames, G.729 20 B), 2 to 8 packets per stream, 1 % loss,
    every tenth G.711 stream carrying an in-band DTMF digit (about 120 ms), the others
    a 1 kHz tone. Streams overlap in time (a load test's many short calls).
    Returns counts: packets, streams, calls, in-band digits planted."""
    import heapq
    import random

    rnd = random.Random(seed)
    calls = max(1, streams // 2)
    hdr = struct.Struct("!BBHII").pack
    tone = {c: _g711_tone(c, 0.3, (1000.0,)) for c in ("PCMA", "PCMU")}
    digit = {c: _g711_tone(c, 0.3, (770.0, 1336.0)) for c in ("PCMA", "PCMU")}   # "5"
    opus_frames = [b"\xf8\xff\xfe"] + [bytes([0x78]) + bytes(rnd.randrange(256) for _ in range(n))
                                       for n in (40, 80, 119)]
    filler = bytes(rnd.randrange(256) for _ in range(256))
    planted = 0
    with open(path, "wb") as f:
        w = PcapWriter(f)
        pending: list[tuple] = []        # (time, n, packet): calls overlap, the file is in time order

        def send(t: float, *packet) -> None:
            heapq.heappush(pending, (t, w.count + len(pending), packet))

        t0 = 1_700_000_000.0
        for c in range(calls):
            t = t0 + c * 0.005
            while pending and pending[0][0] < t:
                at, _n, packet = heapq.heappop(pending)
                w.udp(at, *packet)
            codec = _STREAM_MIX[c % len(_STREAM_MIX)]
            pt, rtpmap, clock, ptime, size = _STREAM_CODECS[codec]
            a_ip, a = _addr(0, c)
            b_ip, b = _addr(1, c)
            ap, bp = 20000 + 2 * (c % 20000), 40000 + 2 * (c % 10000)
            cid = f"streams-{c}@{a}"
            common = [f"Call-ID: {cid}", f"From: <sip:a{c}@{a}>;tag=a{c}", f"Via: SIP/2.0/UDP {a}:5060"]
            for ip, port, first in ((a, ap, [f"INVITE sip:b{c}@{b} SIP/2.0", f"To: <sip:b{c}@{b}>"]),
                                    (b, bp, ["SIP/2.0 200 OK", f"To: <sip:b{c}@{b}>;tag=b{c}"])):
                sdp = (f"v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
                       f"m=audio {port} RTP/AVP {pt} 101\r\na=rtpmap:{pt} {rtpmap}\r\n"
                       f"a=rtpmap:101 telephone-event/{clock}\r\na=sendrecv\r\n")
                src, dst = (a_ip, b_ip) if ip == a else (b_ip, a_ip)
                send(t, src, 5060, dst, 5060, _sip(
                    [first[0], *common, first[1], "CSeq: 1 INVITE", "Content-Type: application/sdp"], sdp))
                t += 0.002
            send(t, a_ip, 5060, b_ip, 5060, _sip(
                [f"ACK sip:b{c}@{b} SIP/2.0", *common, f"To: <sip:b{c}@{b}>;tag=b{c}", "CSeq: 1 ACK"]))
            for k, (src, sport, dst, dport) in enumerate(((a_ip, ap, b_ip, bp), (b_ip, bp, a_ip, ap))):
                ssrc = (0x10000000 if k == 0 else 0x20000000) + c
                count = rnd.randrange(2, 9)
                audio = None
                if codec in ("PCMA", "PCMU"):
                    with_digit = (2 * c + k) % 10 == 0 and count * ptime >= 0.12
                    audio = digit[codec] if with_digit else tone[codec]
                    planted += with_digit
                for i in range(count):
                    if rnd.random() < 0.01:
                        continue                         # 1 % loss
                    if audio is not None:
                        body = audio[i * size % len(audio):][:size]
                    elif codec == "opus":
                        body = rnd.choice(opus_frames)
                    else:
                        body = filler[:size]
                    send(t + 0.01 + i * ptime, src, sport, dst, dport,
                          hdr(0x80, pt, i, int(i * ptime * clock) & 0xFFFFFFFF, ssrc) + body)
            send(t + 0.3, a_ip, 5060, b_ip, 5060, _sip(
                [f"BYE sip:b{c}@{b} SIP/2.0", *common, f"To: <sip:b{c}@{b}>;tag=b{c}", "CSeq: 2 BYE"]))
        while pending:
            at, _n, packet = heapq.heappop(pending)
            w.udp(at, *packet)
        w.flush()
    return {"packets": w.count, "streams": 2 * calls, "calls": calls, "digits": planted}


# ---------------------------------------------------------------------------
# A realistic load capture (issue 19): calls that come and go, mixed codecs and
# packet times, VBR opus, per-call telephone-event payload types, loss,
# reordering, codec changes by re-INVITE on the same SSRC, both directions.

# name -> (static PT or None: dynamic, rtpmap, RTP clock, bytes per 10 ms or None: VBR)
_REAL_CODECS = {"PCMA": (8, "PCMA/8000", 8000, 80), "G722": (9, "G722/8000", 8000, 80),
                "G729": (18, "G729/8000", 8000, 10), "opus": (None, "opus/48000/2", 48000, None)}
_REAL_MIX = ("PCMA", "G722", "opus", "G729")
_PTIMES = (0.01, 0.02, 0.03, 0.04)


def generate_realistic(path: Path, packets: int = 200_000, concurrent: int = 200,
                       seed: int = 19, loss: float = 0.01, reorder: float = 0.005,
                       codec_change: float = 0.3, call_seconds: tuple[float, float] | None = None,
                       calls_per_second: float | None = None, digits_per_call: int = 2,
                       seconds: float | None = None) -> dict:
    """Write a load test's capture of about ``packets`` packets; returns what it holds.

    About ``concurrent`` calls at a time (or, with ``calls_per_second`` and
    ``call_seconds``, calls starting at that rate for ``seconds`` and lasting that long:
    a soak),
    each INVITE/200/ACK with SDP ... BYE/200. A call's codec is one of PCMA,
    G.722, opus (a dynamic payload type, VBR frames of 20-200 bytes) and G.729,
    its packet time 10/20/30/40 ms (opus 20 ms), its telephone-event payload types
    dynamic (96-127) and different per side; both directions carry audio and
    digits (RFC 4733: 7 updates + 3 end packets, on the receiver's payload type).
    ``codec_change`` of the calls are re-INVITEd to another codec mid-call: the
    same SSRCs go on with the new payload type. ``loss`` of the audio packets
    are dropped; ``reorder`` of them arrive 1-3 packets of their stream late.
    The file is in capture-time order."""
    import heapq
    import random

    rnd = random.Random(seed)
    rec = struct.Struct("<IIII").pack
    rtp_hdr = struct.Struct("!BBHII").pack
    ip_hdr = struct.Struct("!BBHHHBBH4s4s").pack
    udp_hdr = struct.Struct("!HHHH").pack
    eth = b"\x00" * 12 + b"\x08\x00"
    noise = bytes(rnd.randrange(256) for _ in range(4096))
    opus_sizes = [20 + int(rnd.betavariate(2, 3) * 180) for _ in range(997)]
    t0 = 1_700_000_000.0
    out: list[bytes] = []
    count = 0
    counts = {"packets": 0, "calls": 0, "streams": 0, "digits": 0, "lost": 0, "reordered": 0,
              "codec_changes": 0, "sip": 0}
    heap: list = []      # (time, tiebreak, kind, data)
    tie = 0

    def push(t: float, kind: str, data) -> None:
        nonlocal tie
        tie += 1
        heapq.heappush(heap, (t, tie, kind, data))

    def frame(t: float, src: bytes, sport: int, dst: bytes, dport: int, payload: bytes) -> None:
        nonlocal count
        ip = ip_hdr(0x45, 0, 28 + len(payload), 0, 0x4000, 64, 17, 0, src, dst)
        fr = eth + ip + udp_hdr(sport, dport, 8 + len(payload), 0) + payload
        sec = int(t)
        out.append(rec(sec, int((t - sec) * 1e6), len(fr), len(fr)))
        out.append(fr)
        count += 1
        if len(out) > 40000:
            f.write(b"".join(out))
            out.clear()

    def sdp(ip: str, port: int, codec: str, pt: int, te: int) -> str:
        _static, rtpmap, clock, _size = _REAL_CODECS[codec]
        return (f"v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
                f"m=audio {port} RTP/AVP {pt} {te}\r\na=rtpmap:{pt} {rtpmap}\r\n"
                f"a=rtpmap:{te} telephone-event/{8000 if clock == 8000 else clock}\r\n"
                f"a=fmtp:{te} 0-16\r\na=sendrecv\r\n")

    def codec_plan(c: int, tes: list[int], avoid: str | None = None) -> tuple:
        codec = rnd.choice([x for x in _REAL_MIX if x != avoid])
        static, _rtpmap, clock, size = _REAL_CODECS[codec]
        pt = static if static is not None else rnd.choice([p for p in range(96, 128) if p not in tes])
        ptime = 0.02 if codec == "opus" else rnd.choice(_PTIMES)
        return codec, pt, clock, ptime, size

    def new_call(c: int, start: float, duration: float) -> None:
        counts["calls"] += 1
        a_ip = bytes([127, 1 + (c >> 16) % 60, (c >> 8) & 0xFF, 1 + (c & 0xFF) % 250])
        b_ip = bytes([127, 64 + (c >> 16) % 60, (c >> 8) & 0xFF, 1 + (c & 0xFF) % 250])
        a, b = ".".join(map(str, a_ip)), ".".join(map(str, b_ip))
        ap, bp = 10000 + 2 * (c % 25000), 10000 + 2 * ((c * 7) % 25000)
        tes = rnd.sample(range(96, 128), 2)    # a's, b's telephone-event payload types
        plan = codec_plan(c, tes)
        common = [f"Call-ID: load-{c}@{a}", f"From: <sip:a{c}@{a}>;tag=a{c}", f"Via: SIP/2.0/UDP {a}:5060"]
        call = {"a": (a_ip, a, ap), "b": (b_ip, b, bp), "common": common, "c": c, "tes": tes}
        push(start, "sip", (a_ip, b_ip, _sip([f"INVITE sip:b{c}@{b} SIP/2.0", *common, f"To: <sip:b{c}@{b}>",
                                               "CSeq: 1 INVITE", "Content-Type: application/sdp"],
                                              sdp(a, ap, plan[0], plan[1], tes[0]))))
        push(start + 0.002, "sip", (b_ip, a_ip, _sip(["SIP/2.0 200 OK", *common, f"To: <sip:b{c}@{b}>;tag=b{c}",
                                                      "CSeq: 1 INVITE", "Content-Type: application/sdp"],
                                                     sdp(b, bp, plan[0], plan[1], tes[1]))))
        push(start + 0.003, "sip", (a_ip, b_ip, _sip([f"ACK sip:b{c}@{b} SIP/2.0", *common,
                                                      f"To: <sip:b{c}@{b}>;tag=b{c}", "CSeq: 1 ACK"])))
        end = start + duration
        change = None
        if rnd.random() < codec_change:
            at = start + duration * rnd.uniform(0.3, 0.7)
            new = codec_plan(c, tes, avoid=plan[0])
            change = (at, new)
            counts["codec_changes"] += 1
            push(at - 0.004, "sip", (a_ip, b_ip, _sip([f"INVITE sip:b{c}@{b} SIP/2.0", *common,
                                                       f"To: <sip:b{c}@{b}>;tag=b{c}", "CSeq: 2 INVITE",
                                                       "Content-Type: application/sdp"],
                                                      sdp(a, ap, new[0], new[1], tes[0]))))
            push(at - 0.002, "sip", (b_ip, a_ip, _sip(["SIP/2.0 200 OK", *common, f"To: <sip:b{c}@{b}>;tag=b{c}",
                                                       "CSeq: 2 INVITE", "Content-Type: application/sdp"],
                                                      sdp(b, bp, new[0], new[1], tes[1]))))
            push(at - 0.001, "sip", (a_ip, b_ip, _sip([f"ACK sip:b{c}@{b} SIP/2.0", *common,
                                                       f"To: <sip:b{c}@{b}>;tag=b{c}", "CSeq: 2 ACK"])))
        push(end + 0.05, "sip", (a_ip, b_ip, _sip([f"BYE sip:b{c}@{b} SIP/2.0", *common,
                                                   f"To: <sip:b{c}@{b}>;tag=b{c}", "CSeq: 3 BYE"])))
        push(end + 0.052, "sip", (b_ip, a_ip, _sip(["SIP/2.0 200 OK", *common, f"To: <sip:b{c}@{b}>;tag=b{c}",
                                                    "CSeq: 3 BYE"])))
        for k, (src, dst, te) in enumerate(((call["a"], call["b"], tes[1]), (call["b"], call["a"], tes[0]))):
            counts["streams"] += 1
            ssrc = rnd.getrandbits(32)
            digits = sorted(start + rnd.uniform(1.0, max(1.1, duration - 1.5)) for _ in range(digits_per_call))
            stream = {"src": src, "dst": dst, "ssrc": ssrc, "seq": rnd.randrange(65536),
                      "ts": rnd.getrandbits(32), "plan": plan, "change": change, "end": end,
                      "te": te, "digits": digits, "event": None}
            push(start + 0.01 + 0.003 * k, "rtp", stream)

    def rtp(t: float, s: dict) -> None:
        """Emit (or drop, or delay) the stream's packet at ``t``; schedule the next."""
        if s["change"] is not None and t >= s["change"][0]:
            s["plan"], s["change"] = s["change"][1], None
        codec, pt, clock, ptime, size = s["plan"]
        step = int(round(clock * ptime))
        seq, ts = s["seq"], s["ts"]
        ev = s["event"]
        if ev is None and s["digits"] and t >= s["digits"][0]:
            s["digits"].pop(0)
            ev = s["event"] = [rnd.randrange(16), ts, 0]
            counts["digits"] += 1
        if ev is not None:
            code, ev_ts, n = ev
            end = n >= 7
            dur = min(n + 1, 7) * int(clock * 0.02)
            payload = rtp_hdr(0x80, (0x80 if n == 0 else 0) | s["te"], seq, ev_ts, s["ssrc"]) + bytes(
                [code, (0x80 if end else 0) | 10]) + struct.pack("!H", dur & 0xFFFF)
            ev[2] += 1
            if ev[2] >= 10:
                s["event"] = None
            tx = t
        else:
            n = size * int(round(ptime * 100)) if size else opus_sizes[seq % len(opus_sizes)]
            o = (seq * 37) % (len(noise) - 400)
            payload = rtp_hdr(0x80, pt, seq, ts, s["ssrc"]) + noise[o:o + n]
            tx = t
            r = rnd.random()
            if r < loss:
                payload = None
                counts["lost"] += 1
            elif r < loss + reorder:
                tx = t + rnd.randint(1, 3) * ptime + 0.0002      # after 1-3 of its own packets
                counts["reordered"] += 1
        if payload is not None:
            (src_ip, _s, sport), (dst_ip, _d, dport) = s["src"], s["dst"]
            if tx == t:
                frame(t, src_ip, sport, dst_ip, dport, payload)
            else:
                push(tx, "late", (src_ip, sport, dst_ip, dport, payload))
        s["seq"] = (seq + 1) & 0xFFFF
        s["ts"] = (ts + step) & 0xFFFFFFFF
        nxt = t + ptime
        if nxt < s["end"]:
            push(nxt, "rtp", s)

    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        # calls: ``concurrent`` slots, each placing calls back to back (a call's
        # length drawn so that the capture ends near ``packets``)
        c = 0
        if calls_per_second:
            lo, hi = call_seconds or (20.0, 20.0)
            if seconds is None:     # calls of about 2 * 48 packets per second
                seconds = packets / (2 * 48 * (lo + hi) / 2) / calls_per_second
            for c in range(int(seconds * calls_per_second)):
                new_call(c, t0 + c / calls_per_second, rnd.uniform(lo, hi))
        else:
            # packets per call second, both directions: about 2 * 48 (ptimes mixed, ends)
            seconds = packets / (concurrent * 2 * 48.0)
            lo, hi = call_seconds or (max(2.0, seconds / 6), max(4.0, seconds / 2))
            for slot in range(concurrent):
                t = t0 + rnd.uniform(0, 1.0)
                while t < t0 + seconds - 1.0:
                    d = min(rnd.uniform(lo, hi), t0 + seconds - t)
                    new_call(c, t, d)
                    c += 1
                    t += d + rnd.uniform(0.1, 0.5)
        while heap:
            t, _tie, kind, data = heapq.heappop(heap)
            if kind == "rtp":
                rtp(t, data)
            elif kind == "late":
                frame(t, *data)
            else:
                src, dst, body = data
                frame(t, src, 5060, dst, 5060, body)
                counts["sip"] += 1
        f.write(b"".join(out))
    counts["packets"] = count
    return counts


if __name__ == "__main__":
    import argparse
    import time

    ap = argparse.ArgumentParser(description="write a realistic load capture (issue 19)")
    ap.add_argument("path")
    ap.add_argument("--packets", type=int, default=200_000)
    ap.add_argument("--concurrent", type=int, default=200)
    a = ap.parse_args()
    g0 = time.perf_counter()
    print(generate_realistic(Path(a.path), a.packets, a.concurrent), f"{time.perf_counter() - g0:.1f} s")
