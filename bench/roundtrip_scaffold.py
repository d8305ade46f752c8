"""Round trip of `sipscen scaffold` over the scenario library.

For every scenario (each parameter set) of scenarios/callflows, scenarios/media,
scenarios/register and examples/ (or the paths given):
  1. run it with capture (`sipscen run`, its artifacts keep capture.pcap);
  2. scaffold from that capture (`sipscen scaffold`; a scenario that takes its
     SUT service from an included piece passes `--sut NAME=PIECE`, so the
     scaffold runs the same SUT);
  3. run the scaffolded scenario;
  4. compare the two captures (sipscen.scaffold.roundtrip): the SIP ladder of
     every dialog hop by hop, each call's codec and SRTP suites, the DTMF digits
     by method. A scenario round-trips when the scaffolded run passes and the
     captures agree.
Prints one line per scenario and the share that round-trips.

    .venv/bin/python bench/roundtrip_scaffold.py [-j 2] [--keep DIR] [PATH ...]
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from sipscen.scaffold.roundtrip import (compare, contacts, own_calls, summarise_capture,
                                        sut_options)

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ["scenarios/callflows", "scenarios/media", "scenarios/register", "examples"]
SIPSCEN = [sys.executable, "-m", "sipscen"]


def run(paths: list[str], artifacts: Path, report: Path, jobs: int) -> list[dict]:
    done = subprocess.run(SIPSCEN + ["run", *paths, "-q", "-j", str(jobs), "--artifacts",
                                     str(artifacts), "--json", str(report)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          timeout=3600)
    if not report.is_file():
        raise SystemExit(f"sipscen run wrote no report (exit {done.returncode}): "
                         f"{done.stderr.strip()[-500:]}")
    return json.loads(report.read_text())["scenarios"]


def slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="*", default=[str(ROOT / p) for p in LIBRARY])
    parser.add_argument("-j", "--jobs", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="keep the work folder here")
    parser.add_argument("--originals", type=Path, metavar="JSON",
                        help="reuse the JSON report of an earlier run of the originals")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="sipscen-roundtrip-"))
    work.mkdir(parents=True, exist_ok=True)
    originals = json.loads(args.originals.read_text())["scenarios"] if args.originals else \
        run(args.paths, work / "orig", work / "orig.json", args.jobs)
    scaffolds = work / "scaffolds"
    scaffolds.mkdir(exist_ok=True)
    made: dict[str, dict] = {}
    for r in originals:
        capture = Path(r["artifacts"]["dir"]) / "capture.pcap"
        label = f"{Path(r['file']).parent.name}/{r['name']}"
        out = scaffolds / f"{slug(label)}.yaml"
        entry = made[label] = {"original": r["status"], "capture": capture, "file": out,
                               "own": contacts(r)}
        if not capture.is_file():
            entry["error"] = "no capture"
            continue
        sut = [a for s in sut_options(r["file"]) for a in ("--sut", s)]
        # another run's packets can share port numbers with this one's: its own calls only
        mine = own_calls(capture, entry["own"])
        if mine:
            sut += [a for cid in mine for a in ("--call", cid)]
            entry["foreign"] = True
        done = subprocess.run(SIPSCEN + ["scaffold", str(capture), "-o", str(out), *sut],
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            entry["error"] = f"scaffold exit {done.returncode}: {done.stderr.strip()[-300:]}"
        entry["warnings"] = [line for line in done.stderr.splitlines()
                             if line.startswith("warning:")]
    files = [str(e["file"]) for e in made.values() if "error" not in e]
    results = {r["file"]: r for r in run(files, work / "new", work / "new.json", args.jobs)} \
        if files else {}
    ok = 0
    for name, entry in made.items():
        new = results.get(str(entry["file"]))
        if "error" in entry:
            verdict, why = "NO", entry["error"]
        elif new is None:
            verdict, why = "NO", "the scaffold did not run"
        else:
            diffs = compare(summarise_capture(entry["capture"], entry["own"]),
                            summarise_capture(Path(new["artifacts"]["dir"]) / "capture.pcap",
                                              contacts(new)))
            failed = [c["name"] for c in new.get("checks", [])
                      if c.get("status") not in ("passed",)]
            if new["status"] != "passed":
                why = f"scaffolded run {new['status']}: " + "; ".join(
                    (failed or [new.get("error") or ""])[:3])
                verdict = "NO"
            elif diffs:
                verdict, why = "NO", "; ".join(diffs[:3])
            else:
                verdict, why = "OK", ""
        ok += verdict == "OK"
        print(f"{verdict:3} {name:60} original {entry['original']:7} {why}")
    total = len(made)
    print(f"\nround trip: {ok}/{total} scenarios ({100 * ok / max(1, total):.0f}%) "
          f"reproduced; work folder {work}")
    return 0 if ok == total else 1


if __name__ == "__main__":
    raise SystemExit(main())
