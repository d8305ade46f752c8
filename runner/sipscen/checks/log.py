"""`log` expectations: regexes on a service's log (stdout and stderr as kept).

    - log: {service: sut, matches: ["rtpengine_offer.*ok"], absent: ["CRITICAL", "segfault"]}

Each ``matches`` pattern must occur somewhere in the log, each ``absent``
pattern nowhere; one result per pattern, the matching line as evidence.
"""
from __future__ import annotations

import re
from pathlib import Path

from sipscen.checks.context import CheckContext
from sipscen.core.results import FAILED, PASSED, CheckResult
from sipscen.language.registry import ExpectationFamily, register_expectation
from sipscen.core.model import Expectation


def _log(facts: dict) -> str | None:
    logs = (facts or {}).get("logs") or {}
    if not logs:
        return None
    text, found = "", False
    for label in ("stdout", "stderr"):
        path = logs.get(label)
        if path and Path(path).exists():
            found = True
            text += Path(path).read_bytes().decode("utf-8", "replace") + "\n"
    return text if found else None      # no file: no pattern is proven absent


def _line(text: str, m: re.Match) -> str:
    start = text.rfind("\n", 0, m.start()) + 1
    end = text.find("\n", m.end())
    return text[start:end if end >= 0 else None][:300]


def check_log(exp: Expectation, ctx: CheckContext) -> list[CheckResult]:
    p = exp.params
    name = p["service"]
    loc = str(exp.location)
    text = _log(ctx.services.get(name, {}))
    results = []
    if text is None:
        return [CheckResult(f"log {name}", FAILED, "the service's log", None,
                            f"service '{name}' left no log", loc)]
    for pattern in p.get("matches") or []:
        m = re.search(pattern, text, re.MULTILINE)
        results.append(CheckResult(f"log {name} matches {pattern!r}", PASSED if m else FAILED,
                                   "a matching line", _line(text, m) if m else "no such line",
                                   "", loc))
    for pattern in p.get("absent") or []:
        m = re.search(pattern, text, re.MULTILINE)
        results.append(CheckResult(f"log {name} has no {pattern!r}", FAILED if m else PASSED,
                                   "no matching line", _line(text, m) if m else "none", "", loc))
    return results


def _check(lc, params) -> None:
    service = params.get("service")
    services = lc.checker.services
    if isinstance(service, str) and service not in services:
        lc.fail(f"unknown service '{service}' — services are: "
                f"{', '.join(sorted(services)) or 'none'}", ["service"])


register_expectation(ExpectationFamily(
    name="log", evaluate="sipscen.checks.log:check_log", check=_check, evidence="",
    mutate="sipscen.checks.mutants_signalling:log",   # falsified copies (sipscen judge --mutate)
    schema={"description": "Regular expressions on a service's log (stdout and stderr).",
            "type": "object", "required": ["service"],
            "anyOf": [{"required": ["matches"]}, {"required": ["absent"]}],
            "additionalProperties": False,
            "properties": {"service": {"$ref": "#/$defs/name"},
                           "matches": {"type": "array", "minItems": 1,
                                       "items": {"$ref": "#/$defs/regex"}},
                           "absent": {"type": "array", "minItems": 1,
                                      "items": {"$ref": "#/$defs/regex"}}}},
    doc="Each `matches` pattern occurs in the service's log and no `absent` pattern does; "
        "the matching line is the evidence.",
    example='- log: {service: sut, matches: ["rtpengine.*offer"], absent: ["CRITICAL"]}'))
