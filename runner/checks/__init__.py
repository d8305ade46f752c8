"""Expectations checked after a run: one small module per family.

A check function takes an :class:`~sipscen.scenario.model.Expectation` and the
:class:`CheckContext` and returns one or more ``CheckResult``. ``evaluate``
runs every expectation of a scenario; a check that raises becomes an error
result, never a crash.
"""
from __future__ import annotations

import importlib
from typing import Callable

from sipscen.checks.context import CheckContext
from sipscen.engine.results import ERROR, CheckResult
from sipscen.scenario.model import Expectation

CheckFn = Callable[[Expectation, CheckContext], list[CheckResult]]

# expectation kind -> "module:function", imported lazily.
CHECKS: dict[str, str] = {
    "call": "sipscen.checks.call:check_call",
    "codec": "sipscen.checks.media:check_codec",
    "srtp": "sipscen.checks.media:check_srtp",
    "dtmf": "sipscen.checks.dtmf:check_dtmf",
    "response": "sipscen.checks.sipp:check_response",
    "load": "sipscen.checks.sipp:check_load",
    # media truth (issue 9)
    "audio": "sipscen.checks.audio:check_audio",
    "rtp": "sipscen.checks.rtp:check_rtp",
}


def check_function(kind: str) -> CheckFn:
    module_name, _, fn = CHECKS[kind].partition(":")
    return getattr(importlib.import_module(module_name), fn)


def evaluate(expectations, ctx: CheckContext) -> list[CheckResult]:
    results: list[CheckResult] = []
    for exp in expectations:
        try:
            results.extend(check_function(exp.kind)(exp, ctx))
        except Exception as exc:  # a broken check is reported, not fatal
            results.append(CheckResult(
                name=exp.kind, status=ERROR, message=f"check could not run: {exc!r}",
                location=str(exp.location)))
    return results
