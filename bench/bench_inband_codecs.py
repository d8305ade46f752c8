"""Benchmark: what `sipscen analyze --inband` costs per codec (issue 19's last goal).

bench_analyze.py measures the --inband cost on its mixed capture (PCMA, G.722,
opus, G.729); this one writes the same kind of load capture
(``capture_gen.generate_realistic``: calls coming and going, loss, reordering,
telephone-events, codec changes by re-INVITE) once per decodable codec, mixed
only with G.729 (which is never decoded: the re-INVITEs need a second codec),
and times, alternating, ``sipscen analyze --json -`` with and without
``--inband`` on each. It prints the CPU times (the best of --repeat runs each),
the ratio (goal < 3x) and the extra CPU time per decoded packet, with the load
average. The payloads are the generator's (random bytes: loud noise for G.711
and G.722, half of them refused by libopus for opus).

    .venv/bin/python bench/bench_inband_codecs.py [--packets 300000] [--repeat 2]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import capture_gen  # noqa: E402
from bench_analyze import _run  # noqa: E402

MIXES = {"PCMA": ("PCMA", "G729"), "G722": ("G722", "G729"), "opus": ("opus", "G729"),
         "all (bench_analyze's mix)": ("PCMA", "G722", "opus", "G729")}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--packets", type=int, default=300_000)
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--only", choices=sorted(MIXES), action="append")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sipscen-bench-codecs-"))
    py = sys.executable
    try:
        print(f"load average before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
        for name, mix in MIXES.items():
            if args.only and name not in args.only:
                continue
            cap = tmp / "c.pcap"
            saved = capture_gen._REAL_MIX
            capture_gen._REAL_MIX = mix
            try:
                info = capture_gen.generate_realistic(cap, args.packets, concurrent=args.calls)
            finally:
                capture_gen._REAL_MIX = saved
            plain = [py, "-m", "sipscen", "analyze", "--json", "-", str(cap)]
            inband = plain[:-1] + ["--inband", str(cap)]
            pruns, iruns = [], []
            for _ in range(max(1, args.repeat)):
                pruns.append(_run(plain, tmp / "p.json"))
                iruns.append(_run(inband, tmp / "i.json"))
            pcpu = min(r[1] for r in pruns)
            icpu = min(r[1] for r in iruns)
            doc = json.loads((tmp / "i.json").read_text())
            decoded = sum(s["packets"] for s in doc["rtp_streams"] if s.get("audio"))
            seconds = sum(s["audio"]["seconds"] for s in doc["rtp_streams"] if s.get("audio"))
            print(f"{name}: {info['packets']:,} packets, {decoded:,} decoded ({seconds:,.0f} s of audio); "
                  f"plain {pcpu:.2f} CPU s, --inband {icpu:.2f} CPU s: {icpu / pcpu:.1f}x (goal < 3x); "
                  f"{(icpu - pcpu) / max(decoded, 1) * 1e6:.1f} us extra per decoded packet; "
                  f"peak RSS {max(r[2] for r in iruns) / 1024:.0f} MB; load {os.getloadavg()[0]:.2f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
