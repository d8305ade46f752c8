"""The `response` expectation: the answers to a SIPp agent's inline messages.

``response: {agent, message?, status?, header?, nothing?}``
    Without ``message`` every inline message of the agent is checked, the
    liveness probe included (its index is the number of messages). Without
    ``status``/``header``/``nothing`` each message is held to its own inline
    ``expect``; with them, those replace it.

It reads ``ctx.record(agent)`` (a ``SippFacts``) as written by ``sipscen.agents.sipp.agent.SippAgent``.
"""
from __future__ import annotations

from typing import Any

from sipscen.checks.sipp_facts import judged_agent
from sipscen.core.errors import ScenarioError
from sipscen.core.results import FAILED, PASSED, CheckResult
from sipscen.language.inline_expect import judge, normalise_expect
from sipscen.language.registry import ExpectationFamily, register_expectation


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


def check_response(exp, ctx) -> list[CheckResult]:
    params, agent, facts, missing = judged_agent("response", exp, ctx)
    if facts is None:
        return missing
    responses = facts.responses or []
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


register_expectation(ExpectationFamily(
    name="response", evaluate="sipscen.checks.response:check_response", services_too=False,
    mutate="sipscen.checks.mutants_signalling:response",   # falsified copies (sipscen judge --mutate)
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
