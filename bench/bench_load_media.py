#!/usr/bin/env python3
"""Bench: load with media both ways against the same load without media, in one session.

For each rate (20 and 50 calls/s by default), two runs through the example
Kamailio SUT, both through ``run_scenario`` with the capture on:

1. media:    scenarios/load/media-<rate>cps.yaml's shape: the generated SIPp
             caller and callee each play 3 s of real speech (g711a-3s.pcap)
             from a port of their own in every call;
2. no media: the same SIPp built-in ``uac``/``uas`` with the same rate, calls
             and call length (``duration: 3s``), no RTP at all.

Measured per run, from the capture (the same way for both): the achieved call
rate (INVITEs of answered calls over the time between the first and the last
one), the calls answered, RTP packets; and for the media run the time
``analyze_capture`` takes on its capture (CPU), beside ``tshark -z rtp,streams``
on the same file (its peer, the child's CPU), the two-way/one-way counts and
MOS p5. (The analyser's own speed on big captures is bench_analyze.py's.)

Bounded: --calls (default rate x 6 s, at most 600) per run, each run within
its scenario timeout; every process is stopped by the engine.

    .venv/bin/python bench/bench_load_media.py [--rates 20,50] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "runner"))

from sipscen.analysis import analyze_capture  # noqa: E402
from sipscen.engine.run import RunOptions, run_scenario  # noqa: E402
from sipscen.scenario.build import load_scenario  # noqa: E402

PCAP = ROOT / "scenarios" / "load" / "audio" / "g711a-3s.pcap"
CFG = ROOT / "examples" / "sut" / "kamailio.cfg"

HEAD = """name: bench-load-{kind}-{rate}
timeout: 60s
capture: {{buffer: 256MiB}}
services:
  sut:
    command: [kamailio, -DD, -E, -f, {cfg}, -l, "udp:127.0.0.1:${{sut.port}}",
              -A, "UAS_ADDR=${{uas.hostport}}"]
    ready: {{sip_options: true, timeout: 10s}}
agents:
"""
MEDIA = """  uas:
    type: sipp
    scenario: uas
    calls: {calls}
    media: {{play_pcap: {pcap}}}
  caller:
    type: sipp
    target: sut
    user: "9000"
    rate: {rate}
    calls: {calls}
    limit: {limit}
    duration: 0
    time_limit: 50s
    media: {{play_pcap: {pcap}}}
"""
BARE = """  uas:
    type: sipp
    scenario: uas
  caller:
    type: sipp
    target: sut
    user: "9000"
    rate: {rate}
    calls: {calls}
    limit: {limit}
    duration: 3200ms
    time_limit: 50s
"""
TAIL = """expect:
  - load: {{agent: caller, calls_min: {calls}, two_way_media_min: 0}}
"""


def achieved(wire: dict, caller: str) -> tuple[float, int]:
    """(calls/s between the first and the last answered INVITE, answered calls)."""
    starts = sorted(c["start"] for c in wire.get("calls") or []
                    if c.get("status") and 200 <= c["status"] < 300 and c.get("start")
                    and "sipp@" in str(c.get("from")))      # SIPp's calls, nobody else's
    if len(starts) < 2:
        return 0.0, len(starts)
    return (len(starts) - 1) / (starts[-1] - starts[0]), len(starts)


def one(kind: str, rate: int, calls: int, work: Path) -> dict:
    path = work / f"{kind}-{rate}.yaml"
    body = (MEDIA if kind == "media" else BARE).format(rate=rate, calls=calls, pcap=PCAP,
                                                       limit=max(50, rate * 5))
    tail = TAIL.format(calls=calls) if kind == "media" else (
        "expect:\n  - load: {agent: caller, calls_min: %d}\n" % calls)
    path.write_text(HEAD.format(kind=kind, rate=rate, cfg=CFG) + body + tail)
    t0 = time.monotonic()
    result = run_scenario(load_scenario(path), RunOptions(artifacts_root=work / "art"))
    wall = time.monotonic() - t0
    cps, answered = achieved(result.wire, "caller")
    rtp = sum(int(s.get("packets") or 0) for s in result.wire.get("rtp_streams") or [])
    out = {"kind": kind, "rate": rate, "calls": calls, "status": result.status,
           "answered": answered, "achieved_cps": round(cps, 2),
           "rate_ratio": round(cps / rate, 3), "rtp_packets": rtp, "wall_s": round(wall, 2),
           "pcap": result.artifacts.get("pcap")}
    if kind == "media":
        pcap = result.artifacts["pcap"]
        out["pcap_mb"] = round(Path(pcap).stat().st_size / 1e6, 2)
        t = time.process_time()
        analysis = analyze_capture(pcap)
        analysis.to_dict()
        out["analysis_cpu_s"] = round(time.process_time() - t, 3)
        if shutil.which("tshark"):
            import resource
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run(["tshark", "-n", "-r", pcap, "--enable-heuristic=rtp_udp", "-q",
                            "-z", "rtp,streams"], capture_output=True, check=True, timeout=300)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            out["tshark_rtp_streams_s"] = round(after.ru_utime + after.ru_stime
                                                - before.ru_utime - before.ru_stime, 3)
            out["analysis_vs_tshark"] = round(out["tshark_rtp_streams_s"]
                                              / max(out["analysis_cpu_s"], 1e-6), 2)
        summary = result.load.get("caller") or {}
        for key in ("calls", "two_way", "one_way", "silent", "not_whole"):
            out[key] = summary.get(key)
        from sipscen.checks.load_media import hist_percentile
        out["mos_p5"] = hist_percentile((summary.get("histograms") or {}).get("mos") or {},
                                        "mos", 5)
        out["one_way_calls"] = (summary.get("one_way_calls") or [])[:3]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rates", default="20,50")
    ap.add_argument("--seconds", type=float, default=6.0, help="seconds of calls per run")
    ap.add_argument("--json")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-load-media-") as tmp:
        for rate in [int(r) for r in args.rates.split(",")]:
            calls = min(600, max(20, int(rate * args.seconds)))
            for kind in ("bare", "media"):
                row = one(kind, rate, calls, Path(tmp))
                row.pop("pcap", None)
                rows.append(row)
                print(json.dumps(row), flush=True)
    print("\nrate  kind   achieved cps  ratio  answered  rtp pkts  analysis s  tshark s  x")
    for r in rows:
        print(f"{r['rate']:>4}  {r['kind']:<5}  {r['achieved_cps']:>12}  {r['rate_ratio']:>5}  "
              f"{r['answered']:>8}  {r['rtp_packets']:>8}  {r.get('analysis_cpu_s', '-'):>10}  "
              f"{r.get('tshark_rtp_streams_s', '-'):>8}  {r.get('analysis_vs_tshark', '-')}")
    for rate in sorted({r["rate"] for r in rows}):
        b = next(r for r in rows if r["rate"] == rate and r["kind"] == "bare")
        m = next(r for r in rows if r["rate"] == rate and r["kind"] == "media")
        if b["achieved_cps"]:
            print(f"{rate} cps: achieved rate with media / without = "
                  f"{m['achieved_cps'] / b['achieved_cps']:.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
