"""The mutation report (``--mutate``) as text lines: per scenario its score and
every survivor, unproven expectation and exemption, with FILE:LINE:COL.
Renders ``sipscen.engine.mutation`` results; decides nothing."""
from __future__ import annotations

from sipscen.engine.mutation import EXEMPT, NO_VERDICT, ScenarioMutation
from sipscen.core.redaction import redact_text


def score_text(killed: int, total: int) -> str:
    pct = f"{100 * killed / total:.1f} %" if total else "n/a"
    return f"{killed}/{total} mutants killed ({pct})"


def lines(reports: list[ScenarioMutation], verbose: bool = False) -> list[str]:
    """Every report's lines, each scenario's secrets masked (core/redaction.py)."""
    out: list[str] = []
    for rep in reports:
        start = len(out)
        _scenario_lines(rep, verbose, out)
        out[start:] = [redact_text(line, rep.secrets) for line in out[start:]]
    if len(reports) > 1:
        killed = sum(r.killed for r in reports)
        total = sum(r.total for r in reports)
        bad = sum(1 for r in reports if r.failing)
        out.append(f"MUTATION {len(reports)} scenarios: {score_text(killed, total)}; "
                   f"{bad} with a survivor or an unproven expectation")
    return out


def _scenario_lines(rep: ScenarioMutation, verbose: bool, out: list[str]) -> None:
    head = "MUTATION OK " if not rep.failing else "MUTATION BAD"
    out.append(f"{head} {rep.name}: {score_text(rep.killed, rep.total)}")
    if rep.error:
        out.append(f"  error: {rep.error}")
    for exp, mutant in rep.survivors:
        out.append(f"  SURVIVED {exp.location}: {exp.kind} ({exp.path}): this expectation "
                   f"cannot fail here: its mutant \"{mutant.what}\" still passes "
                   f"({mutant.detail})")
    for exp in rep.unproven:
        out.append(f"  UNPROVEN {exp.location}: {exp.kind} ({exp.path}): {exp.unproven}")
    for exp in rep.expectations:
        for mutant in exp.mutants:
            if mutant.status == EXEMPT:
                out.append(f"  exempt   {exp.location}: {exp.kind} \"{mutant.what}\": "
                           f"{mutant.detail}")
            elif mutant.status == NO_VERDICT and (verbose or not exp.unproven):
                out.append(f"  no verdict {exp.location}: {exp.kind} \"{mutant.what}\": the "
                           f"evidence cannot judge it ({mutant.detail})")
        if exp.skipped:
            out.append(f"  skipped  {exp.location}: {exp.kind}: {exp.skipped}")
        for note in exp.notes:
            if verbose or note.startswith("exempt:"):
                out.append(f"  note     {exp.location}: {exp.kind}: {note}")
