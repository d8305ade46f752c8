"""Distributed load: this process is generator K of N of every SIPp load agent.

``sipscen run --generator K/N`` (or ``--job-generators N`` in a pod of an
Indexed Job) runs the selected scenarios with each SIPp agent's load knobs cut
to its share: ``rate``, ``rate_max`` and ``rate_increase`` divided by N,
``calls`` split so the N shares add up exactly (the first ``calls % N``
generators take one more), ``limit`` (concurrent calls) rounded up. Agents
without load knobs (a UAS, inline messages) run unchanged.

``load`` expectations are not judged by a single generator (its share alone
would miss ``calls_min``): they are kept in ``ScenarioResult.distributed`` and
judged on the sum of all generators' statistics by
``sipscen.report.aggregate`` (``sipscen kube collect`` / ``report merge``).
"""
from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from sipscen.checks.verdict import deferred
from sipscen.core.errors import ScenarioError
from sipscen.core.model import AgentSpec, Expectation, Scenario

DIVIDED = ("rate", "rate_max", "rate_increase")


def share_of_calls(calls: int, k: int, n: int) -> int:
    """Generator ``k`` (1-based) of ``n``'s part of ``calls``; the parts sum to ``calls``."""
    return calls // n + (1 if k - 1 < calls % n else 0)


def split_agent(spec: AgentSpec, k: int, n: int) -> AgentSpec:
    if spec.type != "sipp" or n == 1:
        return spec
    config: dict[str, Any] = dict(spec.config)
    if not any(key in config for key in (*DIVIDED, "calls", "limit")):
        return spec
    for key in DIVIDED:
        if isinstance(config.get(key), (int, float)):
            config[key] = round(config[key] / n, 6)
    if isinstance(config.get("calls"), int):
        if config["calls"] < n:
            raise ScenarioError(f"calls: {config['calls']} calls cannot be shared by {n} "
                                "generators (each needs at least one)", spec.location,
                                f"{spec.path}.calls")
        config["calls"] = share_of_calls(config["calls"], k, n)
    if isinstance(config.get("limit"), int):
        config["limit"] = max(1, math.ceil(config["limit"] / n))
    return replace(spec, config=config)


def split_scenario(scenario: Scenario, generator: tuple[int, int]) -> Scenario:
    k, n = generator
    return replace(scenario, agents=tuple(split_agent(a, k, n) for a in scenario.agents))


def is_deferred(expectation: Expectation) -> bool:
    """Judged on the sum of every generator (``merged`` families): not by one."""
    return deferred(expectation)


def deferred_record(scenario: Scenario, generator: tuple[int, int]) -> dict[str, Any]:
    """What the aggregate needs to judge the load expectations later (JSON-able)."""
    return {"generator": list(generator),
            "load": [{"params": dict(e.params), "location": str(e.location or ""),
                      "path": e.path}
                     for e in scenario.expectations if is_deferred(e)]}
