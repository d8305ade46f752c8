#!/usr/bin/env python3
"""Bench: one SIPp load split across N generator processes, judged on the aggregate.

Kamailio (examples/sut) in front of a SIPp UAS is started once (through
sipscen.core.process); N processes ``sipscen run load.yaml --generator K/N
--json gK.json`` run side by side, each with 1/N of the rate and calls, exactly
as the pods of ``sipscen kube manifests --generators N`` would (minus the
discovery: the scenario targets the SUT's loopback address directly); their
reports are merged as ``sipscen report merge`` / ``kube collect`` do. Printed:
the aggregate achieved call rate against the target, each generator's rate,
success and p95, and the load checks judged on the sum.

Bounded: --rate at most 500 calls/s, --calls at most 5,000, --generators at
most 8; every process is stopped at the end. Figures, not assertions.

    .venv/bin/python bench/bench_distributed_load.py [--generators 2] [--rate 50] [--calls 500]
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sipscen.core import process  # noqa: E402
from sipscen.core.ports import PortAllocator  # noqa: E402
from sipscen.engine.services import probe_sip_options  # noqa: E402
from sipscen.report.merge import merge_reports  # noqa: E402

CFG = ROOT / "examples" / "sut" / "kamailio.cfg"
SCENARIO = """\
name: bench-distributed-load
timeout: {timeout}s
capture: false
agents:
  caller:
    type: sipp
    scenario: uac
    target: 127.0.0.1:{sut}
    user: "9000"
    rate: {rate}
    calls: {calls}
    limit: 200
expect:
  - load: {{agent: caller, calls_min: {calls}, success_rate_min: 99, rate_min_ratio: 0.95,
           p95_ms_max: 200}}
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--generators", type=int, default=2)
    ap.add_argument("--rate", type=float, default=50.0)
    ap.add_argument("--calls", type=int, default=500)
    args = ap.parse_args()
    n = max(1, min(args.generators, 8))
    rate, calls = max(1.0, min(args.rate, 500.0)), max(n, min(args.calls, 5000))
    sipscen = str(Path(sys.executable).with_name("sipscen"))
    work = Path(tempfile.mkdtemp(prefix="sipscen-bench-dist-"))
    ports = PortAllocator()
    sut, uas, control = ports.port(), ports.port(), ports.port()
    procs = []
    try:
        procs.append(process.start("uas", ["sipp", "-sn", "uas", "-i", "127.0.0.1", "-p",
                                           str(uas), "-cp", str(control), "-ci", "127.0.0.1",
                                           "-nostdin", "-timeout", "300s"], log_dir=work,
                                   cwd=work))
        procs.append(process.start("kamailio", ["kamailio", "-DD", "-E", "-f", str(CFG), "-l",
                                                f"udp:127.0.0.1:{sut}", "-A",
                                                f"UAS_ADDR=127.0.0.1:{uas}"], log_dir=work))
        if not process.wait_until(lambda: probe_sip_options("127.0.0.1", sut, 0.2), 10, 0.05):
            raise SystemExit("kamailio did not come up")
        timeout = int(calls / rate * 2 + 20)
        (work / "load.yaml").write_text(SCENARIO.format(timeout=timeout, sut=sut, rate=rate,
                                                        calls=calls))
        started = time.monotonic()
        gens = [process.start(f"gen{k}", [sipscen, "run", "load.yaml", "-q", "--generator",
                                          f"{k}/{n}", "--artifacts", str(work / "art"),
                                          "--json", str(work / f"g{k}.json")],
                              log_dir=work, cwd=work) for k in range(1, n + 1)]
        procs += gens
        codes = [g.wait(timeout + 30) for g in gens]
        wall = time.monotonic() - started
        [result] = merge_reports([work / f"g{k}.json" for k in range(1, n + 1)])
    finally:
        for p in reversed(procs):
            p.stop()
        ports.release()
    print(f"distributed load: {n} generators, target {rate:g} calls/s, {calls} calls "
          f"(generator exit codes {codes}, wall {wall:.1f}s)")
    for k in range(1, n + 1):
        s = json.loads((work / f"g{k}.json").read_text())["scenarios"][0]["agents"]["caller"]["stats"]
        print(f"  generator {k}/{n}: {s['attempted']} calls, achieved {s['call_rate']:g} of "
              f"{s['target_rate']:g} cps, {s['successful']} ok, p95 "
              f"{s['response_time_ms']['p95']} ms")
    s = result.agents["caller"]["stats"]
    ratio = s["call_rate"] / s["target_rate"] if s["target_rate"] else 0.0
    print(f"  aggregate: {s['attempted']} calls, achieved {s['call_rate']:g} of "
          f"{s['target_rate']:g} cps (ratio {ratio:.3f}), success "
          f"{100.0 * s['successful'] / max(1, s['attempted']):.2f}%, p95 "
          f"{s['response_time_ms']['p95']} ms over {s['response_time_ms']['count']} calls")
    print(f"  verdict on the aggregate: {result.status}")
    for c in result.checks:
        print(f"    {c.status.upper():6} {c.name}: expected {c.expected}, got {c.actual}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
