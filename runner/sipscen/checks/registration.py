"""`registration` expectations: what an agent's REGISTERs achieved, as the agent saw
them (the wire side is the `sip` family: REGISTER, Expires: 0, ...).

Only registrations during the run count: the unregistration an agent sends while
it is being stopped is marked ``at_teardown`` and never proves anything.
"""
from __future__ import annotations

from dataclasses import asdict

from sipscen.core.model import status_matches
from sipscen.checks.context import CheckContext
from sipscen.core.results import FAILED, PASSED, CheckResult
from sipscen.language.registry import ExpectationFamily, register_expectation
from sipscen.core.model import Expectation, parse_duration


def check_registration(exp: Expectation, ctx: CheckContext) -> list[CheckResult]:
    p = dict(exp.params)
    agent = p["agent"]
    loc = str(exp.location)
    record = ctx.record(agent)
    entries = [r for r in record.registration_entries() if not r.at_teardown] if record else []
    results: list[CheckResult] = []

    def add(what, ok, expected, actual, message=""):
        results.append(CheckResult(f"registration {agent}: {what}", PASSED if ok else FAILED,
                                   expected, actual, message, loc, ctx.evidence_of(agent)))

    codes = [r.code for r in entries]
    if "status" in p:
        first = codes[0] if codes else None
        add("status", status_matches(p["status"], first), p["status"], first,
            "the first final answer to its REGISTER" if codes else "no REGISTER was answered")
    ok_regs = [r for r in entries if 200 <= (r.code or 0) < 300 and r.expires]
    if "registered" in p:
        add("registered", bool(ok_regs) == bool(p["registered"]), p["registered"],
            bool(ok_regs), f"answers: {codes}")
    if "expires" in p:
        lo, hi = p["expires"].get("min"), p["expires"].get("max")
        lo = parse_duration(lo) if lo is not None else None
        hi = parse_duration(hi) if hi is not None else None
        got = [r.expires for r in ok_regs]
        ok = bool(got) and all((lo is None or e >= lo) and (hi is None or e <= hi) for e in got)
        add("expires", ok, {"min": lo, "max": hi}, got,
            "" if got else "no successful registration")
    if "unregistered" in p:
        last = entries[-1] if entries else None
        gone = bool(last and 200 <= (last.code or 0) < 300 and last.expires == 0)
        add("unregistered", gone == bool(p["unregistered"]), p["unregistered"], gone,
            "the last answer during the run was a 2xx to Expires: 0" if gone else
            f"last answer: {asdict(last) if last else None}")
    if not results:
        add("registered", bool(ok_regs), True, bool(ok_regs), f"answers: {codes}")
    return results


def _check(lc, params) -> None:
    agent = lc.checker.agents.get(params.get("agent"))
    if agent is not None and not (agent.get("account") or {}).get("registrar"):
        lc.fail(f"agent '{params['agent']}' has no account.registrar: it sends no REGISTER "
                "to judge", ["agent"])


register_expectation(ExpectationFamily(
    name="registration", check=_check, evaluate="sipscen.checks.registration:check_registration",
    mutate="sipscen.checks.mutants_signalling:registration",   # falsified copies (sipscen judge --mutate)
    services_too=False,
    schema={"description": "What an agent's REGISTERs achieved during the run.",
            "type": "object", "required": ["agent"], "additionalProperties": False,
            "properties": {
                "agent": {"$ref": "#/$defs/name"},
                "registered": {"type": "boolean"},
                "status": {"$ref": "#/$defs/status_spec"},
                "expires": {"type": "object", "minProperties": 1, "additionalProperties": False,
                            "properties": {"min": {"$ref": "#/$defs/duration"},
                                           "max": {"$ref": "#/$defs/duration"}}},
                "unregistered": {"type": "boolean",
                                 "description": "the binding is gone at the end of the run"}}},
    needs={"agent": "registrations"},
    doc="An agent's registrations during the run: `registered` (a 2xx with an expiry), the "
        "first final `status` (e.g. 200, or 403 for a wrong password), `expires` bounds of "
        "the granted expiry, `unregistered` (the last answer was a 2xx to Expires: 0). The "
        "unregistration sent while the agent is stopped never counts.",
    example="- registration: {agent: bob, status: 200, expires: {min: 60s}, unregistered: true}"))
