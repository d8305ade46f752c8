"""Benchmark: re-judging a finished run from its saved evidence against running it.

For the demo (examples/demo.yaml) and a 20-call scenario
(bench/scenarios/twenty-calls.yaml: both directions, PCMA and PCMU, SRTP
offered, a tone and a digit per call), runs the scenario once through the
engine (the same code `sipscen run` uses), then re-judges its artifacts folder
N times as `sipscen judge` does (load evidence.json, load and validate the
scenario as it is now, judge), and once more with `--mutate`. Prints the run's
wall time, the re-judge's best and median, the ratio run / re-judge, and the
mutation's time and score. Target: a re-judge well under a second.

A third figure: the same re-judge when an expectation needs decoded wire audio
the run did not decode (the saved capture is re-analysed).

    .venv/bin/python bench/bench_judge.py [--runs 10]
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from sipscen.engine.judge import judge_folder
from sipscen.engine.mutation import mutate_scenario
from sipscen.engine.run import RunOptions, run_scenario
from sipscen.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = [ROOT / "examples" / "demo.yaml", ROOT / "bench" / "scenarios" / "twenty-calls.yaml"]
AUDIO = "  - audio: {from: alice, to: bob, where: wire, tone: {frequency: 440, min_duration: 100ms}}\n"


def timed(fn, runs: int) -> tuple[list[float], object]:
    times, value = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t0)
    return times, value


def bench(path: Path, runs: int, tmp: Path) -> None:
    scenario = load_scenario(path)
    t0 = time.perf_counter()
    result = run_scenario(scenario, RunOptions(artifacts_root=tmp))
    run_wall = time.perf_counter() - t0
    folder = Path(result.artifacts["dir"])
    checks = len(result.checks)
    print(f"{scenario.name}: run {run_wall:.3f}s ({result.status}, {checks} checks, "
          f"capture {(folder / 'capture.pcap').stat().st_size / 1e6:.2f} MB, evidence.json "
          f"{(folder / 'evidence.json').stat().st_size / 1e3:.0f} kB)")
    times, (again, sc, ev) = timed(lambda: judge_folder(folder), runs)
    same = [(c.name, c.status) for c in again.checks] == [(c.name, c.status) for c in result.checks]
    best, median = min(times), statistics.median(times)
    print(f"  re-judge: best {best * 1000:.1f} ms, median {median * 1000:.1f} ms over {runs}; "
          f"ratio run/re-judge {run_wall / median:.0f}x; same verdict as the run: {same}")
    t0 = time.perf_counter()
    report = mutate_scenario(sc, ev)
    mutate = time.perf_counter() - t0
    print(f"  --mutate: {mutate * 1000:.1f} ms for {report.killed + len(report.survivors)} "
          f"mutants ({report.killed} killed)")
    if "alice" in {a.name for a in sc.agents}:
        edited = tmp / f"{path.stem}-audio.yaml"
        edited.write_text(path.read_text() + ("" if path.read_text().endswith("\n") else "\n")
                          + AUDIO)
        times, (audio_result, _, _) = timed(lambda: judge_folder(folder, edited), 3)
        print(f"  re-judge with wire audio (re-analysing the capture): median "
              f"{statistics.median(times) * 1000:.1f} ms ({audio_result.status})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for path in SCENARIOS:
            bench(path, args.runs, Path(tmp))


if __name__ == "__main__":
    main()
