"""Benchmark: `sipscen analyze --json` against tshark on a generated million-packet capture.

The default capture is a load test's (issue 19; bench/capture_gen.py
``generate_realistic``): about --calls calls at a time coming and going
(INVITE/200/ACK with SDP ... BYE/200), PCMA / G.722 / opus (dynamic PT, VBR
frames of 20-200 B) / G.729 at packet times of 10-40 ms, telephone-events on
per-call, per-side dynamic payload types (96-127) in both directions, 1 % of
the audio lost, 0.5 % reordered (late by 1-3 packets of their stream), and
codec changes by re-INVITE on the same SSRCs for 30 % of the calls.
``--issue9`` gives issue 9's capture (all calls from the start, in order),
``--uniform`` the oldest one (G.729 only, one packet size, no loss); both are
written by ``generate`` here. Then it times, in the same run:

* sipscen:  python -m sipscen analyze --json - FILE            (the default settings)
* sipscen:  python -m sipscen analyze --json - --inband FILE   (in-band DTMF on every decodable stream)
* tshark:   tshark -r FILE -Y rtpevent -T fields ... (the same telephone-events)

(sipscen's bytecode compiled first, as an installed package has it: ``--no-compile``
not) and prints packets/s for each (the run of best CPU time of --repeat runs each, the
tools' runs alternating; wall clock and CPU time), the ratio (goal >= 12x tshark by CPU
time), peak RSS (goal < 150 MB), whether all found the same digits, and what
in-band detection costs against the plain analysis (goal < 3x).

    .venv/bin/python bench/bench_analyze.py [--packets 1000000] [--calls 200] [--uniform | --issue9] [--keep] [--no-compile]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from capture_gen import (CODECS, MIX, PcapWriter, _sdp, _sip,  # noqa: E402
                         generate_realistic)
PTIME = 0.02
DIGITS = "0123456789*#"


def generate(path: Path, packets: int, calls: int, realistic: bool = True) -> dict:
    """Write the capture; returns what it contains (digits per direction)."""
    import random
    rnd = random.Random(9)
    per_stream = max(50, packets // (2 * calls))
    expected_digits = 0
    codec_of = [MIX[c % len(MIX)] if realistic else "G729" for c in range(calls)]
    g711_packets = 0
    with open(path, "wb") as f:
        w = PcapWriter(f)
        t0 = 1_700_000_000.0
        streams = []
        for c in range(calls):
            a_ip, b_ip = bytes([127, 0, 1 + c // 200, 1 + c % 200]), bytes([127, 1, 1 + c // 200, 1 + c % 200])
            a_txt, b_txt = ".".join(map(str, a_ip)), ".".join(map(str, b_ip))
            a_port, b_port = 20000 + 2 * c, 40000 + 2 * c
            te_a, te_b = 96 + c % 15, 112 + (c * 7) % 15     # per side, never one fixed number (nor opus 111)
            cid = f"bench-{c}@{a_txt}"
            t = t0 + c * 0.01
            common = [f"Call-ID: {cid}", f"From: <sip:a{c}@{a_txt}>;tag=a{c}", f"Via: SIP/2.0/UDP {a_txt}:5060"]
            w.udp(t, a_ip, 5060, b_ip, 5060, _sip(
                [f"INVITE sip:b{c}@{b_txt} SIP/2.0", *common, f"To: <sip:b{c}@{b_txt}>", "CSeq: 1 INVITE",
                 "Content-Type: application/sdp"], _sdp(a_txt, a_port, te_a, codec_of[c])))
            w.udp(t + 0.002, b_ip, 5060, a_ip, 5060, _sip(
                ["SIP/2.0 200 OK", *common, f"To: <sip:b{c}@{b_txt}>;tag=b{c}", "CSeq: 1 INVITE",
                 "Content-Type: application/sdp"], _sdp(b_txt, b_port, te_b, codec_of[c])))
            w.udp(t + 0.003, a_ip, 5060, b_ip, 5060, _sip(
                [f"ACK sip:b{c}@{b_txt} SIP/2.0", *common, f"To: <sip:b{c}@{b_txt}>;tag=b{c}", "CSeq: 1 ACK"]))
            # a->b uses b's telephone-event PT (the receiver's SDP), b->a uses a's
            streams.append([a_ip, a_port, b_ip, b_port, 0x10000000 + c, te_b, t + 0.01, c])
            streams.append([b_ip, b_port, a_ip, a_port, 0x20000000 + c, te_a, t + 0.011, c])
        w.flush()
        # RTP: round-robin over streams, 20 ms apart per stream
        hdr = struct.Struct("!BBHII").pack
        # G.711 carries a 1 kHz tone (what in-band detection has to look at), the others filler
        tone = bytes((0x55 ^ (0x80 if i % 8 < 4 else 0)) ^ ((i * 5) % 7) for i in range(160))
        payloads = {name: [tone[:n] if name == "PCMA" else bytes(range(256))[:n] for n in sizes]
                    for name, (_, _, _, sizes) in CODECS.items()}
        prefix = {}
        for src, sport, dst, dport, ssrc, te, start, c in streams:
            prefix[ssrc] = (b"\x00" * 12 + b"\x08\x00", src, dst, sport, dport)
        digit_plan = {}
        for s in streams:
            # 3 digits per stream at packets 20, 60, 100: 7 updates + 3 end packets each
            digit_plan[s[4]] = {20 + 40 * k: DIGITS[(s[7] + k) % 12] for k in range(3) if 20 + 40 * k + 10 < per_stream}
            expected_digits += len(digit_plan[s[4]])
        rec = struct.Struct("<IIII").pack
        buf = []
        for i in range(per_stream):
            for src, sport, dst, dport, ssrc, te, start, c in streams:
                t = start + i * PTIME
                plan = digit_plan[ssrc]
                ev_start = None
                for k0, d in plan.items():
                    if k0 <= i < k0 + 10:
                        ev_start, digit, step = k0, d, i - k0
                        break
                seq = i & 0xFFFF
                codec = codec_of[c]
                pt, _, clock, sizes = CODECS[codec]
                step_ts = clock // 50
                ts = (i * step_ts) & 0xFFFFFFFF
                if ev_start is None:
                    if realistic and rnd.random() < 0.01:
                        continue                          # 1 % loss
                    body = payloads[codec]
                    rtp = hdr(0x80, pt, seq, ts, ssrc) + (body[0] if len(body) == 1 else rnd.choice(body))
                    if codec in ("PCMA", "G722"):
                        g711_packets += 1          # what --inband decodes and searches
                else:
                    code = DIGITS.index(digit)
                    end = step >= 7
                    dur = 160 * (min(step, 6) + 1)
                    mark = 0x80 if step == 0 else 0
                    dur = dur * step_ts // 160
                    rtp = hdr(0x80, mark | te, seq, (ev_start * step_ts) & 0xFFFFFFFF, ssrc) + bytes(
                        [code, (0x80 if end else 0) | 10]) + struct.pack("!H", dur)
                ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 8 + len(rtp), 0, 0x4000, 64, 17, 0, src, dst)
                frame = b"\x00" * 12 + b"\x08\x00" + ip + struct.pack("!HHHH", sport, dport, 8 + len(rtp), 0) + rtp
                sec = int(t)
                buf.append(rec(sec, int((t - sec) * 1e6), len(frame), len(frame)))
                buf.append(frame)
                w.count += 1
            if len(buf) > 40000:
                f.write(b"".join(buf))
                buf = []
        f.write(b"".join(buf))
        # BYEs
        tend = t0 + calls * 0.01 + per_stream * PTIME + 0.1
        w.buf = []
        for c in range(calls):
            a_ip, b_ip = bytes([127, 0, 1 + c // 200, 1 + c % 200]), bytes([127, 1, 1 + c // 200, 1 + c % 200])
            a_txt, b_txt = ".".join(map(str, a_ip)), ".".join(map(str, b_ip))
            cid = f"bench-{c}@{a_txt}"
            w.udp(tend + c * 0.001, a_ip, 5060, b_ip, 5060, _sip(
                [f"BYE sip:b{c}@{b_txt} SIP/2.0", f"Call-ID: {cid}", f"From: <sip:a{c}@{a_txt}>;tag=a{c}",
                 f"To: <sip:b{c}@{b_txt}>;tag=b{c}", f"Via: SIP/2.0/UDP {a_txt}:5060", "CSeq: 2 BYE"]))
        w.flush()
    return {"packets": w.count, "streams": 2 * calls, "digits": expected_digits,
            "g711_seconds": g711_packets * PTIME,
            "codecs": ", ".join(sorted(set(codec_of))) + (", 1 % loss" if realistic else "")}


def _compile(py: str) -> str:
    """Write the bytecode of the sipscen the runs import, as an installed package has
    it (pip compiles at install; the image: setup.sh).  Without it (an editable
    checkout under PYTHONDONTWRITEBYTECODE=1, as on the build box and in the image)
    every start compiles the modules again: about 0.07 CPU s of `analyze`."""
    where = subprocess.run([py, "-c", "import os, sipscen; print(os.path.dirname(sipscen.__file__))"],
                           capture_output=True, text=True, check=True, cwd=ROOT).stdout.strip()
    subprocess.run([py, "-m", "compileall", "-q", where], check=True, cwd=ROOT)
    return where


def _run(argv: list[str], out_path: Path) -> tuple[float, float, int]:
    """Wall time, CPU time (user + system) and peak RSS (KiB) of one child.

    CPU time is the fair figure on a shared machine: other work slows the
    wall clock of both tools, not their CPU time."""
    with open(out_path, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.PIPE, cwd=ROOT)
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        err = proc.stderr.read().decode(errors="replace")[-2000:]
        raise SystemExit(f"{argv[0]} failed ({proc.returncode}): {err}")
    proc.stderr.close()
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--packets", type=int, default=1_000_000)
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--keep", action="store_true", help="keep the generated capture")
    ap.add_argument("--uniform", action="store_true",
                    help="the old capture: G.729 only, one packet size, no loss")
    ap.add_argument("--issue9", action="store_true",
                    help="issue 9's capture: all calls from the start, mixed codecs, 1 %% loss, in order")
    ap.add_argument("--no-tshark", action="store_true")
    ap.add_argument("--no-compile", action="store_true",
                    help="do not write sipscen's bytecode first (each start compiles it if none is there)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs of each tool, alternating; the best is reported (the machine is shared)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sipscen-bench-"))
    try:
        cap = tmp / "bench.pcap"
        g0 = time.perf_counter()
        if args.uniform or args.issue9:
            info = generate(cap, args.packets, args.calls, realistic=not args.uniform)
            print(f"generated {info['packets']:,} packets, {info['streams']} RTP streams ({info['codecs']}), "
                  f"{info['digits']} digits, {info['g711_seconds']:.0f} s of G.711/G.722 audio, "
                  f"{cap.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - g0:.1f} s")
        else:
            info = generate_realistic(cap, args.packets, concurrent=args.calls)
            print(f"generated {info['packets']:,} packets: {info['calls']} calls, about {args.calls} at a "
                  f"time, {info['streams']} RTP streams (PCMA/G722/opus VBR/G729, ptime 10-40 ms), "
                  f"{info['digits']} digits on per-call telephone-event PTs, {info['lost']} lost, "
                  f"{info['reordered']} reordered, {info['codec_changes']} codec changes by re-INVITE, "
                  f"{info['sip']} SIP messages, {cap.stat().st_size / 1e6:.0f} MB "
                  f"in {time.perf_counter() - g0:.1f} s")
        py = sys.executable
        if not args.no_compile:
            print(f"sipscen's bytecode written first (compileall {_compile(py)})")
        sargv = [py, "-m", "sipscen", "analyze", "--json", "-", str(cap)]
        targv = ["tshark", "-r", str(cap), "-Y", "rtpevent", "-T", "fields",
                 "-e", "frame.time_epoch", "-e", "rtp.ssrc", "-e", "rtp.timestamp",
                 "-e", "rtpevent.event_id", "-e", "rtpevent.end_of_event"]
        with_tshark = not args.no_tshark and shutil.which("tshark")
        # the two tools' runs alternate, so that both meet the same load on a shared machine
        iargv = sargv[:-1] + ["--inband", str(cap)]
        runs, truns, iruns = [], [], []
        for _ in range(max(1, args.repeat)):
            runs.append(_run(sargv, tmp / "sipscen.json"))
            iruns.append(_run(iargv, tmp / "inband.json"))
            if with_tshark:
                truns.append(_run(targv, tmp / "tshark.txt"))
        wall, cpu, rss = min(runs, key=lambda r: r[1])     # the best CPU time
        print("sipscen runs (wall s): " + ", ".join(f"{r[0]:.2f}" for r in runs))
        data = json.loads((tmp / "sipscen.json").read_text())
        ours = len(data["dtmf"])
        pps, cpps = data["packets"] / wall, data["packets"] / cpu
        print(f"sipscen analyze --json: wall {wall:.2f} s ({pps:,.0f} packets/s), CPU {cpu:.2f} s "
              f"({cpps:,.0f} packets/s), peak RSS {rss / 1024:.0f} MB, "
              f"{ours} digits, {len(data['rtp_streams'])} streams, {len(data['calls'])} calls")
        iwall, icpu, irss = min(iruns, key=lambda r: r[1])
        idata = json.loads((tmp / "inband.json").read_text())
        found = sum(1 for d in idata["dtmf"] if d["method"] == "inband")
        extra = max(1e-9, icpu - cpu)
        print(f"sipscen analyze --json --inband: wall {iwall:.2f} s, CPU {icpu:.2f} s "
              f"({data['packets'] / icpu:,.0f} packets/s), peak RSS {irss / 1024:.0f} MB, "
              f"{found} in-band digits; {icpu / cpu:.1f}x the plain analysis' CPU time (goal < 3x)"
              + (f"; in-band detection on every G.711/G.722 stream: {info['g711_seconds']:.0f} s of "
                 f"audio in {extra:.2f} extra CPU s = {info['g711_seconds'] / extra:,.0f} audio s per CPU s"
                 if "g711_seconds" in info else ""))
        if not with_tshark:
            return 0
        twall, tcpu, trss = min(truns, key=lambda r: r[1])
        print("tshark runs (wall s):  " + ", ".join(f"{r[0]:.2f}" for r in truns))
        keys = set()
        for line in (tmp / "tshark.txt").read_text().splitlines():
            parts = line.split("\t")
            if len(parts) >= 4:
                keys.add((parts[1], parts[2], parts[3]))
        tpps, tcpps = info["packets"] / twall, info["packets"] / tcpu
        print(f"tshark -Y rtpevent:     wall {twall:.2f} s ({tpps:,.0f} packets/s), CPU {tcpu:.2f} s "
              f"({tcpps:,.0f} packets/s), peak RSS {trss / 1024:.0f} MB, "
              f"{len(keys)} digits (distinct ssrc/timestamp/event)")
        print(f"ratio: sipscen is {pps / tpps:.1f}x tshark's packets/s by wall clock, {cpps / tcpps:.1f}x by CPU "
              f"time (goal >= 12x); with --inband {tcpu / icpu:.1f}x by CPU time; "
              f"sipscen peak RSS {rss / 1024:.0f} MB (goal < 150 MB); "
              f"digits sipscen {ours} / tshark {len(keys)} / generated {info['digits']}")
    finally:
        if args.keep:
            print(f"capture kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
