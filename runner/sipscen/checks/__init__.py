"""Expectations checked after a run: one small module per family.

A check function takes an :class:`~sipscen.core.model.Expectation` and the
:class:`CheckContext` and returns one or more ``CheckResult``. ``evaluate``
runs every expectation of a scenario; a check that raises becomes an error
result, never a crash.
"""
from __future__ import annotations

from typing import Callable

from sipscen.checks.context import CheckContext
from sipscen.checks.links import ambiguity
from sipscen.core.results import ERROR, FAILED, WIRE, CheckResult
from sipscen.core.model import Expectation
from sipscen.language import registry
from sipscen.language import registry

CheckFn = Callable[[Expectation, CheckContext], list[CheckResult]]


def check_function(kind: str) -> CheckFn:
    """The check of an expectation family (``sipscen.language.registry``)."""
    return registry.expectations()[kind].function()


def evaluate(expectations, ctx: CheckContext) -> list[CheckResult]:
    """Every expectation's results; those that do not say what they rest on take
    their family's ``evidence``."""
    results: list[CheckResult] = []
    for exp in expectations:
        try:
            found = check_function(exp.kind)(exp, ctx)
            family = registry.expectations()[exp.kind]
            for result in found:
                result.evidence = result.evidence or family.evidence
            _unless_ambiguous(exp, ctx, found)
            results.extend(found or [CheckResult(
                name=exp.kind, status=FAILED, location=str(exp.location),
                message="the expectation judged nothing (no verdict): it cannot pass")])
        except Exception as exc:  # a broken check is reported, not fatal
            results.append(CheckResult(
                name=exp.kind, status=ERROR, message=f"check could not run: {exc!r}",
                location=str(exp.location)))
    return results


def _unless_ambiguous(exp: Expectation, ctx: CheckContext, found: list[CheckResult]) -> None:
    """Results between two parties whose calls a B2BUA made impossible to tell apart
    (checks/links.py) give no verdict: inconclusive, saying why."""
    p = exp.params
    pair = list(p["between"]) if isinstance(p.get("between"), (list, tuple)) else [
        p.get("from"), p.get("to")]
    if len(pair) != 2 or None in pair or not getattr(ctx.scenario, "services", ()):
        return
    why = ambiguity(ctx, str(pair[0]), str(pair[1]))
    if not why:
        return
    for result in found:
        shown = f"{result.status} with those legs unlinked" + (
            f": {result.message}" if result.message else "")
        result.status, result.evidence = ERROR, WIRE
        result.message = f"{why}; {shown}"
