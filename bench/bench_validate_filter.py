"""Benchmark: peak memory of `sipscen validate` on a long capture filter (issue 20).

``capture: {filter: "port 1 or port 1 or ..."}`` is valid BPF; libpcap's
optimiser needs memory far beyond the filter's size (5,000 terms, a 50 KB
file: 4 GB, then validate gave up after 5 s and said "ok"). validate now
refuses a filter over ``bpf.MAX_LENGTH`` characters or ``bpf.MAX_TERMS``
and/or operators before compiling anything.

Each `sipscen validate` runs as a child; the figure is its own peak RSS
(VmHWM) and wall time, next to peers in the same session: the same scenario
with no filter and with a filter at the bounds (compiled in full). With
``--compile-growth`` it also compiles ``port 1 or port 2 ...`` filters of
growing size straight through libpcap (a child each, no bound) to show why
there is one. Figures, not assertions.

    .venv/bin/python bench/bench_validate_filter.py [--terms 5000] [--compile-growth 64 128 256]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from capture_gen import run_sipscen_measured  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "runner"))
from sipscen.capture import bpf  # noqa: E402

_COMPILE = ("import sys, time\n"
            "sys.path.insert(0, sys.argv[2])\n"
            "from sipscen.capture import bpf\n"
            "t = time.perf_counter()\n"
            "error = bpf._compile(bpf._libpcap(), sys.argv[1].encode())\n"
            "took = time.perf_counter() - t\n"
            "kb = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM:'))\n"
            "print(f'{took:.3f} {kb} {error}')\n")


def scenario(folder: Path, name: str, filt: str | None) -> Path:
    path = folder / f"{name}.yaml"
    capture = f'capture: {{filter: "{filt}"}}\n' if filt is not None else ""
    path.write_text("name: bench-filter\nagents: {a: {type: pjsua}}\n" + capture, encoding="utf-8")
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--terms", type=int, default=5000)
    ap.add_argument("--compile-growth", type=int, nargs="*", default=[],
                    help="compile filters of these many distinct ports in full (libpcap, no bound)")
    args = ap.parse_args()
    at_bounds = " or ".join(f"port {i}" for i in range(1, bpf.MAX_TERMS + 2))
    cases = [("no filter", None), (f"{bpf.MAX_TERMS}-operator filter (the bound)", at_bounds),
             (f"{args.terms:,}-term filter", "port 1 or " * args.terms + "port 1")]
    print(f"bounds: {bpf.MAX_LENGTH:,} characters, {bpf.MAX_TERMS} and/or operators; "
          f"libpcap {'found' if bpf.available() else 'NOT found (filters unchecked)'}")
    with tempfile.TemporaryDirectory(prefix="sipscen-bench-filter-") as tmp:
        folder = Path(tmp)
        base = None
        for i, (label, filt) in enumerate(cases):
            path = scenario(folder, f"case{i}", filt)
            wall, kb, code = run_sipscen_measured(["validate", str(path)], folder / "out.txt", ROOT)
            base = base or kb
            size = f"{path.stat().st_size / 1024:.1f} KB file"
            print(f"  validate, {label:34}: exit {code}, peak RSS {kb / 1024:6.1f} MB "
                  f"({kb / base:4.2f}x no filter), {wall:5.2f} s, {size}")
        for n in args.compile_growth:
            expr = "((udp or tcp) and (port 5060)) and (" + " or ".join(
                f"port {i}" for i in range(1, n + 1)) + ")"
            start = time.perf_counter()
            try:
                out = subprocess.run([sys.executable, "-c", _COMPILE, expr, str(ROOT / "runner")],
                                     capture_output=True, text=True, timeout=120).stdout.split()
            except subprocess.TimeoutExpired:
                print(f"  libpcap compile, {n:5} ports: over 120 s")
                continue
            took, kb = float(out[0]), int(out[1])
            print(f"  libpcap compile, {n:5} ports: {took:6.2f} s, peak RSS {kb / 1024:6.1f} MB "
                  f"(child {time.perf_counter() - start:.2f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
