"""Checks for SIPp agents: the answer to each inline message, and load thresholds.

``response: {agent, message?, status?, header?, nothing?}``
    Without ``message`` every inline message of the agent is checked, the
    liveness probe included (its index is the number of messages). Without
    ``status``/``header``/``nothing`` each message is held to its own inline
    ``expect``; with them, those replace it.

``load: {agent, success_rate_min, failed_max, p95_ms_max, rate_min_ratio, calls_min}``
    One result per threshold given, plus always "calls made" (at least
    ``calls_min``, default 1): a run that made no call never passes.

Both read ``ctx.facts[agent]`` as written by ``sipscen.agents.sipp.agent.SippAgent``.
"""
from __future__ import annotations

from typing import Any

from sipscen.agents.records import SippFacts, record_of
from sipscen.agents.sipp.inline import judge, normalise_expect
from sipscen.core.results import FAILED, PASSED, CheckResult
from sipscen.core.errors import ScenarioError
from sipscen.language.registry import ExpectationFamily, register_expectation


def _sipp_facts(agent: str, ctx) -> dict[str, Any] | None:
    """The agent's facts when they are a SIPp agent's record, else None."""
    facts = ctx.facts.get(agent)
    if not isinstance(record_of(facts), SippFacts):
        return None
    return facts


def describe(expected: dict[str, Any]) -> str:
    """A normalised inline expectation as a short text ("400", "4xx", "nothing within 2s")."""
    if expected.get("nothing") is not None and "any" not in expected:
        return f"nothing within {expected['nothing']:g}s"
    parts = []
    if "status" in expected:
        parts.append(" or ".join(str(c) for c in expected["status"]))
    if "class" in expected:
        parts.append(expected["class"])
    for name, pattern in (expected.get("headers") or {}).items():
        parts.append(f"{name} ~ /{pattern}/")
    return "; ".join(parts) or "any answer"


def _missing(name: str, agent: str, exp) -> list[CheckResult]:
    return [CheckResult(name=name, status=FAILED, expected="facts of a SIPp agent",
                        actual=None, message=f"'{agent}' is not a SIPp agent of this run "
                        "(or it did not run)", location=str(exp.location))]


def check_response(exp, ctx) -> list[CheckResult]:
    params = dict(exp.params)
    agent = params.get("agent", "")
    facts = _sipp_facts(agent, ctx)
    if facts is None:
        return _missing(f"response {agent}", agent, exp)
    responses = facts.get("responses") or []
    if not responses:
        return [CheckResult(name=f"response {agent}", status=FAILED,
                            expected="inline messages", actual="none",
                            message=f"SIPp agent '{agent}' has no inline messages",
                            location=str(exp.location))]
    override = {k: params[k] for k in ("status", "header", "nothing") if k in params}
    try:
        expected_override = normalise_expect(override, exp.path, exp.location) if override else None
    except ScenarioError as exc:
        return [CheckResult(name=f"response {agent}", status=FAILED, expected=override,
                            actual=None, message=str(exc), location=str(exp.location))]
    index = params.get("message")
    if index is not None:
        selected = [r for r in responses if r["index"] == index]
        if not selected:
            return [CheckResult(name=f"response {agent}[{index}]", status=FAILED,
                                expected=f"message {index}", actual=f"{len(responses)} messages",
                                message=f"agent '{agent}' has no message {index} (0-"
                                f"{len(responses) - 1}, the last is the liveness probe)",
                                location=str(exp.location))]
    else:
        selected = responses
    results = []
    for r in selected:
        expected = expected_override or r["expected"]
        ok, actual = judge(expected, r.get("received"), r.get("was_sent", True))
        label = "liveness probe" if r.get("probe") else f"message {r['index']}"
        want = describe(expected)
        waited = r.get("timeout")
        if ok and expected.get("nothing") and waited is not None and waited < expected["nothing"]:
            ok, actual = False, (f"{actual} within {waited:g}s only (raise the message's "
                                 f"timeout to {expected['nothing']:g}s)")
        results.append(CheckResult(
            name=f"response {agent} {label}: {r.get('sent', '')}"[:120],
            status=PASSED if ok else FAILED, expected=want, actual=actual,
            message="" if ok else f"expected {want}, got {actual}",
            location=str(exp.location)))
    return results


def check_load(exp, ctx) -> list[CheckResult]:
    params = dict(exp.params)
    agent = params.get("agent", "")
    facts = _sipp_facts(agent, ctx)
    if facts is None:
        return _missing(f"load {agent}", agent, exp)
    s = facts.get("stats") or {}
    attempted, successful = s.get("attempted", 0), s.get("successful", 0)
    failed = s.get("failed", 0)
    loc = str(exp.location)
    results: list[CheckResult] = []

    def add(name: str, ok: bool, expected: Any, actual: Any, detail: str = "") -> None:
        msg = "" if ok else f"expected {expected}, got {actual}" + (f" ({detail})" if detail else "")
        results.append(CheckResult(name=f"load {agent}: {name}", status=PASSED if ok else FAILED,
                                   expected=expected, actual=actual, message=msg, location=loc))

    calls_min = params.get("calls_min", 1)
    add("calls made", attempted >= max(calls_min, 1) and s.get("available", False),
        f">= {max(calls_min, 1)}", attempted,
        "" if s.get("available") else "no statistics file")
    if "success_rate_min" in params:
        rate = round(100.0 * successful / attempted, 3) if attempted else 0.0
        add("success rate", attempted > 0 and rate >= params["success_rate_min"],
            f">= {params['success_rate_min']}%", f"{rate}%",
            f"{successful}/{attempted} successful")
    if "failed_max" in params:
        reasons = ", ".join(f"{k}: {v}" for k, v in (s.get("failed_by_reason") or {}).items())
        add("failed calls", failed <= params["failed_max"], f"<= {params['failed_max']}",
            failed, reasons)
    if "p95_ms_max" in params:
        p95 = (s.get("response_time_ms") or {}).get("p95")
        add("p95 response time", p95 is not None and p95 <= params["p95_ms_max"],
            f"<= {params['p95_ms_max']} ms", "no response times measured" if p95 is None
            else f"{p95:g} ms")
    if "rate_min_ratio" in params:
        target = s.get("target_rate")
        achieved = s.get("call_rate", 0.0)
        ratio = round(achieved / target, 4) if target else None
        add("achieved call rate", ratio is not None and ratio >= params["rate_min_ratio"],
            f">= {params['rate_min_ratio']} x {target:g} cps" if target else
            f">= {params['rate_min_ratio']} x target",
            f"{ratio} ({achieved:g} cps)" if ratio is not None else "no target rate set",)
    return results


register_expectation(ExpectationFamily(
    name="response", evaluate="sipscen.checks.sipp:check_response",
    schema={"description": "The answers to a SIPp agent's inline messages.",
            "type": "object", "required": ["agent"], "additionalProperties": False,
            "properties": {"agent": {"$ref": "#/$defs/name"},
                           "message": {"type": "integer", "minimum": 0},
                           "status": {"$ref": "#/$defs/status_spec"},
                           "header": {"$ref": "#/$defs/header_patterns"},
                           "nothing": {"$ref": "#/$defs/positive_duration"}}},
    needs={"agent": "responses"},
    doc="The answer to each inline message of a SIPp `agent` (or to `message` N) met its own "
        "`expect`, or the `status`/`header`/`nothing` given here.",
    example="- response: {agent: attacker, message: 0, status: 4xx}"))
register_expectation(ExpectationFamily(
    name="load", evaluate="sipscen.checks.sipp:check_load",
    schema={"description": "Load thresholds of a SIPp agent's run.",
            "type": "object", "required": ["agent"], "additionalProperties": False,
            "properties": {"agent": {"$ref": "#/$defs/name"},
                           "success_rate_min": {"type": "number", "minimum": 0, "maximum": 100,
                                                "description": "percent"},
                           "failed_max": {"type": "integer", "minimum": 0},
                           "p95_ms_max": {"type": "number", "exclusiveMinimum": 0},
                           "rate_min_ratio": {"type": "number", "minimum": 0, "maximum": 1},
                           "calls_min": {"type": "integer", "minimum": 0}}},
    needs={"agent": "load"},
    doc="Thresholds on a SIPp `agent`'s statistics: calls made (always), success rate, "
        "failed calls, p95 response time, achieved rate.",
    example="- load: {agent: caller, calls_min: 1000, success_rate_min: 99.5, p95_ms_max: 200}"))
