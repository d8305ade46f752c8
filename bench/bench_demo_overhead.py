"""Benchmark: the demo scenario's wall time against the time it scripts.

Runs examples/demo.yaml N times through the engine (the same code `sipscen
run` uses) and prints, per run and on average, the wall time, the scripted
time (sleeps, tone and DTMF durations) and the overhead = wall - scripted, plus
the ratio wall/scripted. Target: overhead under 1 s per scenario.

    .venv/bin/python bench/bench_demo_overhead.py [--runs 5] [FILE]
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from sipscen.engine.run import RunOptions, run_scenario
from sipscen.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("file", nargs="?", default=str(ROOT / "examples" / "demo.yaml"))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    scenario = load_scenario(Path(args.file))
    overheads, walls = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            t0 = time.monotonic()
            result = run_scenario(scenario, RunOptions(artifacts_root=Path(tmp)))
            wall = time.monotonic() - t0
            overhead = wall - result.scripted_wait
            walls.append(wall)
            overheads.append(overhead)
            print(f"run {i + 1}: status={result.status} wall={wall:.3f}s "
                  f"scripted={result.scripted_wait:.3f}s overhead={overhead:.3f}s")
            if result.status != "passed":
                print("   ", result.error or [c.name for c in result.failed_checks])
    scripted = result.scripted_wait
    print(f"\n{scenario.name}: mean wall {statistics.mean(walls):.3f}s, scripted {scripted:.3f}s, "
          f"ratio wall/scripted {statistics.mean(walls) / scripted:.2f}, "
          f"overhead mean {statistics.mean(overheads):.3f}s "
          f"(min {min(overheads):.3f}s, max {max(overheads):.3f}s); target < 1 s")


if __name__ == "__main__":
    main()
