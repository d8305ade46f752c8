"""Join the N generator results of a distributed load into one result.

Generator runs (``sipscen.engine.generators``) each report the same scenario
with their share of the load and the ``load`` expectations left unjudged. Here
the results with the same ``order`` and name are summed:

* every SIPp agent's statistics: calls attempted/successful/failed, failures
  by reason, retransmissions, achieved rate and target rate (the generators
  run at the same time, so rates add up), elapsed time (the longest), and the
  response times (the histograms are merged, so p50/p95/p99 are exact over
  all calls);
* every load agent's media summary (``ScenarioResult.load``): the fixed-bin
  histograms of MOS, loss, jitter and setup time are summed, so the merged
  percentiles are exactly those of all calls judged in one place; counts add
  up, the worst calls are re-ranked, the time series is re-binned on the
  generators' common clock (``sipscen.checks.load_series.merge``);
* the load expectations are judged on those sums with the ordinary ``load``
  check (``sipscen.checks.load.check_load``); media bounds on a generator's
  incomplete capture are inconclusive;
* the generators' other checks are kept, each named after its generator;
* a generator that errored makes the whole an error, a missing one too.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sipscen.agents.records import AgentRecord, record_of
from sipscen.agents.sipp.stats import percentile
from sipscen.core.results import ERROR, FAILED, PASSED, CheckResult, ScenarioResult
from sipscen.core.errors import ExitStatus
from sipscen.checks.verdict import inconclusive
from sipscen.checks.load import check_load
from sipscen.checks.load_series import merge

SUMMED = ("attempted", "successful", "failed", "retransmissions", "current_calls",
          "out_of_call_msgs", "dead_call_msgs", "fatal_errors")


def sum_stats(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The statistics of several SIPp processes that ran side by side."""
    out: dict[str, Any] = {"available": bool(parts) and all(p.get("available") for p in parts)}
    for key in SUMMED:
        out[key] = sum(int(p.get(key) or 0) for p in parts)
    reasons: dict[str, int] = {}
    hist: dict[str, int] = {}
    for p in parts:
        for k, v in (p.get("failed_by_reason") or {}).items():
            reasons[k] = reasons.get(k, 0) + int(v)
        for k, v in (p.get("response_time_histogram") or {}).items():
            hist[k] = hist.get(k, 0) + int(v)
    out["failed_by_reason"] = reasons
    out["call_rate"] = round(sum(float(p.get("call_rate") or 0.0) for p in parts), 3)
    targets = [p.get("target_rate") for p in parts]
    out["target_rate"] = (round(sum(float(t) for t in targets), 6)
                          if targets and all(t is not None for t in targets) else None)
    out["elapsed"] = max((float(p.get("elapsed") or 0.0) for p in parts), default=0.0)
    values = [float(k) for k, n in hist.items() for _ in range(n)]
    out["response_time_ms"] = {"count": len(values), "p50": percentile(values, 50),
                               "p95": percentile(values, 95), "p99": percentile(values, 99),
                               "max": max(values) if values else None}
    out["response_time_histogram"] = hist
    out["generators"] = len(parts)
    return out


@dataclass(frozen=True)
class _Deferred:
    """The bits of an Expectation that ``check_load`` reads."""
    kind: str
    params: dict[str, Any]
    location: str
    path: str


@dataclass
class _Context:
    """What ``check_load`` reads of a check context: the summed agents' records."""
    facts: dict[str, Any]
    load: dict[str, Any] | None = None

    def record(self, agent: str) -> AgentRecord | None:
        return record_of(self.facts.get(agent))


def merge_load(group: list[ScenarioResult]) -> dict[str, Any]:
    """The generators' media summaries, merged per load agent."""
    names = {n for r in group for n in (getattr(r, "load", None) or {})}
    out = {}
    for name in sorted(names):
        merged = merge([(r.load or {}).get(name) for r in group])
        if merged is not None:
            out[name] = merged
    return out


def _sum_agents(group: list[ScenarioResult]) -> dict[str, Any]:
    agents: dict[str, Any] = {}
    names = {n for r in group for n in (r.agents or {})}
    for name in sorted(names):
        facts = [r.agents.get(name) for r in group]
        if all(isinstance(f, dict) and f.get("type") == "sipp" for f in facts):
            first = dict(facts[0])
            first["stats"] = sum_stats([f.get("stats") or {} for f in facts])
            first["exit_code"] = [f.get("exit_code") for f in facts]
            first["errors"] = [e for f in facts for e in f.get("errors") or []][:20]
            agents[name] = first
        else:
            agents[name] = {"generators": facts}
    return agents


def aggregate_group(group: list[ScenarioResult]) -> ScenarioResult:
    """N generator results of one scenario -> one result judged on the sums."""

    group = sorted(group, key=lambda r: (r.distributed or {}).get("generator", [0])[0])
    first = group[0]
    n = int((first.distributed or {}).get("generator", [1, 1])[1])
    seen = [int((r.distributed or {}).get("generator", [0])[0]) for r in group]
    agents = _sum_agents(group)
    load = merge_load(group)
    checks: list[CheckResult] = []
    for r in group:
        k = (r.distributed or {}).get("generator", ["?"])[0]
        for c in r.checks:
            checks.append(CheckResult(f"[generator {k}/{n}] {c.name}", c.status, c.expected,
                                      c.actual, c.message, c.location))
    for item in (first.distributed or {}).get("load") or []:
        exp = _Deferred("load", dict(item.get("params") or {}), item.get("location", ""),
                        item.get("path", ""))
        judged = check_load(exp, _Context(agents, load))
        summary = load.get(str(exp.params.get("agent") or "")) or {}
        if summary.get("incomplete"):
            inconclusive(judged, "; ".join(summary["incomplete"]))
        for c in judged:
            c.name = f"{c.name} (sum of {len(group)} generators)"
            checks.append(c)
    errors = [f"generator {k}/{n}: {r.error}" for k, r in zip(seen, group) if r.error]
    missing = sorted(set(range(1, n + 1)) - set(seen))
    if missing:
        errors.append(f"no report from generator(s) {', '.join(map(str, missing))} of {n}")
    status = PASSED
    if any(c.status != PASSED for c in checks) or any(r.status == FAILED for r in group):
        status = FAILED
    exit_status = None
    if missing or any(r.status == ERROR for r in group):
        status = ERROR
        codes = [r.exit_status for r in group if r.status == ERROR and r.exit_status]
        exit_status = max(codes) if codes else int(ExitStatus.INFRASTRUCTURE)
    started = [r.started_at for r in group if r.started_at]
    artifacts = {f"generator{k}.{label}": path
                 for k, r in zip(seen, group) for label, path in (r.artifacts or {}).items()}
    return ScenarioResult(
        name=first.name, file=first.file, status=status,
        duration=max(r.duration for r in group), checks=checks,
        error="; ".join(errors) or None, agents=agents, wire={}, artifacts=artifacts,
        events=[], tags=list(first.tags), description=first.description,
        location=first.location, scripted_wait=first.scripted_wait, exit_status=exit_status,
        warnings=[w for r in group for w in r.warnings], started_at=min(started, default=0.0),
        order=first.order, load=load,
        distributed={"generators": n, "load": (first.distributed or {}).get("load") or []})


def aggregate_generators(results: list[ScenarioResult]) -> list[ScenarioResult]:
    """Results in order, generator results of one scenario joined into one."""
    out: list[ScenarioResult] = []
    groups: dict[tuple[int, str], list[ScenarioResult]] = {}
    for r in results:
        if r.distributed and "generator" in r.distributed:
            key = (r.order, r.name)
            if key not in groups:
                groups[key] = []
                out.append(r)           # placeholder, replaced below
            groups[key].append(r)
        else:
            out.append(r)
    return [aggregate_group(groups[(r.order, r.name)])
            if r.distributed and "generator" in r.distributed else r for r in out]
