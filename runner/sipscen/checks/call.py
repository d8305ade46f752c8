"""`call` expectations: every call `from` made (to `to`) satisfies them, unless
`nth` or `id` picks one; a `count` of calls; status as a code, a class or a list;
answered; duration and timing bounds (post-dial delay, ring time, answer time).

A `call` expectation that matches no call fails saying so; one that judged
several names each call that failed (its position and SIP Call-ID).
"""
from __future__ import annotations

from typing import Any

from sipscen.agents.records import CallRecord
from sipscen.checks.context import CheckContext
from sipscen.core.results import FAILED, PASSED, CheckResult
from sipscen.language.registry import ExpectationFamily, register_expectation
from sipscen.core.model import Expectation, parse_duration, status_matches
from sipscen.capture.visibility import SIGNALLING
from sipscen.checks.links import b2bua_links

BOUNDS = {"type": "object", "minProperties": 1, "additionalProperties": False,
          "properties": {"min": {"$ref": "#/$defs/duration"},
                         "max": {"$ref": "#/$defs/duration"}}}
# timing key -> (from fact, to fact, what it is)
TIMINGS = {
    "post_dial_delay": ("started_at", "early_at", "INVITE sent to the first 18x"),
    "ring_time": ("early_at", "confirmed_at", "first 18x to the answer"),
    "answer_time": ("started_at", "confirmed_at", "INVITE sent to the answer"),
    "final_time": ("started_at", "final_at", "INVITE sent to its final response"),
    "cancel_time": ("started_at", "cancelled_at", "INVITE sent to the caller's CANCEL"),
}
# what a missing end of a span means
_MISSING = {"early_at": "no 18x", "confirmed_at": "no answer", "final_at": "no final response",
            "cancelled_at": "never cancelled"}


def select_calls(p: dict, ctx: CheckContext) -> tuple[list[CallRecord], list[CallRecord], str]:
    """(the calls judged, every call between the parties, how they were chosen)."""
    caller, callee = p["from"], p.get("to")
    record = ctx.record(caller)
    calls = [c for c in (record.calls if record else []) if c.direction == "outgoing"]
    if callee:
        ids = ctx.call_ids_between(caller, callee)
        calls = [c for c in calls if c.call_id in ids]
    calls.sort(key=lambda c: (c.started_at is None, c.started_at or 0))
    if "id" in p:
        return [c for c in calls if c.name == p["id"]], calls, f"the call named {p['id']!r}"
    if "nth" in p:
        n = int(p["nth"])
        return calls[n - 1:n], calls, f"call {n} of {len(calls)}"
    return calls, calls, "every call" if len(calls) != 1 else "the only call"


def label(call: CallRecord, every: list[CallRecord]) -> str:
    name = f" {call.name!r}" if call.name else ""
    return f"call {every.index(call) + 1} of {len(every)}{name} (Call-ID {call.call_id})"


def check_call(exp: Expectation, ctx: CheckContext) -> list[CheckResult]:
    p = dict(exp.params)
    caller, callee = p["from"], p.get("to")
    name = f"call {caller}->{callee}" if callee else f"call {caller}"
    if "id" in p:                      # several rows of one pair: name the call judged
        name += f" [{p['id']}]"
    elif "nth" in p:
        name += f" [call {p['nth']}]"
    loc = str(exp.location)
    judged, every, how = select_calls(p, ctx)
    results: list[CheckResult] = []

    def add(what: str, ok: bool, expected, actual, message: str = "") -> None:
        results.append(CheckResult(f"{name}: {what}", PASSED if ok else FAILED,
                                   expected, actual, message, loc, ctx.evidence_of(caller)))

    if "count" in p:
        add("count", len(every) == p["count"], p["count"], len(every),
            f"{len(every)} call(s) from {caller}" + (f" to {callee}" if callee else ""))
    if not judged and "count" in p and not set(p) - {"from", "to", "count"}:
        return results              # only a count: "no call" is what it judged
    if not judged:
        made = [c.remote_uri for c in ctx.calls(caller) if c.direction == "outgoing"]
        want = f"a call to {callee}" if callee else "a call"
        if "id" in p or "nth" in p:
            want = how
        why = (f"{caller} made no outgoing call" + (f" to {callee}" if callee else "")
               if not every else f"no {how} among {len(every)} call(s): expectation matches "
               "nothing")
        add("selected", False, want, f"calls to {made}" if made else "no call was made", why)
        return results
    def each(what: str, expected, value_of, ok_of) -> None:
        values = [value_of(c) for c in judged]
        bad = [c for c, v in zip(judged, values) if not ok_of(v)]
        actual = values[0] if len(judged) == 1 else values
        if bad:
            message = "; ".join(f"{label(c, every)}: {value_of(c)!r}"
                                + (f" {c.reason}" if what == "status" and c.reason else "")
                                for c in bad)
            message = f"{len(bad)} of {len(judged)} judged call(s) fail — {message}"
        else:
            message = f"judged {how} ({len(judged)})" if len(judged) > 1 else ""
        add(what, not bad, expected, actual, message)

    if "status" in p:
        each("status", p["status"], lambda c: c.status_code,
             lambda v: status_matches(p["status"], v))
    if "answered" in p:
        each("answered", p["answered"], lambda c: bool(c.answered),
             lambda v: v == bool(p["answered"]))
    for key, op, text in (("min_duration", lambda d, w: d >= w, ">="),
                          ("max_duration", lambda d, w: d <= w, "<=")):
        if key in p:
            want = parse_duration(p[key])
            # A call never answered talked for 0 s: it keeps a max_duration (as VoIP
            # Patrol has it) and fails a min_duration; `answered: true` asks for an answer.
            each(key.replace("_", " "), f"{text} {want:g}s",
                 _talk_time if key == "max_duration" else _duration_of,
                 lambda v, want=want, op=op: isinstance(v, float) and op(v, want))
    for key, (start, end, meaning) in TIMINGS.items():
        if key not in p:
            continue
        lo, hi = p[key].get("min"), p[key].get("max")
        lo, hi = (parse_duration(lo) if lo is not None else None,
                  parse_duration(hi) if hi is not None else None)
        expected = " and ".join(x for x in (f">= {lo:g}s" if lo is not None else "",
                                            f"<= {hi:g}s" if hi is not None else "") if x)
        each(f"{key.replace('_', ' ')} ({meaning})", expected,
             lambda c, s=start, e=end: _span(c, s, e),
             lambda v, lo=lo, hi=hi: isinstance(v, float) and (lo is None or v >= lo)
             and (hi is None or v <= hi))
    if callee and ctx.reports(callee, "calls"):
        theirs = {c.call_id for c in ctx.calls(callee)}
        incoming = {c.call_id for c in ctx.calls(callee) if c.direction == "incoming"}
        links = b2bua_links(ctx)

        def reached(call: CallRecord) -> bool:
            """The callee saw this call's Call-ID, or took the other leg a declared
            B2BUA linked to this very call."""
            if call.call_id in theirs:
                return True
            legs, grown = {call.call_id}, True
            while grown:                                  # through a chain of B2BUAs too
                more = {x for pair in links if legs & set(pair) for x in pair}
                grown, legs = bool(more - legs), legs | more
            return bool(legs & incoming)
        answered = [c for c in judged if c.answered]
        if answered:
            missing = [c for c in answered if not reached(c)]
            add("reached callee", not missing, [c.call_id for c in answered],
                sorted(x for x in theirs if x),
                f"{callee} saw the same SIP Call-ID (or a declared B2BUA's linked leg)"
                if not missing else "; ".join(label(c, every) for c in missing)
                + f" never reached {callee}")
    if not results:
        add("made", True, "a call", [c.status_code for c in judged])
    return results


def _duration_of(call: CallRecord) -> Any:
    if call.duration is not None:
        return float(call.duration)
    return "never answered" if not call.answered else "not ended"


def _talk_time(call: CallRecord) -> Any:
    """Seconds from the answer to the end: 0.0 for a call that ended unanswered."""
    if not call.answered and call.disconnected_at is not None:
        return 0.0
    return _duration_of(call)


def _span(call: CallRecord, start: str, end: str) -> Any:
    a, b = getattr(call, start), getattr(call, end)
    if a is None or b is None:
        return _MISSING.get(start if a is None else end, "unknown")
    return round(float(b) - float(a), 6)


def _check_params(lc, params) -> None:
    if "nth" in params and "id" in params:
        lc.fail("give either 'nth' or 'id', not both", ["id"], key=True)
    lc.names_call(params.get("from"), params.get("id"), ["id"], placed=True)


SCHEMA = {
    "description": "Calls from one agent (to another): by default every such call must "
                   "satisfy it; `nth` or `id` picks one.",
    "type": "object", "required": ["from"], "additionalProperties": False,
    "properties": {
        "from": {"$ref": "#/$defs/name"}, "to": {"$ref": "#/$defs/name"},
        "nth": {"type": "integer", "minimum": 1, "description": "judge only the Nth call (1 = first)"},
        "id": {"$ref": "#/$defs/name", "description": "judge only the call its `call` step named"},
        "count": {"type": "integer", "minimum": 0, "description": "how many calls there were"},
        "answered": {"type": "boolean"},
        "status": {"$ref": "#/$defs/status_spec"},
        "min_duration": {"$ref": "#/$defs/duration"},
        "max_duration": {"$ref": "#/$defs/duration"},
        **{key: {**BOUNDS, "description": f"{meaning}: {{min, max}}"}
           for key, (_, _, meaning) in TIMINGS.items()},
    },
}

register_expectation(ExpectationFamily(
    name="call", evaluate="sipscen.checks.call:check_call", schema=SCHEMA,
    mutate="sipscen.checks.mutants_signalling:call",   # falsified copies (sipscen judge --mutate)
    wire_needs=SIGNALLING,
    check=_check_params, needs={"from": "calls"},
    doc="The calls `from` made (to `to`): by default every one must satisfy it, or `nth`/`id` "
        "picks one; `count` of calls; `status` as 200, 4xx or [404, 480]; `answered`; "
        "duration bounds (talk time: a call that ended unanswered talked 0 s, so it keeps a "
        "`max_duration` and fails a `min_duration`; add `answered: true` to require an "
        "answer); `post_dial_delay` (INVITE to first 18x), `ring_time` (18x to "
        "answer), `answer_time` (INVITE to answer), `final_time` (INVITE to its final "
        "response, answered or not) and `cancel_time` (INVITE to the caller's CANCEL: when "
        "it gave up) as {min, max}. A call that fails is "
        "named by position and Call-ID; an expectation that matches no call fails.",
    example="- call: {from: alice, to: bob, count: 2, status: [200, 486], "
            "post_dial_delay: {max: 1s}}"))
