"""`call` expectations: was the call answered, with which status, for how long."""
from __future__ import annotations

from sipscen.checks.context import CheckContext
from sipscen.engine.results import FAILED, PASSED, CheckResult
from sipscen.language.registry import ExpectationFamily, register_expectation
from sipscen.scenario.model import Expectation, parse_duration


def check_call(exp: Expectation, ctx: CheckContext) -> list[CheckResult]:
    p = exp.params
    caller, callee = p["from"], p.get("to")
    name = f"call {caller}->{callee}" if callee else f"call {caller}"
    loc = str(exp.location)
    call = (ctx.call_between(caller, callee, "outgoing") if callee
            else ctx.first_call(caller, "outgoing"))
    if call is None:
        made = [c.get("remote_uri") for c in ctx.calls(caller) if c.get("direction") == "outgoing"]
        return [CheckResult(name, FAILED, expected=f"a call to {callee}" if callee else "a call",
                            actual=f"calls to {made}" if made else "no call was made",
                            message=f"{caller} made no outgoing call"
                                    + (f" to {callee}" if callee else ""), location=loc)]
    results: list[CheckResult] = []

    def add(label: str, ok: bool, expected, actual, message: str = "") -> None:
        results.append(CheckResult(f"{name}: {label}", PASSED if ok else FAILED,
                                   expected, actual, message, loc))

    if "status" in p:
        add("status", call.get("status_code") == p["status"], p["status"], call.get("status_code"),
            call.get("reason", ""))
    if "answered" in p:
        add("answered", bool(call.get("answered")) == bool(p["answered"]), p["answered"],
            bool(call.get("answered")))
    duration = call.get("duration")
    if "min_duration" in p:
        want = parse_duration(p["min_duration"])
        add("min duration", duration is not None and duration >= want, f">= {want:g}s",
            None if duration is None else f"{duration:.3f}s")
    if "max_duration" in p:
        want = parse_duration(p["max_duration"])
        add("max duration", duration is not None and duration <= want, f"<= {want:g}s",
            None if duration is None else f"{duration:.3f}s")
    if callee and ctx.facts.get(callee, {}).get("type") == "pjsua" and call.get("answered"):
        linked = ctx.call_ids_between(caller, callee)     # a B2BUA's other leg too
        incoming = [c for c in ctx.facts[callee].get("calls", [])
                    if c.get("call_id") == call.get("call_id") or
                    (c.get("direction") == "incoming" and c.get("call_id") in linked)]
        add("reached callee", bool(incoming), call.get("call_id"),
            [c.get("call_id") for c in ctx.facts[callee].get("calls", [])],
            f"{callee} saw the same SIP Call-ID (or a declared B2BUA's linked leg)")
    if not results:
        add("made", True, "a call", call.get("status_code"))
    return results


SCHEMA = {
    "description": "Calls from one agent (to another): answered, status, duration.",
    "type": "object", "required": ["from"], "additionalProperties": False,
    "properties": {"from": {"$ref": "#/$defs/name"}, "to": {"$ref": "#/$defs/name"},
                   "answered": {"type": "boolean"},
                   "status": {"$ref": "#/$defs/status_code"},
                   "min_duration": {"$ref": "#/$defs/duration"},
                   "max_duration": {"$ref": "#/$defs/duration"}},
}

register_expectation(ExpectationFamily(
    name="call", evaluate="sipscen.checks.call:check_call", schema=SCHEMA,
    needs={"from": "calls"},
    doc="The call `from` made (to `to`): answered or not, its final status, its duration.",
    example="- call: {from: alice, to: bob, answered: true, status: 200, min_duration: 1s}"))
