"""A verdict from evidence: the run's own, and ``sipscen judge`` re-judging a
finished run from its saved evidence without placing a call.

:func:`judge_checks` and :func:`apply_verdict` are the one path from evidence
(engine/evidence_store.py) to a verdict: ``run`` calls them with what it just
gathered, ``judge`` with what a run saved, so both judge alike (the checks
themselves are checks/verdict.py's). :func:`judge_folder` loads the scenario
as it is now, checks that the evidence is its own, re-analyses the saved
capture when an expectation needs decoded audio (or a DTLS scan) the saved
analysis lacks, and returns a :class:`ScenarioResult`. Prints nothing.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Mapping

from sipscen.analysis.result import WireAnalysis
from sipscen.checks import verdict
from sipscen.core.errors import ExitStatus, SipscenError, UsageError
from sipscen.core.model import Scenario
from sipscen.core.results import ERROR, CheckResult, ScenarioResult
from sipscen.engine.evidence_store import FILE_NAME, Evidence, load
from sipscen.capture.tcpdump import rotated_files
from sipscen.engine.generators import split_scenario
from sipscen.scenario import load_scenarios
from sipscen.engine.generators import deferred_record
from sipscen.engine import interrupts


def judged_expectations(scenario: Scenario, ev: Evidence) -> tuple:
    """What a run judges itself: a generator of a distributed load leaves the load
    expectations to the merge of every generator's report."""
    if ev.generator is None:
        return tuple(scenario.expectations)
    return tuple(e for e in scenario.expectations if not verdict.deferred(e))


def judge_checks(scenario: Scenario, expectations, ev: Evidence,
                 warnings: list[str] | None = None,
                 load: dict | None = None) -> tuple[list[CheckResult], list[str]]:
    """(every expectation's results, the capture-blind warnings): the checks on the
    evidence, and those resting on what the capture could not see made inconclusive.
    ``load`` receives every load agent's media summary (checks/load_media.py)."""
    checks = verdict.judge(
        scenario, expectations, agents=ev.agents, services=ev.services, wire=ev.wire,
        wire_error=ev.wire_error, contacts=ev.contacts, wire_audio=ev.wire_audio or {},
        signals=ev.signals, epoch0=ev.epoch0, steps=ev.steps, warnings=warnings, load=load,
        load_expectations=[e for e in scenario.expectations if e.kind == "load"])
    blind = verdict.inconclusive_blind(checks, expectations, ev.blind or [])
    if ev.saved and scenario.secrets:
        _secrets_masked(checks, expectations, scenario.secrets)
    return checks, blind


def _secrets_masked(checks, expectations, secrets) -> None:
    """Saved evidence holds the run's secrets masked (***): an expectation that names
    a secret cannot be judged on it again, only by the run itself (inconclusive)."""
    named = {str(e.location) for e in expectations
             if any(str(x) in repr(dict(e.params)) for x in secrets if str(x))}
    for check in checks:
        if check.location in named:
            shown = f"{check.status} on the masked evidence"
            check.status = ERROR
            check.message = ("inconclusive: this expectation names a secret, which the saved "
                             "evidence holds masked (***): only the run itself can judge it; "
                             + shown)


def apply_verdict(result: ScenarioResult, scenario: Scenario, ev: Evidence, *, strict: bool,
                  done: Callable[[], None] | None = None) -> None:
    """Judge ``scenario``'s expectations on ``ev`` into ``result`` (its checks, status,
    error and exit status); ``done`` is called once the verdict is set whole."""
    result.wire = ev.wire.to_dict() if ev.wire is not None else {}
    expectations = judged_expectations(scenario, ev)
    if ev.generator is not None:    # load is judged on the sum of all generators
        result.distributed = deferred_record(scenario, ev.generator)
    checks, blind = judge_checks(scenario, expectations, ev, result.warnings, result.load)
    result.warnings += blind
    from sipscen.checks.heard import save_recordings  # lazy: loads numpy
    save_recordings(checks, result.artifacts.get("dir"))     # what audio checks heard
    with interrupts.held():      # the verdict is set whole (and then kept), or not at all
        result.checks = checks
        verdict.conclude(result, ev.step_failure,
                         incomplete=list(ev.wire.incomplete if ev.wire else []),
                         capture_faults=list(ev.capture_faults),
                         analysis_failed=ev.analysis_failed, wire_error=ev.wire_error,
                         blind=bool(blind))
        if not scenario.expectations:
            verdict.no_checks(result, strict)
        if done is not None:
            done()


# --- sipscen judge ------------------------------------------------------------------
def load_for_judging(folder: Path, scenario_path: Path | None = None,
                     variables: Mapping[str, str] | None = None) -> tuple[Scenario, Evidence]:
    """The saved evidence of ``folder`` and its scenario as the file is now (the one
    given, or the file the evidence names). ScenarioError (exit 2, FILE:LINE:COL)
    for a bad scenario; UsageError (exit 2) for missing or foreign evidence."""
    ev = load(folder)
    path = Path(scenario_path) if scenario_path is not None else Path(ev.scenario_file)
    if not path.is_file():
        raise UsageError(f"{path}: no such scenario file (the evidence in {folder} was "
                         "made by it; give the scenario as judge's second argument)")
    scenarios = load_scenarios(path, dict(variables or {}))
    scenario = _the_one(scenarios, ev, path)
    if ev.generator is not None:
        scenario = split_scenario(scenario, ev.generator)
    _same_parties(scenario, ev, folder)
    return scenario, ev


def _the_one(scenarios: list[Scenario], ev: Evidence, path: Path) -> Scenario:
    if len(scenarios) == 1:
        return scenarios[0]
    for scenario in scenarios:        # a parametrized file: the set that ran
        if scenario.name == ev.scenario_name:
            return scenario
    for scenario in scenarios:
        if dict(scenario.parameters) == ev.parameters:
            return scenario
    raise UsageError(f"{path}: none of its {len(scenarios)} parameter sets is "
                     f"'{ev.scenario_name}', the scenario whose evidence this is")


def _same_parties(scenario: Scenario, ev: Evidence, folder: Path) -> None:
    """Evidence of another scenario (other agents, types or services) is refused."""
    agents = [(a.name, a.type) for a in scenario.agents]
    services = [s.name for s in scenario.services]
    if sorted(agents) == sorted(ev.agents_of) and sorted(services) == sorted(ev.services_of):
        return

    def names(pairs, svc) -> str:
        text = ", ".join(f"{n} ({t})" for n, t in sorted(pairs)) or "no agents"
        return text + (f"; services {', '.join(sorted(svc))}" if svc else "")
    raise UsageError(f"{folder}: the evidence is not {scenario.file}'s: it was made by "
                     f"'{ev.scenario_name}' with {names(ev.agents_of, ev.services_of)}, "
                     f"the scenario now has {names(agents, services)}")


def reanalyse_if_needed(scenario: Scenario, ev: Evidence) -> None:
    """Decoded wire audio is not saved, and a run whose expectations did not need it
    (or a DTLS scan) did not make it: re-analyse the saved capture when the
    scenario's expectations need what ``ev`` lacks (reading a capture is allowed,
    placing calls is not)."""
    needs = verdict.prepare(judged_expectations(scenario, ev))
    lacking_audio = needs.audio and ev.wire_audio is None
    lacking_scan = needs.dtls_scan and not ev.dtls_scan
    if not (lacking_audio or lacking_scan) or ev.wire is None or not ev.capture:
        return
    capture = Path(ev.capture)
    if not capture.is_file():
        raise UsageError(f"{capture}: the saved capture is gone; the expectations need its "
                         "decoded audio (or a DTLS scan), which evidence.json does not hold")
    from sipscen.analysis import analyze_capture  # lazy: loads cryptography, numpy
    files = rotated_files(capture)          # a rotated capture: every one of its files
    analysis = analyze_capture(files if len(files) > 1 else capture,
                               srtp_keys=ev.srtp_keys, strict_keys=False,
                               inband=needs.audio, keep_audio=needs.audio,
                               sample_media=needs.dtls_scan or ev.dtls_scan,
                               tls_keylogs=ev.tls_keylogs)
    wire = WireAnalysis.from_dict(analysis.to_dict())
    # the run's own judgement of its capture
    wire.warnings, wire.incomplete = ev.wire.warnings, ev.wire.incomplete
    ev.wire, ev.wire_audio = wire, analysis.audio or {}
    ev.audio, ev.dtls_scan = needs.audio or ev.audio, needs.dtls_scan or ev.dtls_scan


def judge_folder(folder: Path, scenario_path: Path | None = None, *,
                 variables: Mapping[str, str] | None = None, strict: bool = False
                 ) -> tuple[ScenarioResult, Scenario, Evidence]:
    """Re-judge the run saved in ``folder``: its result, the scenario and the evidence."""
    started = time.monotonic()
    folder = Path(folder)
    scenario, ev = load_for_judging(folder, scenario_path, variables)
    reanalyse_if_needed(scenario, ev)
    result = fresh_result(scenario, ev, folder)
    apply_verdict(result, scenario, ev, strict=strict)
    result.duration = time.monotonic() - started
    return result, scenario, ev


def fresh_result(scenario: Scenario, ev: Evidence, folder: Path) -> ScenarioResult:
    """The result a re-judge fills: the run's facts and warnings, no verdict yet."""
    result = ScenarioResult(
        name=scenario.name, file=str(scenario.file), tags=list(scenario.tags),
        description=scenario.description,
        location=(ev.step_failure and ev.location) or (
            str(scenario.location) if scenario.location else f"{scenario.file}:1:1"),
        secrets=sorted(scenario.secrets))
    result.agents, result.services = ev.agents, ev.services
    result.warnings = list(ev.warnings)
    result.artifacts["dir"] = str(folder.resolve())
    if ev.capture:
        result.artifacts["pcap"] = ev.capture
    result.started_at = time.time()
    return result


def run_folders(path: Path) -> list[Path]:
    """``path`` itself when it holds saved evidence, else every run folder under it
    (an ``--artifacts`` root) that does. UsageError when there is none."""
    path = Path(path)
    if (path / FILE_NAME).is_file() or not path.is_dir():
        return [path]                 # (load() says what is wrong with it)
    found = sorted(p.parent for p in path.glob(f"*/{FILE_NAME}"))
    if not found:
        load(path)                    # raises: no evidence.json, saying why
    return found


def judge_folders(path: Path, scenario_path: Path | None = None, *,
                  variables: Mapping[str, str] | None = None, strict: bool = False
                  ) -> list[tuple[ScenarioResult, Scenario, Evidence]]:
    """Each run's re-judged result, scenario and evidence (``sipscen judge``):
    ``path`` is one run's artifacts folder or a folder of them."""
    folders = run_folders(path)
    if scenario_path is not None and len(folders) != 1:
        raise UsageError(f"{path} holds {len(folders)} runs: give one run's artifacts "
                         "folder with a scenario file")
    if len(folders) == 1:
        return [judge_folder(folders[0], scenario_path, variables=variables, strict=strict)]
    out = []
    for folder in folders:        # one run that cannot be judged does not stop the others
        try:
            out.append(judge_folder(folder, None, variables=variables, strict=strict))
        except SipscenError as exc:
            out.append((unjudged(folder, exc), None, None))
    return out


def unjudged(folder: Path, exc: SipscenError) -> ScenarioResult:
    """The result of a run folder that could not be judged (its evidence or its
    scenario): an error naming the folder and why, exit 2."""
    return ScenarioResult(name=folder.name, file=str(folder), status=ERROR,
                          error=f"not judged: {exc}", location=f"{folder}",
                          exit_status=int(getattr(exc, "status", ExitStatus.INVALID_INPUT)))
