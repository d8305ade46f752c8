"""The verdict of one run: analyse the capture, evaluate every expectation,
decide the scenario's status (called by ``engine/run.py`` once everything has
stopped; prints nothing)."""
from __future__ import annotations

from typing import Any

from sipscen.checks import evaluate
from sipscen.checks.context import CheckContext
from sipscen.checks.heard_setup import needs_wire_audio, signal_times, step_times
from sipscen.engine import interrupts
from sipscen.engine.results import ERROR, FAILED, PASSED
from sipscen.errors import ExitStatus
from sipscen.scenario.model import Scenario


def analyse(run: Any) -> tuple[dict[str, Any] | None, str | None, bool]:
    """(wire analysis, why there is none, whether the analysis itself failed)."""
    if not run.capture:
        return None, "capture is disabled for this scenario", False
    keys: list[str] = []
    for agent in run.agents:
        keys += [f"{k['suite']} {k['key']}" for k in agent.srtp_keys()]
    # audio expectations (checks/heard.py) need the decoded streams: only then decode
    media = needs_wire_audio(run.scenario.expectations)
    try:
        from sipscen.analysis import analyze_capture
        analysis = analyze_capture(run.capture.path, srtp_keys=keys, strict_keys=False,
                                   inband=media, keep_audio=media)
    except Exception as exc:  # noqa: BLE001 - the verdict says why
        faults = "; ".join(run.capture.faults)
        why = f" (the capture is incomplete: {faults})" if faults else ""
        run.result.warnings += [f"capture incomplete: {w}" for w in run.capture.faults]
        return None, f"capture analysis failed: {exc}{why}", True
    run.wire_audio = analysis.audio
    wire = analysis.to_dict()
    plain = _plain_leg_expected(run.scenario)
    if plain or _dtls_in_sdp(wire):   # DTLS keys are not in the SDP; "plain" needs proof
        from sipscen.analysis.dtls import scan_dtls
        wire["dtls"] = scan_dtls(run.capture.path, all_rtp=plain)
    warnings = wire.setdefault("warnings", [])
    dropped = run.capture.dropped()
    if dropped:
        warnings.append(
            f"tcpdump: {dropped} packets dropped by the kernel: wire verdicts may be incomplete")
    incomplete = run.capture.incomplete(int(wire.get("packets") or 0), list(warnings))
    if incomplete:
        wire["incomplete"] = incomplete
        warnings += [w for w in incomplete if w not in warnings]
        run.result.warnings += [f"capture incomplete: {w}" for w in incomplete]
    return wire, None, False


def _plain_leg_expected(scenario: Scenario) -> bool:
    return any(e.kind == "leg" and e.params.get("srtp") is False for e in scenario.expectations)


def _dtls_in_sdp(wire: dict[str, Any]) -> bool:
    return any("TLS" in str(m.get("proto", "")).upper() for c in wire.get("calls", [])
               for sdp in c.get("sdp", []) for m in sdp.get("media", []))


def judge(run: Any, step_failure: str | None) -> None:
    """Analyse the capture and evaluate every expectation into ``run.result``."""
    result = run.result
    wire, wire_error, analysis_failed = analyse(run)
    result.wire = wire or {}
    facts = dict(result.agents)    # plus each service as a party, judged from the capture
    ctx = CheckContext(run.scenario, facts, wire, dict(run.contacts), wire_error,
                       services=result.services,
                       capture=run.capture.path if run.capture else None)
    from sipscen.checks.wire_party import wire_facts
    for name, service_facts in result.services.items():
        facts[name] = wire_facts(name, ctx.owns, wire, service_facts, ctx.agent_of)
    for name, agent_facts in result.agents.items():     # agents whose calls the wire tells
        if agent_facts.get("from_wire"):
            facts[name] = wire_facts(name, ctx.owns, wire, agent_facts, ctx.agent_of)
    ctx.wire_audio = getattr(run, "wire_audio", {}) or {}
    ctx.signals, ctx.epoch0 = signal_times(run.board)
    ctx.steps = step_times(run.board)
    expectations = run.scenario.expectations
    if run.options.generator is not None:   # load is judged on the sum of all generators
        from sipscen.engine.generators import deferred_record, is_deferred
        result.distributed = deferred_record(run.scenario, run.options.generator)
        expectations = tuple(e for e in expectations if not is_deferred(e))
    checks = evaluate(expectations, ctx)
    if wire and wire.get("incomplete"):
        _inconclusive(checks, "; ".join(wire["incomplete"]))
    elif analysis_failed and run.capture is not None and run.capture.faults:
        _inconclusive(checks, "; ".join(run.capture.faults))
    with interrupts.held():      # the verdict is set whole, or not at all
        _decide(run, checks, step_failure, wire, wire_error, analysis_failed)


def _decide(run: Any, checks: list, step_failure: str | None, wire: dict[str, Any] | None,
            wire_error: str | None, analysis_failed: bool) -> None:
    """The scenario's status from its checks; ``run.judged`` once it is set."""
    result = run.result
    result.checks = checks
    if step_failure:
        result.error = step_failure
    failed = step_failure or any(c.status != PASSED for c in result.checks)
    result.status = FAILED if failed else PASSED
    if any(c.status == ERROR for c in result.checks):
        result.status = ERROR
    if analysis_failed:      # our tooling failed, not the system under test
        result.status, result.error = ERROR, wire_error
        result.exit_status = int(ExitStatus.INFRASTRUCTURE)
    elif result.status == ERROR and wire and wire.get("incomplete"):
        result.exit_status = int(ExitStatus.INFRASTRUCTURE)
        result.error = result.error or ("the capture is incomplete: wire checks are "
                                        "inconclusive (" + "; ".join(wire["incomplete"]) + ")")
    if not run.scenario.expectations and not result.checks:
        _no_checks(result, run.options.strict)
    run.judged = True


NO_CHECKS = ("passed, no checks: the scenario has no expect:, so only its agents' own steps "
             "were judged (run with --strict to make this a failure)")
NO_CHECKS_STRICT = ("no checks: the scenario has no expect: and --strict makes a scenario "
                    "without checks a failure")


def _no_checks(result: Any, strict: bool) -> None:
    """A scenario without expectations proves only that its steps ran: reported as
    "passed, no checks" with a warning, or failed under --strict. A step that
    failed still fails it either way."""
    result.no_checks = True
    if result.status != PASSED:
        return
    if strict:
        result.status, result.error = FAILED, NO_CHECKS_STRICT
    else:
        result.warnings.append(NO_CHECKS)


def _inconclusive(checks, why: str) -> None:
    """Wire checks on a capture known to be incomplete give no verdict: they
    become errors that say why and what the partial capture showed."""
    for check in checks:
        if check.name.endswith("(wire)"):
            shown = f"{check.status} on the partial capture" + (
                f": {check.message}" if check.message else "")
            check.status = ERROR
            check.message = f"inconclusive, the capture is incomplete ({why}); {shown}"


