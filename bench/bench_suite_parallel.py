"""Benchmark: a suite of 20 PJSUA scenarios at -j 1 and at -j 4, same session.

Each scenario is a short call with RFC 4733 DTMF, an in-call pause and full
capture + analysis, like a typical regression case. Prints each suite's wall
time and the ratio (-j 1 / -j 4). Every scenario must pass in both runs.

    .venv/bin/python bench/bench_suite_parallel.py [--scenarios 20] [--jobs 4]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sipscen.engine.run import RunOptions
from sipscen.engine.suite import SuiteOptions, run_suite

TEMPLATE = """
name: bench-call-{i}
timeout: 30s
agents:
  callee:
    type: pjsua
    codecs: [PCMA]
    srtp: {{use: mandatory}}
    steps: [{{wait: {{event: dtmf, digits: "{d}{d}", timeout: 10s}}}}, {{wait: {{event: disconnected}}}}]
  caller:
    type: pjsua
    codecs: [PCMA]
    srtp: {{use: mandatory}}
    steps:
      - call: {{to: callee}}
      - wait: {{event: media_active}}
      - sleep: 1s
      - dtmf: {{digits: "{d}{d}", method: rfc4733, duration: 80ms, gap: 40ms}}
      - sleep: 500ms
      - hangup: {{}}
expect:
  - call: {{from: caller, to: callee, answered: true}}
  - srtp: {{between: [caller, callee]}}
  - dtmf: {{from: caller, to: callee, digits: "{d}{d}"}}
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenarios", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = []
        for i in range(args.scenarios):
            path = folder / f"call{i:02d}.yaml"
            path.write_text(TEMPLATE.format(i=i, d=i % 10))
            files.append(path)
        walls = {}
        for jobs in (1, args.jobs):
            t0 = time.monotonic()
            results = run_suite(files, SuiteOptions(
                run=RunOptions(artifacts_root=folder / f"art-j{jobs}"), jobs=jobs))
            walls[jobs] = time.monotonic() - t0
            passed = sum(r.status == "passed" for r in results)
            print(f"-j {jobs}: {len(results)} scenarios, {passed} passed, "
                  f"wall {walls[jobs]:.2f}s ({walls[jobs] / len(results):.2f}s per scenario)")
            for r in results:
                if r.status != "passed":
                    print(f"   {r.name}: {r.status} {r.error or [c.name for c in r.failed_checks]}")
        print(f"speed-up -j 1 / -j {args.jobs}: {walls[1] / walls[args.jobs]:.2f}x")


if __name__ == "__main__":
    main()
