"""The mutation score of the whole library: every scenario in scenarios/ and
examples/ run for real, then every expectation's mutants judged on its run's
evidence (the same code as `sipscen run --mutate`), with the written
exemptions of tests/checks/mutation-exemptions.yaml.

Prints each scenario that is not at 100 % (its survivors and unproven
expectations with FILE:LINE:COL), the scenarios that left no evidence (they
ended before a verdict: say why), the expectations not mutated because they
did not pass, and the total: killed / total mutants, per family too.

    .venv/bin/python bench/mutation_score.py                 # run the library (~5 min)
    .venv/bin/python bench/mutation_score.py --artifacts DIR # judge an earlier run's folders
"""
from __future__ import annotations

import argparse
import io
import json
import tempfile
import time
from collections import Counter
from pathlib import Path

from sipscen.cli import main as sipscen
from sipscen.engine.mutation import (EXEMPT, KILLED, NO_VERDICT, SURVIVED, load_exemptions,
                                      mutate_folders)
from sipscen.report.mutation import lines, score_text

ROOT = Path(__file__).resolve().parent.parent
EXEMPTIONS = ROOT / "tests" / "checks" / "mutation-exemptions.yaml"


def run_library(paths: list[str], art: Path) -> list[dict]:
    report = art / "library.json"
    t0 = time.monotonic()
    code = sipscen(["run", *paths, "--artifacts", str(art), "-q", "--json", str(report)],
                   stdout=io.StringIO(), stderr=io.StringIO())
    doc = json.loads(report.read_text())
    print(f"ran {len(doc['scenarios'])} scenarios in {time.monotonic() - t0:.0f}s "
          f"(exit {code}): {doc['summary']}")
    return doc["scenarios"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="*", default=[str(ROOT / "scenarios"),
                                                      str(ROOT / "examples")])
    parser.add_argument("--artifacts", type=Path,
                        help="judge the run folders already under DIR instead of running")
    parser.add_argument("-v", "--verbose", action="store_true", help="every scenario's line")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        art = args.artifacts or Path(tmp) / "art"
        ran = [] if args.artifacts else run_library(args.paths, art)
        t0 = time.monotonic()
        judged = mutate_folders(art, exemptions=load_exemptions(EXEMPTIONS))
        took = time.monotonic() - t0
        for s in ran:   # (names in the JSON report are masked: tell runs by their folder)
            folder = Path((s.get("artifacts") or {}).get("dir") or "/nonexistent")
            if not (folder / "evidence.json").is_file():
                print(f"NO EVIDENCE {s['name']} ({s['status']}): {s.get('error') or '?'}"[:300])
    reports = [rep for _, rep in judged]
    shown = reports if args.verbose else [r for r in reports if r.failing or any(
        e.skipped for e in r.expectations)]
    for rep in shown:
        for line in lines([rep]):
            print(line)
    families: Counter = Counter()
    alive: Counter = Counter()
    for rep in reports:
        for e in rep.expectations:
            families[e.kind] += sum(m.status == KILLED for m in e.mutants)
            alive[e.kind] += sum(m.status == SURVIVED for m in e.mutants) + bool(e.unproven)
    killed = sum(r.killed for r in reports)
    total = sum(r.total for r in reports)
    exempt = sum(m.status == EXEMPT for r in reports for e in r.expectations for m in e.mutants)
    skipped = sum(bool(e.skipped) for r in reports for e in r.expectations)
    unjudged = sum(m.status == NO_VERDICT for r in reports for e in r.expectations
                   for m in e.mutants)
    print("per family (killed / not killed): " + ", ".join(
        f"{k} {families[k]}/{alive[k]}" for k in sorted(families)))
    print(f"LIBRARY MUTATION SCORE: {score_text(killed, total)} over {len(reports)} scenarios "
          f"with evidence{f' (of {len(ran)} run)' if ran else ''}; {exempt} exempt with a written reason; "
          f"{unjudged} mutants the evidence could not judge (not counted); {skipped} expectations not "
          f"mutated (did not pass); {sum(r.failing for r in reports)} scenarios below 100 %; "
          f"judging took {took:.1f}s")


if __name__ == "__main__":
    main()
