"""Benchmark: the browser agent's start-up time and the memory of the one Chromium
that serves every browser agent of a scenario, against PJSUA agents in the same run.

For N in 1, 4, 8 (``--agents``) it runs a scenario of N browser agents registering
at the example WebRTC SBC (scenarios/lib/kamailio-webrtc-sbc.yaml) and holding
still for a few seconds, then the same with N PJSUA agents (the peer), and prints:

* ready: seconds from the agents' start to all of them ready (the engine's
  ``services_ready`` -> ``agents_ready`` events), and for the browser the part
  that is Chromium plus Playwright connecting (``browser.ready_s`` in its facts);
* memory: the proportional set size (PSS: shared pages split between the
  processes that map them) of every process of the run's Chromium (browser,
  zygotes, renderers, GPU, network and audio services, crash handler) and of
  Playwright's driver, sampled while all agents are registered; for PJSUA the
  PSS of its workers; and the cost per extra agent, ``(M(N) - M(1)) / (N - 1)``.

Goals: ready in under 3 s, under 150 MB per extra browser agent.

    .venv/bin/python bench/bench_browser.py [--agents 1 4 8] [--hold 4]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "SIPSCEN_BENCH_TOKEN"


def scenario_text(kind: str, n: int, hold: float) -> str:
    agents = []
    for i in range(n):
        if kind == "browser":
            agents.append(f"  b{i}: {{type: browser, account: {{registrar: sut}}, "
                          f"steps: [{{signal: up}}, {{sleep: {hold}s}}]}}")
        else:
            agents.append(f"  p{i}: {{type: pjsua, account: {{registrar: sut}}, "
                          f"steps: [{{signal: up}}, {{sleep: {hold}s}}]}}")
    return (f"name: bench-{kind}-{n}\n"
            f"include: [{ROOT}/scenarios/lib/kamailio-webrtc-sbc.yaml]\n"
            f"timeout: 120s\ncapture: false\nagents:\n" + "\n".join(agents) + "\n")


def pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def processes(token: str, kind: str) -> list[int]:
    """The run's Chromium processes (its process group: renderers, zygotes, GPU, network
    and audio services, which do not inherit the environment; its crash handlers and
    Playwright's driver, which do) or its PJSUA workers."""
    found, groups, table = [], set(), []
    needle = f"{TOKEN}={token}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
            mine = needle in (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        pid, pgid = int(entry.name), int(stat[2])
        table.append((pid, pgid))
        if not mine:
            continue
        if kind == "browser" and b"--remote-debugging-port" in cmd:
            groups.add(pid)                   # Chromium leads its own process group
        if kind == "browser" and (b"chrome_crashpad" in cmd or b"run-driver" in cmd):
            found.append(pid)
        if kind == "pjsua" and b"sipscen.agents.pjsua.worker" in cmd:
            found.append(pid)
    return found + [pid for pid, pgid in table if pgid in groups]


def run(kind: str, n: int, hold: float, folder: Path) -> dict:
    from sipscen.engine.run import RunOptions, run_scenario
    from sipscen.scenario.build import load_scenario

    path = folder / f"{kind}-{n}.yaml"
    path.write_text(scenario_text(kind, n, hold))
    token = uuid.uuid4().hex
    os.environ[TOKEN] = token
    out: dict = {}
    thread = threading.Thread(target=lambda: out.setdefault("result", run_scenario(
        load_scenario(path), RunOptions(artifacts_root=folder / "art"))))
    thread.start()
    peak, count = 0, 0
    while thread.is_alive():
        pids = processes(token, kind)
        if pids:
            total = sum(pss_kb(p) for p in pids)
            if total > peak:
                peak, count = total, len(pids)
        time.sleep(0.25)
    thread.join()
    result = out["result"]
    if result.status != "passed":
        sys.exit(f"{kind} x{n}: {result.status}: {result.error}")
    times = {e["kind"]: e["t"] for e in result.events if e["agent"] == "engine"}
    facts = next(iter(result.agents.values()))
    return {"ready_s": times["agents_ready"] - times["services_ready"],
            "chromium_s": (facts.get("browser") or {}).get("ready_s"),
            "pss_mb": peak / 1024.0, "processes": count}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agents", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--hold", type=float, default=4.0, help="seconds the agents stay")
    args = parser.parse_args()
    rows = {}
    with tempfile.TemporaryDirectory(prefix="bench-browser-") as tmp:
        for n in args.agents:
            for kind in ("browser", "pjsua"):
                rows[(kind, n)] = run(kind, n, args.hold, Path(tmp))
    first = args.agents[0]
    print(f"{'agents':>6} | {'browser ready':>13} | {'of which Chromium':>17} | "
          f"{'pjsua ready':>11} | {'ratio':>5} | {'Chromium PSS':>12} | {'pjsua PSS':>9}")
    for n in args.agents:
        b, p = rows[("browser", n)], rows[("pjsua", n)]
        print(f"{n:>6} | {b['ready_s']:>11.2f} s | {b['chromium_s']:>15.2f} s | "
              f"{p['ready_s']:>9.2f} s | {b['ready_s'] / max(p['ready_s'], 1e-3):>5.1f} | "
              f"{b['pss_mb']:>9.0f} MB | {p['pss_mb']:>6.0f} MB   "
              f"({b['processes']} Chromium processes, {p['processes']} PJSUA workers)")
    for n in args.agents:
        if n == first:
            continue
        for kind in ("browser", "pjsua"):
            extra = (rows[(kind, n)]["pss_mb"] - rows[(kind, first)]["pss_mb"]) / (n - first)
            print(f"{kind}: {extra:.0f} MB per extra agent ({first} -> {n} agents)")
    ready = rows[("browser", first)]["ready_s"]
    print(f"goal: one browser agent ready < 3 s: {ready:.2f} s "
          f"({'met' if ready < 3 else 'NOT met'})")
    if len(args.agents) > 1:
        last = args.agents[-1]
        extra = (rows[("browser", last)]["pss_mb"] - rows[("browser", first)]["pss_mb"]) / \
            (last - first)
        print(f"goal: < 150 MB per extra browser agent: {extra:.0f} MB "
              f"({'met' if extra < 150 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
