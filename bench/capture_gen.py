"""Synthetic captures for the memory benchmark and tests: many calls, few or many
RTP packets. Reuses bench_analyze's pcap writer (raw bytes with struct, no scapy).

    generate_calls(path, calls=40_000, rtp_per_stream=4, body_padding=0)

Each call: INVITE with SDP, 200 OK with SDP, ACK, BYE; two RTP streams of
``rtp_per_stream`` G.729 packets. Addresses walk 127.x.y.z so 100k calls fit.
"""
from __future__ import annotations

import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_analyze import PcapWriter, _sdp, _sip  # noqa: E402


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
