#!/usr/bin/env python3
"""Bench: the same SIPp load, bare and through sipscen, on the same machine in one run.

1. bare:    Kamailio (examples/sut) + a SIPp UAS + a SIPp UAC started by hand
            (through sipscen.core.process), the UAC's achieved call rate read
            from its statistics file;
2. sipscen: scenarios/load/smoke-50cps.yaml with the same rate and call count,
            run in this process by ``run_scenario``; sipscen's own CPU (this
            process, every thread; SIPp and Kamailio are children and do not
            count) measured from the moment the agents are ready until the
            caller finished.

Goals: achieved-rate ratio sipscen/bare >= 0.98, sipscen CPU < 5% of a core.
Bounded: at most --calls calls (default 1,000, max 5,000) at --rate (default
50, max 500) per phase; every process is stopped at the end.

    .venv/bin/python bench/bench_sipp_load.py [--rate 50] [--calls 1000] [--json out.json]
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

from sipscen.agents.sipp import stats as sipp_stats  # noqa: E402
from sipscen.core import process  # noqa: E402
from sipscen.core.ports import PortAllocator  # noqa: E402
from sipscen.engine.run import RunOptions, run_scenario  # noqa: E402
from sipscen.engine.services import probe_sip_options  # noqa: E402
from sipscen.scenario.build import load_scenario  # noqa: E402

CFG = ROOT / "examples" / "sut" / "kamailio.cfg"
SMOKE = ROOT / "scenarios" / "load" / "smoke-50cps.yaml"


def bare(rate: float, calls: int, work: Path) -> dict:
    ports = PortAllocator("127.0.0.1")
    sut, uas, uac = ports.port(), ports.port(), ports.port()
    cps = [ports.port(), ports.port()]
    procs = []
    try:
        procs.append(process.start("kamailio", ["kamailio", "-DD", "-E", "-f", str(CFG), "-l",
                                                f"udp:127.0.0.1:{sut}", "-A",
                                                f"UAS_ADDR=127.0.0.1:{uas}"], log_dir=work))
        deadline = time.monotonic() + 10
        while probe_sip_options("127.0.0.1", sut, 0.2) is None:
            if time.monotonic() > deadline:
                raise SystemExit("kamailio did not come up")
        procs.append(process.start("sipp-uas", ["sipp", "-sn", "uas", "-i", "127.0.0.1", "-p",
                                                str(uas), "-nostdin", "-cp", str(cps[0]), "-ci",
                                                "127.0.0.1", "-timeout", "120s"],
                                   log_dir=work, cwd=work))
        time.sleep(0.3)
        uac_dir = work / "uac"
        uac_dir.mkdir()
        t0 = time.monotonic()
        p = process.start("sipp-uac", ["sipp", "-sn", "uac", f"127.0.0.1:{sut}", "-s", "9000",
                                       "-i", "127.0.0.1", "-p", str(uac), "-nostdin", "-cp",
                                       str(cps[1]), "-ci", "127.0.0.1", "-r", str(rate), "-m",
                                       str(calls), "-l", "200", "-timeout", "120s",
                                       "-trace_stat", "-stf", "stat.csv", "-fd", "1"],
                          log_dir=uac_dir, cwd=uac_dir)
        procs.append(p)
        p.wait(timeout=calls / rate + 60)
        wall = time.monotonic() - t0
        s = sipp_stats.summarise(uac_dir / "stat.csv", None, rate, "uac")
        return {"attempted": s["attempted"], "successful": s["successful"],
                "call_rate": s["call_rate"], "wall": round(wall, 3), "exit_code": p.poll()}
    finally:
        for proc in reversed(procs):
            proc.stop()
        ports.release()


def through_sipscen(rate: float, calls: int, work: Path) -> dict:
    text = SMOKE.read_text()
    text = text.replace("    rate: 50\n    calls: 1000\n", f"    rate: {rate:g}\n    calls: {calls}\n")
    text = text.replace("calls_min: 1000", f"calls_min: {calls}")
    text = text.replace("calls_min: 995", f"calls_min: {int(calls * 0.995)}")
    text = text.replace("time_limit: 50s", f"time_limit: {int(calls / rate + 30)}s")
    text = text.replace("timeout: 60s", f"timeout: {int(calls / rate + 40)}s")
    folder = work / "scenarios" / "load"
    folder.mkdir(parents=True)
    (work / "examples").symlink_to(ROOT / "examples")
    path = folder / "bench.yaml"
    path.write_text(text)
    marks: dict[str, tuple[float, float]] = {}

    def listener(event) -> None:
        if event.agent == "engine" and event.kind == "agents_ready":
            marks["start"] = (time.monotonic(), time.process_time())
        elif event.agent == "caller" and event.kind in ("finished", "failed"):
            marks["end"] = (time.monotonic(), time.process_time())

    result = run_scenario(load_scenario(path), RunOptions(artifacts_root=work / "artifacts",
                                                          listeners=[listener]))
    s = result.agents.get("caller", {}).get("stats", {})
    wall = marks["end"][0] - marks["start"][0]
    cpu = marks["end"][1] - marks["start"][1]
    return {"status": result.status, "error": result.error,
            "attempted": s.get("attempted"), "successful": s.get("successful"),
            "call_rate": s.get("call_rate"), "p95_ms": (s.get("response_time_ms") or {}).get("p95"),
            "wall": round(wall, 3), "cpu_seconds": round(cpu, 3),
            "cpu_percent_of_a_core": round(100.0 * cpu / wall, 2) if wall else None,
            "checks": {c.name: c.status for c in result.checks}}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rate", type=float, default=50.0)
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if not (0 < args.rate <= 500 and 0 < args.calls <= 5000):
        ap.error("bounded bench: 0 < rate <= 500, 0 < calls <= 5000")
    for tool in ("sipp", "kamailio"):
        if not shutil.which(tool):
            ap.error(f"{tool} not installed")
    with tempfile.TemporaryDirectory(prefix="bench-sipp-") as tmp:
        work = Path(tmp)
        (work / "bare").mkdir()
        b = bare(args.rate, args.calls, work / "bare")
        (work / "sipscen").mkdir()
        s = through_sipscen(args.rate, args.calls, work / "sipscen")
    ratio = round(s["call_rate"] / b["call_rate"], 4) if b["call_rate"] and s["call_rate"] else None
    report = {"rate": args.rate, "calls": args.calls, "bare": b, "sipscen": s,
              "achieved_rate_ratio": ratio,
              "goals": {"achieved_rate_ratio >= 0.98": ratio is not None and ratio >= 0.98,
                        "sipscen cpu < 5% of a core": (s["cpu_percent_of_a_core"] or 100) < 5.0}}
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0 if all(report["goals"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
