"""A SIPp agent's facts as the `response` and `load` checks read them."""
from __future__ import annotations

from sipscen.agents.records import SippFacts
from sipscen.core.results import FAILED, CheckResult


def judged_agent(kind: str, exp, ctx) -> tuple[dict, str, SippFacts | None, list[CheckResult]]:
    """(the expectation's params, its agent, that agent's SIPp facts, and the failed
    result to return instead when it is no SIPp agent of the run)."""
    params = dict(exp.params)
    agent = params.get("agent", "")
    facts = sipp_facts(agent, ctx)
    return params, agent, facts, [] if facts is not None else not_sipp(f"{kind} {agent}",
                                                                        agent, exp)


def sipp_facts(agent: str, ctx) -> SippFacts | None:
    """The agent's facts when they are a SIPp agent's record, else None."""
    facts = ctx.record(agent)
    return facts if isinstance(facts, SippFacts) else None


def not_sipp(name: str, agent: str, exp) -> list[CheckResult]:
    return [CheckResult(name=name, status=FAILED, expected="facts of a SIPp agent",
                        actual=None, message=f"'{agent}' is not a SIPp agent of this run "
                        "(or it did not run)", location=str(exp.location))]
