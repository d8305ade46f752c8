"""The verdict of a scenario: every expectation judged on the evidence, and what
that evidence cannot show made inconclusive.

``prepare`` says what the analysis must produce for the scenario's
expectations (decoded audio, a DTLS scan of the media), as each family
declares it. ``judge`` evaluates the expectations from plain data (agents' and
services' facts, the wire analysis, the board's signal and step times), so a
finished run can be judged again from its saved evidence. ``conclude`` turns
the checks, a failed step and a failed analysis into the scenario's status.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any, Mapping

from sipscen.analysis.result import WireAnalysis
from sipscen.checks import evaluate
from sipscen.checks.context import CheckContext
from sipscen.checks.wire_party import wire_facts
from sipscen.core.errors import ExitStatus
from sipscen.core.events import EventBoard
from sipscen.core.results import ERROR, FAILED, PASSED, WIRE, CheckResult, ScenarioResult
from sipscen.language import registry
from sipscen.scenario.variables import resolve_tree
from sipscen.checks.load_media import summaries


@dataclass(frozen=True)
class Needs:
    """What the analysis of the capture must produce for these expectations."""
    audio: bool = False        # decoded wire audio (and in-band DTMF)
    dtls_scan: bool = False    # a scan of the media ports for DTLS and ciphertext


def prepare(expectations) -> Needs:
    families = registry.expectations()
    audio = dtls = False
    for exp in expectations:
        family = families.get(exp.kind)
        if family is None:
            continue
        audio |= bool(family.needs_for("needs_audio", exp.params))
        dtls |= bool(family.needs_for("needs_dtls_scan", exp.params))
    return Needs(audio=audio, dtls_scan=dtls)


def deferred(expectation) -> bool:
    """Judged once on the sum of a distributed load's generators, not by each."""
    family = registry.expectations().get(expectation.kind)
    return bool(family and family.merged)


def signal_times(board: EventBoard) -> tuple[dict[str, float], float]:
    """Signal name -> board time of its first post; the wall-clock time of board time 0."""
    signals: dict[str, float] = {}
    for ev in board.events(kind="signal"):
        signals.setdefault(str(ev.data.get("name")), ev.t)
    return signals, time.time() - board.now()


def step_times(board: EventBoard) -> dict[tuple[str, int], dict[str, float]]:
    """(agent, step index) -> {"started": t, "done": t} (board times of their first posts)."""
    out: dict[tuple[str, int], dict[str, float]] = {}
    for ev in board.events(kind="step"):
        index = ev.data.get("index")
        if isinstance(index, int):
            out.setdefault((ev.agent, index), {}).setdefault(str(ev.data.get("status")), ev.t)
    return out


def judge(scenario, expectations, *, agents: Mapping[str, Any], services: dict[str, dict],
          wire: WireAnalysis | Mapping[str, Any] | None, wire_error: str | None, contacts: dict,
          wire_audio: dict | None = None, signals: dict | None = None,
          epoch0: float = 0.0, steps: dict | None = None,
          warnings: list[str] | None = None, load: dict | None = None,
          load_expectations=()) -> list[CheckResult]:
    """Evaluate ``expectations``; a service (or an agent whose calls the capture
    tells) is a party whose facts are read from the wire analysis. Media the calls'
    SDP put outside a party's declared ports is added to ``warnings``."""
    expectations = resolved(expectations, contacts, scenario)
    ctx = CheckContext(scenario, agents, wire, dict(contacts), wire_error, services=services)
    facts, wire = ctx.facts, ctx.wire    # records, a WireAnalysis (JSON read through from_dict)
    for name, service_facts in services.items():
        facts[name] = wire_facts(name, ctx.owns, wire, service_facts, ctx.agent_of)
    for name, record in list(facts.items()):
        if getattr(record, "from_wire", False):
            facts[name] = wire_facts(name, ctx.owns, wire, record, ctx.agent_of)
    ctx.wire_audio = wire_audio or {}
    ctx.signals, ctx.epoch0, ctx.steps = signals or {}, epoch0, steps or {}
    if warnings is not None:
        warnings.extend(w for w in ctx.media_warnings() if w not in warnings)
    if load is not None:         # every load agent's media summary and time series
        load.update(summaries(resolved(load_expectations, contacts, scenario), ctx))
        ctx.load = load
    return evaluate(expectations, ctx)


def resolved(expectations, contacts: dict, scenario) -> tuple:
    """The expectations with ``${alice.port}``-style references resolved, as the
    agents' steps are at plan time (a reference left literal could never match)."""
    if not contacts:
        return tuple(expectations)
    folder = scenario.file.parent
    return tuple(replace(e, params=resolve_tree(dict(e.params), contacts, folder))
                 if "${" in repr(e.params) else e for e in expectations)


def inconclusive(checks: list[CheckResult], why: str) -> None:
    """Results resting on a capture known to be incomplete give no verdict: they
    become errors that say why and what the partial capture showed."""
    for check in checks:
        if check.evidence == WIRE:
            shown = f"{check.status} on the partial capture" + (
                f": {check.message}" if check.message else "")
            check.status = ERROR
            check.message = f"inconclusive, the capture is incomplete ({why}); {shown}"


def inconclusive_blind(checks: list[CheckResult], expectations, blind) -> list[str]:
    """Wire results resting on what the capture's filter or snaplen hid
    (``capture.visibility.Blind``: a channel between two parties) give no
    verdict: errors that say "inconclusive", why, and what the capture showed.
    The warnings to report (each reason once)."""
    if not blind:
        return []
    families = registry.expectations()
    by_location = {str(e.location): e for e in expectations}
    for check in checks:
        exp = by_location.get(check.location)
        family = families.get(exp.kind) if exp is not None else None
        if check.evidence != WIRE or family is None or family.wire_needs is None:
            continue
        needs = family.needs_for("wire_needs", exp.params)
        parties = _parties(exp.params)
        hidden = [b for b in blind if b.channel in needs and (
            not parties or "*" in b.parties or parties & set(b.parties))]
        if hidden:
            shown = f"{check.status} on what was captured" + (
                f": {check.message}" if check.message else "")
            more = f" (and {len(hidden) - 1} more)" if len(hidden) > 1 else ""
            check.status = ERROR
            check.message = f"inconclusive, {hidden[0].why}{more}; {shown}"
    reasons = list(dict.fromkeys(b.why for b in blind))
    extra = f" (and {len(reasons) - 5} more)" if len(reasons) > 5 else ""
    return [f"capture blind: {'; '.join(reasons[:5])}{extra}"]


def _parties(params) -> set[str]:
    named = {params.get(k) for k in ("from", "to", "agent", "via", "service")}
    between = params.get("between")
    if isinstance(between, (list, tuple)):
        named |= set(between)
    return {n for n in named if isinstance(n, str)}


def conclude(result: ScenarioResult, step_failure: str | None, *, incomplete: list[str],
             capture_faults: list[str], analysis_failed: bool, wire_error: str | None,
             blind: bool = False) -> None:
    """The scenario's status from its checks (already in ``result.checks``), a
    failed step, and whether the capture and its analysis can be trusted (``blind``:
    its filter or snaplen hid what wire checks need, inconclusive_blind)."""
    if incomplete:
        inconclusive(result.checks, "; ".join(incomplete))
    elif analysis_failed and capture_faults:
        inconclusive(result.checks, "; ".join(capture_faults))
    if step_failure:
        result.error = step_failure
    failed = step_failure or any(c.status != PASSED for c in result.checks)
    result.status = FAILED if failed else PASSED
    if any(c.status == ERROR for c in result.checks):
        result.status = ERROR
    if analysis_failed:      # our tooling failed, not the system under test
        result.status, result.error = ERROR, wire_error
        result.exit_status = int(ExitStatus.INFRASTRUCTURE)
    elif result.status == ERROR and incomplete:
        result.exit_status = int(ExitStatus.INFRASTRUCTURE)
        result.error = result.error or ("the capture is incomplete: wire checks are "
                                        "inconclusive (" + "; ".join(incomplete) + ")")
    if blind and result.status == ERROR and result.exit_status is None:
        # the scenario's own capture settings hid the evidence: its author's to fix
        result.exit_status = int(ExitStatus.INVALID_INPUT)
        result.error = result.error or ("the capture's filter or snaplen hides what "
                                        "wire checks need: they are inconclusive")
    if result.status == ERROR and not result.error:
        # checks without a verdict (inconclusive, or a check that could not run): the
        # scenario says so; a result with neither verdict nor reason reads as cut short
        # by a signal (engine/suite.has_verdict)
        errors = [c.name for c in result.checks if c.status == ERROR]
        result.error = (f"no verdict on {len(errors)} check(s): " + ", ".join(errors[:3])
                        + (f" and {len(errors) - 3} more" if len(errors) > 3 else ""))
        result.exit_status = result.exit_status or int(ExitStatus.INFRASTRUCTURE)


NO_CHECKS = ("passed, no checks: the scenario has no expect:, so only its agents' own steps "
             "were judged (run with --strict to make this a failure)")
NO_CHECKS_STRICT = ("no checks: the scenario has no expect: and --strict makes a scenario "
                    "without checks a failure")


def no_checks(result: ScenarioResult, strict: bool) -> None:
    """A scenario without expectations proves only that its steps ran: reported as
    "passed, no checks" with a warning, or failed under ``strict``. A step that
    failed still fails it either way."""
    result.no_checks = True
    if result.status != PASSED:
        return
    if strict:
        result.status, result.error = FAILED, NO_CHECKS_STRICT
    else:
        result.warnings.append(NO_CHECKS)
