"""`incoming` expectations: the calls an agent received, as it saw them and on the wire.

What a callee saw of a call is what caller-ID, number normalisation and routing
tests are about: the INVITE's Request-URI and its From, To, P-Asserted-Identity
headers (``"bob saw From "Alice" <sip:+4412345@...>"``). Each call the agent
received (from ``from``, when given; ``nth`` picks one) is judged twice: from
the agent's own report (the INVITE as PJSUA received it) and from the capture
(the initial INVITE of that Call-ID sent to the agent's address). A `count`
counts the calls.
"""
from __future__ import annotations

import re
from typing import Any

from sipscen.agents.records import CallRecord
from sipscen.analysis.result import WireMessage
from sipscen.checks.context import CheckContext
from sipscen.checks.sip import messages, parse_raw, request_uri
from sipscen.core.headers import describe as describe_header
from sipscen.core.headers import mismatch
from sipscen.core.model import Expectation
from sipscen.core.regex import shown
from sipscen.core.results import AGENT, FAILED, PASSED, WIRE, CheckResult
from sipscen.language.registry import ExpectationFamily, register_expectation
from sipscen.core.headers import lists_of


def _problem(p: dict, ruri: str, headers: Any) -> str | None:
    if "request_uri" in p and not re.search(p["request_uri"], ruri or ""):
        return f"Request-URI {ruri!r} does not match {shown(p['request_uri'])}"
    return mismatch(p.get("headers"), headers)


def _expected(p: dict) -> str:
    parts = [f"R-URI~/{p['request_uri']}/"] if "request_uri" in p else []
    parts += [describe_header(n, c) for n, c in (p.get("headers") or {}).items()]
    return " ".join(parts)


def _wire_invite(ctx: CheckContext, agent: str, call_id: str) -> WireMessage | None:
    """The initial INVITE of ``call_id`` that reached ``agent``'s address (no To tag)."""
    for m in messages(ctx, call_id):
        if m.method == "INVITE" and m.status is None and ctx.owns(agent, m.dst):
            headers, _ = parse_raw(m.raw or "")
            if not any(";tag=" in v.replace(" ", "") for v in headers.get("to", [])
                       + headers.get("t", [])):
                return m
    return None


def check_incoming(exp: Expectation, ctx: CheckContext) -> list[CheckResult]:
    p = dict(exp.params)
    agent, caller = p["agent"], p.get("from")
    name = f"incoming at {agent}" + (f" from {caller}" if caller else "")
    loc = str(exp.location)
    record = ctx.record(agent)
    calls = [c for c in (record.calls if record else []) if c.direction == "incoming"]
    if caller:
        ids = ctx.call_ids_between(agent, caller)
        calls = [c for c in calls if c.call_id in ids]
    calls.sort(key=lambda c: c.started_at or 0)
    results: list[CheckResult] = []
    if "count" in p:
        results.append(CheckResult(f"{name}: count", PASSED if len(calls) == p["count"]
                                   else FAILED, p["count"], len(calls),
                                   f"{len(calls)} call(s) received", loc, AGENT))
    judged = calls[p["nth"] - 1:p["nth"]] if "nth" in p else calls
    if not ("request_uri" in p or "headers" in p):
        return results or [CheckResult(name, PASSED if calls else FAILED, "a call", len(calls),
                                       "" if calls else f"{agent} received no call", loc, AGENT)]
    expected = _expected(p)
    if not judged:
        which = f"call {p['nth']} of {len(calls)}" if "nth" in p else "a call"
        results.append(CheckResult(f"{name}: as received", FAILED, expected, "no call",
                                   f"{agent} received no {which}" + (f" from {caller}"
                                   if caller else "") + ": the expectation matches nothing",
                                   loc, AGENT))
        return results
    results.append(_judge(f"{name}: as {agent} saw it", judged, expected, loc, AGENT,
                          lambda c: (c.request_uri, c.invite_headers), p))
    if ctx.wire is not None:
        def on_wire(c: CallRecord):
            m = _wire_invite(ctx, agent, c.call_id)
            if m is None:
                return None
            headers, _ = parse_raw(m.raw or "")
            return request_uri(m.raw or ""), headers
        results.append(_judge(f"{name}: on the wire", judged, expected, loc, WIRE, on_wire, p))
    return results


def _judge(name: str, judged: list[CallRecord], expected: str, loc: str, evidence: str,
           seen_of, p: dict) -> CheckResult:
    bad, shown_values = [], []
    for call in judged:
        seen = seen_of(call)
        if seen is None:
            bad.append(f"Call-ID {call.call_id}: its INVITE to the agent is not in the capture")
            continue
        ruri, headers = seen
        shown_values.append(ruri if "request_uri" in p and not p.get("headers") else
                            _summary(ruri, headers, p))
        why = _problem(p, ruri, headers)
        if why is not None:
            bad.append(f"Call-ID {call.call_id}: {why}")
    actual = shown_values[0] if len(shown_values) == 1 else shown_values
    message = "; ".join(bad) if bad else (f"{len(judged)} call(s)" if len(judged) > 1 else "")
    return CheckResult(name, FAILED if bad else PASSED, expected, actual, message, loc, evidence)


def _summary(ruri: str, headers: Any, p: dict) -> str:
    got = lists_of(headers)
    parts = [f"R-URI {ruri}"] if "request_uri" in p else []
    for header in p.get("headers") or {}:
        values = got.get(str(header).lower(), [])
        parts.append(f"{header}: {' | '.join(values) if values else '(none)'}")
    return "; ".join(parts)


def _check(lc, params) -> None:
    if "nth" in params and "count" in params and params["nth"] > params["count"]:
        lc.fail(f"nth {params['nth']} is above count {params['count']}", ["nth"])


register_expectation(ExpectationFamily(
    name="incoming", evaluate="sipscen.checks.incoming:check_incoming", check=_check,
    mutate="sipscen.checks.mutants_signalling:incoming",   # falsified copies (sipscen judge --mutate)
    needs={"agent": "calls"}, services_too=False,
    schema={"description": "The calls an agent received: the INVITE's Request-URI and "
                           "headers as the agent saw them and on the wire.",
            "type": "object", "required": ["agent"], "additionalProperties": False,
            "properties": {
                "agent": {"$ref": "#/$defs/name"},
                "from": {"$ref": "#/$defs/name", "description": "only calls from this party"},
                "nth": {"type": "integer", "minimum": 1,
                        "description": "judge only the Nth call received (1 = first)"},
                "count": {"type": "integer", "minimum": 0,
                          "description": "how many calls it received"},
                "request_uri": {"$ref": "#/$defs/regex"},
                "headers": {"$ref": "#/$defs/header_checks"}}},
    doc="The calls `agent` received (from `from`; `nth` picks one; `count` counts them): "
        "the INVITE's `request_uri` and `headers` (From, To, P-Asserted-Identity, ...: a "
        "regex or {matches, all, count}) judged as the agent saw them and, on the wire, on "
        "the INVITE of that Call-ID that reached the agent.",
    example="- incoming: {agent: bob, from: alice, headers: {From: '^\"Alice\" "
            "<sip:\\\\+4412345@'}}"))
