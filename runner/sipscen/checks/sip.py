"""`sip` expectations: SIP messages in the capture between two parties.

A matcher selects messages: ``method`` (a request's method, or a response's CSeq
method), ``status`` (responses only: 200, 4xx, [404, 480]; without it only
requests match, unless ``response: true``), ``headers`` {Name: regex},
``body`` regex, ``sdp`` {direction, profile, crypto}, ``request_uri`` regex (requests
only). A header check is a regex one of that header's values must match, or
``{matches, all, count}`` (``sipscen.core.headers``: every value, how many). ``from``/``to`` (or
``between``) restrict the sender and receiver (agents or services). Then either
``count`` (a number or {min, max}; default: at least one) or ``sequence``, a
list of matchers (a string: a method, a status code or class) that must appear
in that order. A retransmission (same bytes, same path) counts once.
"""
from __future__ import annotations

import re
from typing import Any

from sipscen.analysis.numbers import wire_int
from sipscen.analysis.result import WireMessage
from sipscen.core.headers import describe as describe_header
from sipscen.core.headers import mismatch as header_mismatch
from sipscen.core.model import status_matches
from sipscen.checks.context import CheckContext
from sipscen.core.results import FAILED, PASSED, CheckResult
from sipscen.language.registry import ExpectationFamily, register_expectation
from sipscen.core.model import Expectation
from sipscen.capture.visibility import SIGNALLING

DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")


def parse_raw(raw: str) -> tuple[dict[str, list[str]], str]:
    """(headers by lower-case name, body) of a raw SIP message (compact forms as written)."""
    head, _, body = raw.replace("\r\n", "\n").partition("\n\n")
    headers: dict[str, list[str]] = {}
    for line in head.split("\n")[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers.setdefault(name.strip().lower(), []).append(value.strip())
    return headers, body


def request_uri(raw: str) -> str:
    """The Request-URI of a raw request ('' for a response or a malformed first line)."""
    parts = raw.split("\n", 1)[0].strip().split(" ")
    return parts[1] if len(parts) == 3 and parts[2].startswith("SIP/") else ""


def _sdp_ok(body: str, want: dict) -> bool:
    lines = [line.strip() for line in body.splitlines()]
    if not any(line.startswith("v=0") for line in lines):
        return False
    if "direction" in want:
        found = [line[2:] for line in lines if line[2:] in DIRECTIONS and line.startswith("a=")]
        if (found[-1] if found else "sendrecv") != want["direction"]:
            return False
    if "profile" in want and not any(line.startswith("m=") and f" {want['profile']} " in
                                     f"{line} " for line in lines):
        return False
    if "crypto" in want and not any(line.startswith("a=crypto:") and want["crypto"] in line
                                    for line in lines):
        return False
    return True


def matches(m: WireMessage, want: Any, ctx: CheckContext, parties: dict) -> bool:
    if isinstance(want, (str, int)):
        text = str(want)
        code = wire_int(text, 100, 699)
        want = {"status": code} if code is not None else \
            {"status": text} if re.fullmatch(r"[1-6]xx", text) else {"method": text}
    src_ok = parties.get("from") is None or ctx.owns(parties["from"], m.src)
    dst_ok = parties.get("to") is None or ctx.owns(parties["to"], m.dst)
    pair = parties.get("between")
    if pair:
        a, b = pair
        src_ok = (ctx.owns(a, m.src) and ctx.owns(b, m.dst)) or \
            (ctx.owns(b, m.src) and ctx.owns(a, m.dst))
    if not (src_ok and dst_ok):
        return False
    # (a response whose status code is malformed has none: still a response)
    is_response = m.is_response
    if "status" in want:
        if not is_response or not status_matches(want["status"], m.status):
            return False
    elif is_response and not want.get("response"):
        return False
    if "method" in want and str(m.method or "").upper() != str(want["method"]).upper():
        return False
    if "request_uri" in want:
        if is_response or not re.search(want["request_uri"], request_uri(m.raw or "")):
            return False
    headers, body = parse_raw(m.raw or "")
    if header_mismatch(want.get("headers"), headers) is not None:
        return False
    if "body" in want and not re.search(want["body"], body):
        return False
    if "sdp" in want and not _sdp_ok(body, want["sdp"]):
        return False
    return True


def describe(want: Any) -> str:
    if not isinstance(want, dict):
        return str(want)
    parts = [str(want[k]) for k in ("method", "status") if k in want]
    if "request_uri" in want:
        parts.append(f"R-URI~/{want['request_uri']}/")
    parts += [describe_header(n, c) for n, c in (want.get("headers") or {}).items()]
    parts += [f"a={v}" if k == "direction" else f"{k}={v}"
              for k, v in (want.get("sdp") or {}).items()]
    if "body" in want:
        parts.append(f"body~/{want['body']}/")
    return " ".join(parts) or "any request"


def messages(ctx: CheckContext, call_id: str | None = None) -> list[WireMessage]:
    """Every SIP message of the capture in time order (of one Call-ID when given);
    a retransmission (same bytes, same path) once."""
    seen, out = set(), []
    calls = [c for c in (ctx.wire.calls if ctx.wire else [])
             if call_id is None or c.call_id == call_id]
    for m in sorted((m for c in calls for m in c.messages), key=lambda m: m.time):
        key = (m.src, m.dst, m.raw)
        if key not in seen:
            seen.add(key)
            out.append(m)
    return out


def check_sip(exp: Expectation, ctx: CheckContext) -> list[CheckResult]:
    p = dict(exp.params)
    parties = {k: p.get(k) for k in ("from", "to", "between")}
    who = "<->".join(p["between"]) if p.get("between") else \
        f"{p.get('from') or '*'}->{p.get('to') or '*'}"
    loc = str(exp.location)
    if ctx.wire is None:
        return [CheckResult(f"sip {who}", FAILED, "a capture", None,
                            ctx.wire_error or "no capture", loc)]
    call_id = None
    if p.get("call"):
        owner = p.get("from") or (p.get("between") or [None])[0]
        record = ctx.record(owner) if owner else None
        call_id = next((c.call_id for c in getattr(record, "calls", []) or []
                        if c.name == p["call"]), None)
        if call_id is None:
            return [CheckResult(f"sip {who}", FAILED, f"the call named {p['call']!r}", None,
                                f"{owner} placed no call named {p['call']!r}", loc)]
    found = messages(ctx, call_id)
    if "sequence" in p:
        name = f"sip {who}: sequence"
        steps = list(p["sequence"])
        at, matched = 0, []
        for m in found:
            if at < len(steps) and matches(m, steps[at], ctx, parties):
                matched.append(m.summary)
                at += 1
        expected = " → ".join(describe(s) for s in steps)
        if at == len(steps):
            return [CheckResult(name, PASSED, expected, " → ".join(matched), "", loc)]
        return [CheckResult(name, FAILED, expected, " → ".join(matched) or "nothing",
                            f"{describe(steps[at])} (step {at + 1}) never came after the "
                            f"{at} matched", loc)]
    hits = [m for m in found if matches(m, p, ctx, parties)]
    count = p.get("count")
    if count is None:
        lo, hi, expected = 1, None, ">= 1"
    elif isinstance(count, int):
        lo, hi, expected = count, count, str(count)
    else:
        lo, hi = count.get("min", 0), count.get("max")
        expected = " and ".join(x for x in (f">= {lo}" if "min" in count else "",
                                            f"<= {hi}" if hi is not None else "") if x)
    ok = len(hits) >= lo and (hi is None or len(hits) <= hi)
    message = "; ".join(f"{m.summary} {m.src}->{m.dst}" for m in hits[:5])
    return [CheckResult(f"sip {who} {describe(p)}: count", PASSED if ok else FAILED,
                        expected, len(hits), message or "no such message in the capture", loc)]


MATCH = {
    "method": {"type": "string", "pattern": "^[A-Za-z]+$"},
    "status": {"$ref": "#/$defs/status_spec"},
    "response": {"type": "boolean", "description": "match responses too (without status)"},
    "request_uri": {"$ref": "#/$defs/regex",
                    "description": "a regex the Request-URI of a request must match"},
    "headers": {"$ref": "#/$defs/header_checks"},
    "body": {"$ref": "#/$defs/regex"},
    "sdp": {"type": "object", "minProperties": 1, "additionalProperties": False,
            "properties": {"direction": {"enum": list(DIRECTIONS)},
                           "profile": {"type": "string", "minLength": 1},
                           "crypto": {"type": "string", "minLength": 1}}},
}
SCHEMA = {
    "description": "SIP messages in the capture between two parties: a count, or an "
                   "ordered sequence.",
    "type": "object", "additionalProperties": False,
    "properties": {
        "from": {"$ref": "#/$defs/name"}, "to": {"$ref": "#/$defs/name"},
        "between": {"$ref": "#/$defs/agent_pair"},
        "call": {"$ref": "#/$defs/name",
                 "description": "only the messages of this named call (of `from`, or of the "
                                "first of `between`)"},
        **MATCH,
        "count": {"type": ["integer", "object"], "minimum": 0, "minProperties": 1,
                  "additionalProperties": False,
                  "properties": {"min": {"type": "integer", "minimum": 0},
                                 "max": {"type": "integer", "minimum": 0}}},
        "sequence": {"type": "array", "minItems": 1, "items": {
            "type": ["string", "integer", "object"], "additionalProperties": False,
            "properties": MATCH}},
    },
}


def _check(lc, params) -> None:
    owner = params.get("from") or (params.get("between") or [None])[0]
    lc.names_call(owner, params.get("call"), ["call"])
    if "between" in params and ("from" in params or "to" in params):
        lc.fail("give either 'between' or 'from'/'to'", ["between"], key=True)
    if "sequence" in params:
        for key in ("count", *MATCH):
            if key in params:
                lc.fail(f"'{key}' belongs to a counted match, not a 'sequence' "
                        "(put it in a sequence item)", [key], key=True)


register_expectation(ExpectationFamily(
    name="sip", evaluate="sipscen.checks.sip:check_sip", schema=SCHEMA, check=_check,
    mutate="sipscen.checks.mutants_signalling:sip",   # falsified copies (sipscen judge --mutate)
    wire_needs=SIGNALLING,
    evidence="wire",
    doc="SIP messages in the capture (`from`/`to` or `between` agents or services): "
        "`method`, `status` (code, class or list), `request_uri` regex, `headers` {Name: "
        "regex or {matches, all, count}} (a plain regex: one of the repeated headers matches; "
        "`all`: every one; `count`: how many), `body` regex, "
        "`sdp` {direction, profile, crypto}; `count` (default at least 1, or {min, max}), or "
        "a `sequence` of such matches (or 'INVITE', '180', '2xx') that must appear in order; "
        "`call` keeps to one named call.",
    example="- sip: {from: alice, to: sut, method: INVITE, sdp: {direction: sendonly}, "
            "count: 1}"))
