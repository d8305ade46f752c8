"""The `load` expectation: thresholds on a SIPp agent's load run.

``load: {agent, success_rate_min, failed_max, p95_ms_max, rate_min_ratio, calls_min}``
    One result per threshold given, plus always "calls made" (at least
    ``calls_min``, default 1): a run that made no call never passes.

``load: {..., mos_p5_min, loss_p95_max, jitter_p95_max, two_way_media_min,
one_way_calls_max, setup_p95_max, interval}``
    What the callers heard, judged from the capture over every call the agent
    placed (``sipscen.checks.load_media``; docs/LOAD.md).

It reads ``ctx.record(agent)`` (a ``SippFacts``) as written by ``sipscen.agents.sipp.agent.SippAgent``
(or the sum of several generators' statistics, ``sipscen.report.aggregate``).
"""
from __future__ import annotations

from typing import Any

from sipscen.checks import load_media
from sipscen.checks.sipp_facts import judged_agent
from sipscen.core.results import FAILED, PASSED, CheckResult
from sipscen.agents.impair import PERCENT_SCHEMA
from sipscen.language.registry import ExpectationFamily, register_expectation


def check_load(exp, ctx) -> list[CheckResult]:
    params, agent, facts, missing = judged_agent("load", exp, ctx)
    if facts is None:
        return missing
    s = facts.stats or {}
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
    if load_media.wants_media(params):
        summary = (getattr(ctx, "load", None) or {}).get(agent)
        if summary is None and getattr(ctx, "wire", None):
            interval = (load_media.millis(params["interval"]) / 1000.0 if "interval" in params
                        else load_media.DEFAULT_INTERVAL)
            summary = load_media.summarise(agent, ctx, interval)
        why = getattr(ctx, "wire_error", None) or ""
        results += load_media.judge(agent, params, summary, loc, why)
    return results


register_expectation(ExpectationFamily(
    name="load", evaluate="sipscen.checks.load:check_load", services_too=False, merged=True,
    mutate="sipscen.checks.mutants_signalling:load",   # falsified copies (sipscen judge --mutate)
    schema={"description": "Load thresholds of a SIPp agent's run.",
            "type": "object", "required": ["agent"], "additionalProperties": False,
            "properties": {"agent": {"$ref": "#/$defs/name"},
                           "success_rate_min": {"type": "number", "minimum": 0, "maximum": 100,
                                                "description": "percent"},
                           "failed_max": {"type": "integer", "minimum": 0},
                           "p95_ms_max": {"type": "number", "exclusiveMinimum": 0},
                           "rate_min_ratio": {"type": "number", "minimum": 0, "maximum": 1},
                           "calls_min": {"type": "integer", "minimum": 0},
                           "mos_p5_min": {"type": "number", "minimum": 1, "maximum": 5,
                                          "description": "5th percentile of the E-model MOS "
                                                         "of every call direction"},
                           "loss_p95_max": {**PERCENT_SCHEMA, "description": "95th percentile "
                                            "of the packet loss of every call direction"},
                           "jitter_p95_max": {"$ref": "#/$defs/duration"},
                           "two_way_media_min": {**PERCENT_SCHEMA, "description": "share of "
                                                 "the answered calls with media both ways"},
                           "one_way_calls_max": {"type": "integer", "minimum": 0,
                                                 "description": "answered calls with media "
                                                                "one way only or none"},
                           "setup_p95_max": {"$ref": "#/$defs/duration"},
                           "interval": {"$ref": "#/$defs/positive_duration"}}},
    needs={"agent": "load"},
    doc="Thresholds on a SIPp `agent`'s statistics: calls made (always), success rate, "
        "failed calls, p95 response time, achieved rate; and on what its calls carried, "
        "judged per call from the capture: MOS p5, loss p95, jitter p95, two-way media, "
        "calls without two-way media, setup time p95 (docs/LOAD.md).",
    example="- load: {agent: caller, calls_min: 1000, success_rate_min: 99.5, p95_ms_max: 200}"))
