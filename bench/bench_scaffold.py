"""Benchmark: `sipscen scaffold` on a 1-call capture and on a 10,000-call capture with --call.

Generates customer-like traffic (bench/scaffold_traffic.py: 40 phones registering
with digest auth, calls through a proxy, PCMA RTP both ways every 20 ms, RFC 4733
digits on every second call; plain RTP: the generator's SRTP packets are not real
SRTP and would keep the analysis probing keys on every packet), then times, each in a
process of its own (wall time and peak RSS):

  - `sipscen analyze --json` of the capture (the peer: the analysis the scaffold reads);
  - `sipscen analyze --json --inband` and `sipscen validate` of its output (what a
    scaffold of a small capture does besides its own work);
  - `sipscen scaffold CAPTURE -o FILE` of the 1-call capture;
  - `sipscen scaffold CAPTURE --call ID -o FILE` of the big capture (a call in its middle);
  - `sipscen scaffold --list` of the big capture.

    .venv/bin/python bench/bench_scaffold.py [--calls 10000] [--rtp-seconds 1.0] [--runs 3]
"""
from __future__ import annotations

import argparse
import importlib.util
import statistics
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


traffic = _load("scaffold_traffic")
measure = _load("capture_gen").run_sipscen_measured


def timed(label: str, args: list[str], tmp: Path, runs: int) -> float:
    walls, peaks = [], []
    for _ in range(runs):
        wall, kb, code = measure(args, tmp / "out.txt", tmp)
        if code != 0:
            raise SystemExit(f"{label}: exit {code}: {(tmp / 'out.txt').read_text()[-500:]}")
        walls.append(wall)
        peaks.append(kb)
    best = min(walls)
    print(f"  {label:44} {best:7.2f} s (median {statistics.median(walls):.2f} s) "
          f"peak RSS {max(peaks) / 1024:6.0f} MB")
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--rtp-seconds", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-scaffold-") as tmp_name:
        tmp = Path(tmp_name)
        small, big = tmp / "one.pcap", tmp / "big.pcap"
        one = traffic.write_traffic(small, calls=1, rtp_seconds=args.rtp_seconds,
                                    srtp_every=0)
        info = traffic.write_traffic(big, calls=args.calls, rtp_seconds=args.rtp_seconds,
                                     phones=200, spacing=0.05, srtp_every=0)
        pick = info["call_ids"][len(info["call_ids"]) // 2]
        print(f"1-call capture: {one['packets']} packets, "
              f"{small.stat().st_size / 1e6:.1f} MB")
        print(f"{args.calls}-call capture: {info['packets']} packets, "
              f"{big.stat().st_size / 1e6:.0f} MB; --call {pick}")
        print("1 call:")
        a1 = timed("sipscen analyze --json (peer)", ["analyze", str(small), "--json", "-"], tmp,
                   args.runs)
        i1 = timed("sipscen analyze --json --inband (peer)",
                   ["analyze", str(small), "--json", "-", "--inband"], tmp, args.runs)
        s1 = timed("sipscen scaffold", ["scaffold", str(small), "-o", str(tmp / "one.yaml")],
                   tmp, args.runs)
        v1 = timed("sipscen validate of the scaffold (peer)",
                   ["validate", str(tmp / "one.yaml")], tmp, args.runs)
        print(f"  ratio scaffold / analyze: {s1 / a1:.2f}; scaffold / (analyze --inband + "
              f"validate): {s1 / (i1 + v1):.2f}  (a small capture is read with in-band "
              "DTMF detection, and the scaffold validates what it writes)")
        print(f"{args.calls} calls:")
        a2 = timed("sipscen analyze --json (peer)", ["analyze", str(big), "--json", "-"], tmp,
                   args.runs)
        s2 = timed("sipscen scaffold --call ID", ["scaffold", str(big), "--call", pick, "-o",
                                                  str(tmp / "big.yaml")], tmp, args.runs)
        ls = timed("sipscen scaffold --list", ["scaffold", "--list", str(big)], tmp, args.runs)
        print(f"  ratio scaffold --call / analyze: {s2 / a2:.2f}; --list / analyze: "
              f"{ls / a2:.2f}")
        print(f"  per packet: scaffold --call {s2 / info['packets'] * 1e6:.1f} us, "
              f"analyze {a2 / info['packets'] * 1e6:.1f} us")


if __name__ == "__main__":
    main()
