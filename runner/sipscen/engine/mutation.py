"""``--mutate``: prove that every expectation can fail on the run's own evidence.

For each expectation whose original judgement passed, its family's mutator
(checks/mutants.py, declared on the family: ``ExpectationFamily.mutate``) makes
falsified copies; each is judged on the same evidence by the same path as the
run (engine/judge.py). A mutant that fails is *killed*. One that still passes
*survives*: "this expectation cannot fail here", a vacuous check, reported
with the expectation's FILE:LINE:COL. A mutant the evidence cannot judge
(an error, inconclusive: a browser's own DTMF, media inside DTLS) proves
nothing either way: listed as "no verdict", not counted; an expectation whose
every mutant is so is unproven.

An expectation whose original judgement did not pass is not mutated (said so);
a family without a mutator is reported as "no mutator" and counts as unproven,
never as killed. A survivor that is true by design is exempted in an
exemptions file, each with its written reason (:func:`load_exemptions`).

The score of a scenario is killed / (killed + survived + unproven). Prints
nothing; ``report/mutation.py`` renders it.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
import json
from dataclasses import asdict

from sipscen.core.errors import ScenarioError, UsageError
from sipscen.core.results import FAILED, PASSED
from sipscen.engine.evidence_store import Evidence
from sipscen.core.atomic import write_text_atomically
from sipscen.core.redaction import redact
from sipscen.engine.judge import judge_folders
from sipscen.language import registry
from sipscen.engine.judge import judged_expectations
from sipscen.engine.judge import judge_checks
from sipscen.checks import verdict
from sipscen.core.errors import Location
from sipscen.scenario.marks import locate, to_plain
from sipscen.scenario.loader import load_yaml_file

KILLED, SURVIVED, EXEMPT = "killed", "survived", "exempt"
NO_VERDICT = "no verdict"      # the evidence cannot judge the mutant (inconclusive, error)


@dataclass
class MutantOutcome:
    what: str
    status: str                    # killed | survived | exempt | no verdict
    detail: str = ""               # what the mutant's judgement said (or the exemption's reason)


@dataclass
class ExpectationMutation:
    kind: str
    path: str                      # expect[3]
    location: str                  # FILE:LINE:COL
    skipped: str = ""              # why no mutant was judged ("did not pass: ...")
    unproven: str = ""             # "no mutator", "no mutant can be made here: ..."
    notes: list[str] = field(default_factory=list)
    mutants: list[MutantOutcome] = field(default_factory=list)


@dataclass
class ScenarioMutation:
    name: str
    file: str
    expectations: list[ExpectationMutation] = field(default_factory=list)
    error: str = ""                # the mutation could not be made at all (no evidence)
    # the scenario's secrets: masked in every line and file made from this (never shown)
    secrets: list[str] = field(default_factory=list, repr=False)

    def count(self, status: str) -> int:
        return sum(1 for e in self.expectations for m in e.mutants if m.status == status)

    @property
    def killed(self) -> int:
        return self.count(KILLED)

    @property
    def unproven(self) -> list[ExpectationMutation]:
        return [e for e in self.expectations if e.unproven]

    @property
    def survivors(self) -> list[tuple[ExpectationMutation, MutantOutcome]]:
        return [(e, m) for e in self.expectations for m in e.mutants if m.status == SURVIVED]

    @property
    def total(self) -> int:
        """Mutants judged and not exempted, plus one per unproven expectation."""
        return self.killed + len(self.survivors) + len(self.unproven)

    @property
    def score(self) -> float | None:
        return self.killed / self.total if self.total else None

    @property
    def failing(self) -> bool:
        """A survivor or an unproven expectation that no exemption covers."""
        return bool(self.survivors or self.unproven or self.error)


# --- exemptions ---------------------------------------------------------------------
@dataclass(frozen=True)
class Exemption:
    file: str          # the scenario file (its path ends with this)
    expect: int        # the expectation's index in `expect:` (expect[N])
    mutant: str        # a substring of the mutant's description; "" = every mutant of it
    reason: str        # why it may survive: true by design

    def covers(self, file: str, path: str, what: str) -> bool:
        return (Path(file).as_posix().endswith(self.file) and path == f"expect[{self.expect}]"
                and self.mutant in what)


def load_exemptions(path: Path | None) -> list[Exemption]:
    """An exemptions file: a YAML list of {file, expect, mutant?, reason}, the
    reason required and written out. ScenarioError (FILE:LINE:COL) when malformed."""
    if path is None:
        return []
    if not Path(path).is_file():
        raise UsageError(f"--exemptions {path}: no such file")
    tree = load_yaml_file(path)
    items = to_plain(tree) if tree is not None else []
    if not isinstance(items, list):
        raise ScenarioError("an exemptions file is a list of {file, expect, mutant, reason}",
                            Location(str(path), 1, 1))
    out = []
    for i, item in enumerate(items):
        where = locate(tree, [i]) if hasattr(tree, "mark") else Location(str(path), 1, 1)
        if not isinstance(item, dict) or set(item) - {"file", "expect", "mutant", "reason"}:
            raise ScenarioError("an exemption is {file, expect, mutant, reason}", where,
                                f"[{i}]")
        reason = str(item.get("reason") or "").strip()
        if not item.get("file") or not isinstance(item.get("expect"), int) or not reason:
            raise ScenarioError("an exemption needs file, expect (the index in expect:) and "
                                "a written reason", where, f"[{i}]")
        out.append(Exemption(str(item["file"]), int(item["expect"]),
                             str(item.get("mutant") or ""), reason))
    return out


# --- judging mutants ------------------------------------------------------------------
def _checks(scenario, expectation, ev: Evidence) -> list:
    """One expectation's results as the run's verdict would have them (the
    capture's blind spots and a known-incomplete capture made inconclusive)."""
    checks, _ = judge_checks(scenario, (expectation,), ev, [])
    incomplete = list(ev.wire.incomplete if ev.wire else [])
    if incomplete:
        verdict.inconclusive(checks, "; ".join(incomplete))
    elif ev.analysis_failed and ev.capture_faults:
        verdict.inconclusive(checks, "; ".join(ev.capture_faults))
    return checks


def _said(checks) -> str:
    bad = [c for c in checks if c.status != PASSED]
    c = (bad or checks or [None])[0]
    if c is None:
        return "no result"
    text = f"{c.status}: {c.name}" + (f": {c.message}" if c.message else "")
    return text if len(text) <= 200 else text[:197] + "..."


def mutate_scenario(scenario, ev: Evidence, exemptions: list[Exemption] = ()
                    ) -> ScenarioMutation:
    """Every expectation's mutants judged on ``ev`` (see the module doc)."""
    families = registry.expectations()
    report = ScenarioMutation(scenario.name, str(scenario.file),
                              secrets=sorted(scenario.secrets))
    for exp in judged_expectations(scenario, ev):
        entry = ExpectationMutation(exp.kind, exp.path, str(exp.location))
        report.expectations.append(entry)
        original = _checks(scenario, exp, ev)
        if not original or any(c.status != PASSED for c in original):
            entry.skipped = f"not mutated: its own judgement did not pass ({_said(original)})"
            continue
        family = families.get(exp.kind)
        mutator = family.mutator() if family is not None else None
        if mutator is None:
            entry.unproven = f"no mutator: the family '{exp.kind}' declares none"
            continue
        try:
            mutants, entry.notes = mutator(dict(exp.params), original)
        except Exception as exc:  # noqa: BLE001 - a broken mutator is said, never fatal
            entry.unproven = f"the mutator of '{exp.kind}' failed: {exc!r}"
            continue
        if not mutants:
            entry.unproven = "no mutant can be made here" + (
                f": {'; '.join(entry.notes)}" if entry.notes else "")
            continue
        for mutant in mutants:
            falsified = replace(exp, kind=mutant.kind or exp.kind, params=mutant.params)
            checks = _checks(scenario, falsified, ev)
            killed = any(c.status == FAILED for c in checks)
            outcome = MutantOutcome(mutant.what, KILLED if killed else SURVIVED, _said(checks))
            if not killed and (not checks or any(c.status != PASSED for c in checks)):
                # the evidence cannot judge this copy (a browser's own DTMF, DTLS media):
                # it proves nothing either way; an expectation whose every mutant is so
                # is unproven
                outcome.status = NO_VERDICT
            elif not killed:
                exempt = next((x for x in exemptions
                               if x.covers(scenario.file, exp.path, mutant.what)), None)
                if exempt is not None:
                    outcome.status, outcome.detail = EXEMPT, exempt.reason
            entry.mutants.append(outcome)
        if entry.mutants and all(m.status == NO_VERDICT for m in entry.mutants):
            entry.unproven = ("no mutant could be judged on this evidence: "
                              + entry.mutants[0].detail)
    for entry in report.expectations:       # an unproven expectation exempted as a whole
        if entry.unproven:
            exempt = next((x for x in exemptions if x.covers(scenario.file, entry.path, "")
                           and not x.mutant), None)
            if exempt is not None:
                entry.notes.append(f"exempt: {exempt.reason} (was: {entry.unproven})")
                entry.unproven = ""
    return report


def mutate_folders(path: Path, scenario_path: Path | None = None, *, variables=None,
                   exemptions: list[Exemption] = ()) -> list[tuple[Any, ScenarioMutation]]:
    """(re-judged result, mutation) of every run saved under ``path``."""
    return [(result, mutate_scenario(scenario, ev, exemptions) if scenario is not None
             else ScenarioMutation(result.name, result.file, error=str(result.error)))
            for result, scenario, ev in judge_folders(path, scenario_path, variables=variables)]



def to_dict(report: ScenarioMutation) -> dict[str, Any]:
    """The report as JSON data (``mutation.json``)."""
    return redact({"kind": "sipscen-mutation", "version": 1, "scenario": report.name,
                   "file": report.file, "killed": report.killed, "total": report.total,
                   "score": report.score, "failing": report.failing, "error": report.error,
                   "expectations": [asdict(e) for e in report.expectations]}, report.secrets)


def save(report: ScenarioMutation, folder: Path) -> Path:
    """``folder/mutation.json`` (next to the evidence it was judged on), whole or not
    at all; ReportWriteError when it cannot be written."""
    return write_text_atomically(Path(folder) / "mutation.json", "mutation",
                                 json.dumps(to_dict(report), indent=1) + "\n")
