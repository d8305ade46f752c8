"""Benchmark: `sipscen validate` on a scenario whose include holds a huge `variables:` map.

Issue 12: "a 7 MB include with 600k values takes 23.6 s and 595 MB". A value here
is one YAML scalar: N values are N/2 variables (`  var_0000001: value0000001`,
a key and a value each; 600k values = 300k variables, 8.4 MB, under the loader's
1,000,000-value limit). Each size runs once as a child process; the figures are
its wall time and its own peak RSS (VmHWM, see capture_gen.run_sipscen_measured).
Figures, not assertions (tests/scenario/test_scaling.py bounds the memory).

On a shared 2-core machine (100k / 300k / 600k values):
    before (node graph, a Location per mark, copies)  1.2 s 89 MB, 3.6 s 181 MB, 7.5 s 332 MB
    after  (tree from libyaml events, packed marks)   0.4 s 50 MB, 1.0 s  74 MB, 1.6 s 106 MB
About 35 MB of each peak is the interpreter with sipscen and the schema loaded.

    .venv/bin/python bench/bench_load_scale.py [--values 100000 300000 600000]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from capture_gen import run_sipscen_measured  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def write_scenario(folder: Path, values: int) -> Path:
    """A scenario including `lib.yaml` with values/2 variables; returns the scenario."""
    lib = folder / "lib.yaml"
    with lib.open("w", encoding="utf-8") as f:
        f.write("variables:\n")
        f.writelines(f"  var_{i:07d}: value{i:07d}\n" for i in range(values // 2))
    path = folder / "uses.yaml"
    path.write_text("name: u\ninclude: [lib.yaml]\nagents:\n"
                    "  bob: {type: pjsua, account: {user: '${var_0000001}'}}\n"
                    "  alice: {type: pjsua, steps: [call: {to: bob}, hangup: {}]}\n",
                    encoding="utf-8")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", type=int, nargs="+", default=[100_000, 300_000, 600_000])
    args = parser.parse_args()
    print(f"{'values':>8} {'include':>9} {'seconds':>8} {'peak RSS':>9}  exit")
    for values in args.values:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            path = write_scenario(folder, values)
            size = (folder / "lib.yaml").stat().st_size / 1e6
            wall, kb, code = run_sipscen_measured(["validate", str(path)], folder / "out.txt",
                                                  ROOT)
            print(f"{values:>8,} {size:>7.1f}MB {wall:>8.2f} {kb / 1024:>7.0f}MB  {code}",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
