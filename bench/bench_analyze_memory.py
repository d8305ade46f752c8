"""Benchmark: peak memory of `sipscen analyze --json` on a load test's capture,
side by side with tshark on the same file.

Captures (generated, bench/capture_gen.py): 10k, 40k and 100k calls (INVITE/200/
ACK/BYE with SDP, two short RTP streams each), one of 1M RTP packets, and a soak
(issue 19): 10 minutes of calls starting at 20/s, 20 s each, media both ways
(mixed codecs and packet times, digits, loss, reordering, codec changes:
``generate_realistic``), about 23M packets; the goal is under 300 MB. Each
tool runs once per file as a child process; the figures are its peak RSS
(sipscen: its own VmHWM; tshark: getrusage) and wall time. tshark runs `-q -z sip,stat -z rtp,streams`: it
dissects every SIP message and RTP packet and prints SIP and stream statistics,
the closest it has to what `analyze` reports. Figures, not assertions; the goal
(issue 12) is sipscen under 300 MB for 40k calls, flat in RTP packets.

    .venv/bin/python bench/bench_analyze_memory.py [--calls 10000 40000 100000] [--rtp 1000000]
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from capture_gen import (generate_calls, generate_realistic, generate_rtp,  # noqa: E402
                         run_sipscen_measured)

ROOT = Path(__file__).resolve().parent.parent


def measure(argv: list[str], out: Path) -> tuple[float, int, int]:
    """Wall seconds, peak RSS (KiB) and exit code of one child."""
    with open(out, "wb") as f:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=f, stderr=subprocess.DEVNULL, cwd=ROOT)
        _pid, status, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - start, usage.ru_maxrss, os.waitstatus_to_exitcode(status)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, nargs="*", default=[10_000, 40_000, 100_000])
    ap.add_argument("--rtp", type=int, default=1_000_000, help="RTP packets of the last file")
    ap.add_argument("--no-tshark", action="store_true")
    ap.add_argument("--soak-minutes", type=float, default=10.0,
                    help="a soak capture of that many minutes at 20 calls/s, 20 s calls with media "
                         "both ways (0: none); tshark is not run on it (it would take minutes)")
    args = ap.parse_args()
    tshark = None if args.no_tshark else shutil.which("tshark")
    tmp = Path(tempfile.mkdtemp(prefix="sipscen-bench-mem-"))
    rows = []
    try:
        files = [(f"{n // 1000}k calls", n, None) for n in args.calls]
        if args.rtp:
            files.append((f"{args.rtp / 1e6:g}M RTP packets", None, args.rtp))
        if args.soak_minutes:
            files.append((f"soak {args.soak_minutes:g} min", None, None))
        for label, calls, rtp in files:
            path = tmp / "capture.pcap"
            if label.startswith("soak"):
                g0 = time.perf_counter()
                info = generate_realistic(path, calls_per_second=20, call_seconds=(20.0, 20.0),
                                          seconds=60 * args.soak_minutes)
                packets = info["packets"]
                print(f"soak capture: {info['calls']:,} calls at 20/s for {args.soak_minutes:g} min, "
                      f"20 s each, {info['streams']:,} streams, {packets:,} packets, "
                      f"{path.stat().st_size / 1e9:.2f} GB, generated in {time.perf_counter() - g0:.0f} s",
                      flush=True)
            else:
                packets = (generate_calls(path, calls, rtp_per_stream=4) if calls
                           else generate_rtp(path, rtp))
            size = path.stat().st_size / 1e6
            wall, rss, code = run_sipscen_measured(["analyze", "--json", "-", str(path)],
                                                   tmp / "out.json", ROOT)
            json_mb = (tmp / "out.json").stat().st_size / 1e6
            row = [label, f"{packets:,}", f"{size:.0f} MB", f"{rss / 1024:.0f} MB", f"{wall:.1f} s",
                   f"{json_mb:.0f} MB" if code == 0 else f"exit {code}"]
            if tshark and not label.startswith("soak"):
                twall, trss, tcode = measure([tshark, "-r", str(path), "-q", "-z", "sip,stat",
                                              "-z", "rtp,streams"], tmp / "tshark.txt")
                row += [f"{trss / 1024:.0f} MB", f"{twall:.1f} s" if tcode == 0 else f"exit {tcode}"]
            elif tshark:
                row += ["-", "-"]
            rows.append(row)
            print("  ".join(row), flush=True)
            path.unlink()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    head = ["capture", "packets", "pcap", "sipscen peak RSS", "sipscen wall", "JSON"]
    if tshark:
        head += ["tshark peak RSS", "tshark wall"]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    print()
    print(" | ".join(h.ljust(w) for h, w in zip(head, widths)))
    print("-|-".join("-" * w for w in widths))
    for r in rows:
        print(" | ".join(c.ljust(w) for c, w in zip(r, widths)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
