"""Mutants: falsified copies of an expectation, to prove that it can fail.

Each expectation family declares its mutator by dotted path
(``ExpectationFamily.mutate = "sipscen.checks.mutants:call"``), as it declares
``evaluate``; a plugin's family brings its own. A mutator is
``(params, results) -> (mutants, notes)``: ``params`` are the expectation's,
``results`` the :class:`CheckResult` of its original judgement (which passed),
so a threshold is moved past the *measured* value, not to an arbitrary one.
Each :class:`Mutant` changes one thing and says what; a ``note`` says what
could not be mutated here and why (a bound already at its limit).

What each family makes (docs/JUDGE.md lists them too):
other digits, another status, codec, suite or protocol, a tone off by twice its
tolerance, srtp / answered / registered / none / tone flipped, a header, body
or URI pattern that matches nothing, every filter dropped from an expectation of
absence, thresholds past the measured value, counts +-1, a leg flipped (DTMF).

The engine that judges mutants is ``sipscen.engine.mutation``. Prints nothing.
"""
from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

NOMATCH = "^sipscen-mutant-matches-nothing$"
ABSENT_METHOD = "PUBLISH"
CODECS = ("PCMA", "PCMU", "G722", "opus")
SUITES = ("AES_CM_128_HMAC_SHA1_80", "AES_256_CM_HMAC_SHA1_80")
DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
PROFILES = ("RTP/AVP", "RTP/SAVP", "RTP/AVPF", "RTP/SAVPF", "UDP/TLS/RTP/SAVP",
            "UDP/TLS/RTP/SAVPF")


@dataclass(frozen=True)
class Mutant:
    what: str                      # "digits '1234#' -> '2345*'"
    params: dict[str, Any]
    kind: str | None = None        # another family (srtp -> leg srtp: false); None: the same


@dataclass
class Mutation:
    mutants: list[Mutant] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)   # what could not be mutated, and why

    def add(self, params: Mapping[str, Any], what: str, kind: str | None = None,
            **changes: Any) -> None:
        new = copy.deepcopy(dict(params))
        for key, value in changes.items():
            if value is _DROP:
                new.pop(key, None)
            else:
                new[key] = value
        self.mutants.append(Mutant(what, new, kind))

    def note(self, text: str) -> None:
        self.notes.append(text)

    def result(self) -> tuple[list[Mutant], list[str]]:
        return self.mutants, self.notes


_DROP = object()


# --- measured values ----------------------------------------------------------------
def numbers(value: Any) -> list[float]:
    """Every number in a result's actual value: 1.39, [0.5, 0.7], '4 ms', '100.0%'."""
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, (int, float)):
        return [float(value)] if math.isfinite(value) else []
    if isinstance(value, str):
        m = re.match(r"^\s*(-?\d+(?:\.\d+)?)", value)
        return [float(m.group(1))] if m else []
    if isinstance(value, (list, tuple)):
        return [x for v in value for x in numbers(v)]
    return []


def measured(results, label: str, key: str | None = None) -> list[float]:
    """The numbers the original results measured: results whose name contains
    ``label``; of their actual's ``key`` when it is a dict."""
    out: list[float] = []
    for r in results:
        if label not in r.name:
            continue
        actual = r.actual
        if key is not None:
            actual = actual.get(key) if isinstance(actual, dict) else None
        out += numbers(actual)
    return out


def seconds(value: float) -> str:
    """A duration string the scenario language reads (whole milliseconds)."""
    return f"{max(0, int(round(value * 1000)))}ms"


def above(values: list[float]) -> float:
    """Past the largest measured value: at least half again, and 0.5 s more."""
    top = max(values)
    return top + max(0.5, abs(top))


def _status_codes(results) -> list[int]:
    return [int(x) for x in measured(results, "status")]


def other_status(spec: Any, codes: list[int]) -> int:
    """A final status none of the measured codes (nor the expected spec) is."""
    text = repr(spec)
    for candidate in (486, 200, 404, 503):
        cls = f"{candidate // 100}xx"
        if candidate not in codes and all(c // 100 != candidate // 100 for c in codes) \
                and str(candidate) not in text and cls not in text:
            return candidate
    return 599


def flip_leg(m: Mutation, p: Mapping[str, Any]) -> None:
    if p.get("from") and p.get("to") and p["from"] != p["to"]:
        m.add(p, f"leg flipped: from {p['to']} to {p['from']}", **{"from": p["to"],
                                                                  "to": p["from"]})


def _count(m: Mutation, p: Mapping[str, Any], results, label: str = "count") -> None:
    """count +-1 (an integer), or its bounds past the measured count."""
    count = p.get("count")
    if isinstance(count, bool) or count is None:
        return
    if isinstance(count, int):
        m.add(p, f"count {count} -> {count + 1}", count=count + 1)
        if count > 0:
            m.add(p, f"count {count} -> {count - 1}", count=count - 1)
        return
    if isinstance(count, dict):
        got = measured(results, label)
        n = int(max(got)) if got else None
        if "min" in count:
            want = (n if n is not None else int(count["min"])) + 1
            m.add(p, f"count min {count['min']} -> {want} (past the measured {n})",
                  count={**count, "min": want, **({"max": max(want, count["max"])}
                                                  if "max" in count else {})})
        if "max" in count:
            base = n if n is not None else int(count["max"])
            if base > 0:
                m.add(p, f"count max {count['max']} -> {base - 1} (below the measured {n})",
                      count={k: v for k, v in {**count, "max": base - 1}.items()
                             if not (k == "min" and v > base - 1)})
            else:
                m.note(f"count max {count['max']}: the measured count is 0, no bound below it")


def _absence(p: Mapping[str, Any]) -> bool:
    """An expectation that something did not happen (count 0, max 0)."""
    count = p.get("count")
    if isinstance(count, int) and not isinstance(count, bool):
        return count == 0
    return isinstance(count, dict) and count.get("max") == 0


def _headers(m: Mutation, p: Mapping[str, Any], key: str = "headers") -> None:
    """Each header check made false: its pattern matches nothing; its count +-1."""
    for name, check in (p.get(key) or {}).items():
        if isinstance(check, str):
            m.add(p, f"header {name} ~ /{check}/ -> a value no header has",
                  **{key: {**p[key], name: NOMATCH}})
            continue
        if not isinstance(check, dict):
            continue
        for part in ("matches", "all"):
            if part in check:
                m.add(p, f"header {name} {part} /{check[part]}/ -> a value no header has",
                      **{key: {**p[key], name: {**check, part: NOMATCH}}})
        count = check.get("count")
        if isinstance(count, int) and not isinstance(count, bool):
            m.add(p, f"header {name} count {count} -> {count + 1}",
                  **{key: {**p[key], name: {**check, "count": count + 1}}})
            if count > 0:
                m.add(p, f"header {name} count {count} -> {count - 1}",
                      **{key: {**p[key], name: {**check, "count": count - 1}}})


# --- the families -------------------------------------------------------------------
CALL_TIMINGS = ("post_dial_delay", "ring_time", "answer_time", "final_time", "cancel_time")


def call(p: Mapping[str, Any], results) -> tuple[list[Mutant], list[str]]:
    m = Mutation()
    _count(m, p, results)
    if "answered" in p:
        m.add(p, f"answered {p['answered']} -> {not p['answered']}", answered=not p["answered"])
    if "status" in p:
        other = other_status(p["status"], _status_codes(results))
        m.add(p, f"status {p['status']} -> {other}", status=other)
    got = measured(results, "min duration")
    if "min_duration" in p and got:
        m.add(p, f"min_duration {p['min_duration']} -> {seconds(above(got))} (past the "
              f"measured {max(got):g}s)", min_duration=seconds(above(got)))
    elif "min_duration" in p:
        m.note("min_duration: no duration measured to move it past")
    got = measured(results, "max duration")
    if "max_duration" in p:
        if got and min(got) > 0.001:
            m.add(p, f"max_duration {p['max_duration']} -> {seconds(min(got) / 2)} (below the "
                  f"measured {min(got):g}s)", max_duration=seconds(min(got) / 2))
        else:
            m.note(f"max_duration: the measured talk time is {got or 'unknown'}, "
                   "no bound below it")
    for key in CALL_TIMINGS:
        if key not in p:
            continue
        got = measured(results, key.replace("_", " "))
        bounds = p[key]
        if not got:
            m.note(f"{key}: nothing measured to move its bounds past")
            continue
        if "min" in bounds:
            m.add(p, f"{key} min {bounds['min']} -> {seconds(above(got))} (past the measured "
                  f"{max(got):g}s)", **{key: {"min": seconds(above(got))}})
        if "max" in bounds:
            if min(got) > 0.001:
                m.add(p, f"{key} max {bounds['max']} -> {seconds(min(got) / 2)} (below the "
                      f"measured {min(got):g}s)", **{key: {"max": seconds(min(got) / 2)}})
            else:
                m.note(f"{key} max: the measured {min(got):g}s leaves no bound below it")
    return m.result()


def _other_codec(codec: str, measured_codecs: Iterable[str] = ()) -> str:
    avoid = {str(c).split("/")[0].lower() for c in [codec, *measured_codecs]}
    return next(c for c in CODECS if c.lower() not in avoid)


def _codecs_seen(results) -> list[str]:
    out = []
    for r in results:
        actual = r.actual
        values = actual.values() if isinstance(actual, dict) else [actual]
        for v in values:
            out += [str(x) for x in (v if isinstance(v, (list, tuple)) else [v])
                    if isinstance(x, str)]
    return out


def codec(p: Mapping[str, Any], results) -> tuple[list[Mutant], list[str]]:
    m = Mutation()
    other = _other_codec(p["codec"], _codecs_seen(results))
    m.add(p, f"codec {p['codec']} -> {other}", codec=other)
    return m.result()


def _other_suite(results, given: str | None) -> str:
    text = " ".join(repr(r.actual) for r in results) + " " + str(given or "")
    return next((s for s in SUITES if s not in text), "AEAD_AES_256_GCM")


def srtp(p: Mapping[str, Any], results) -> tuple[list[Mutant], list[str]]:
    m = Mutation()
    suite = _other_suite(results, p.get("suite"))
    m.add(p, f"suite {p.get('suite') or '(any)'} -> {suite}", suite=suite)
    return m.result()


def leg(p: Mapping[str, Any], results) -> tuple[list[Mutant], list[str]]:
    m = Mutation()
    if "srtp" in p:
        m.add(p, f"srtp {p['srtp']} -> {not p['srtp']}", srtp=not p["srtp"], suite=_DROP)
    if "suite" in p:
        suite = _other_suite(results, p["suite"])
        m.add(p, f"suite {p['suite']} -> {suite}", suite=suite)
    if "codec" in p:
        other = _other_codec(p["codec"], _codecs_seen(results))
        m.add(p, f"codec {p['codec']} -> {other}", codec=other)
    sdp = p.get("sdp") or {}
    if "profile" in sdp:
        other = next(x for x in PROFILES if x != sdp["profile"])
        m.add(p, f"sdp profile {sdp['profile']} -> {other}", sdp={**sdp, "profile": other})
    if "crypto" in sdp:
        m.add(p, f"sdp crypto {sdp['crypto']} -> {not sdp['crypto']}",
              sdp={**sdp, "crypto": not sdp["crypto"]})
    if "connection" in sdp:
        m.add(p, f"sdp connection {sdp['connection']} -> 192.0.2.1",
              sdp={**sdp, "connection": "192.0.2.1"})
    if "payload_types" in sdp:
        m.add(p, f"sdp payload_types {sdp['payload_types']} -> [127]",
              sdp={**sdp, "payload_types": [127]})
    return m.result()


_NEXT_DIGIT = dict(zip("0123456789*#ABCD", "123456789*#ABCD0"))


def dtmf(p: Mapping[str, Any], results) -> tuple[list[Mutant], list[str]]:
    m = Mutation()
    digits = str(p["digits"])
    other = "".join(_NEXT_DIGIT.get(d, "1") for d in digits)
    m.add(p, f"digits {digits!r} -> {other!r}", digits=other)
    m.add(p, f"digits {digits!r} -> {digits + '9'!r} (one more)", digits=digits + "9")
    method = p.get("method")
    if method:
        to = "sip-info" if method != "sip-info" else "rfc4733"
        m.add(p, f"method {method} -> {to}", method=to)
    if "max_latency" in p:
        m.add(p, f"max_latency {p['max_latency']} -> 1ms", max_latency="1ms")
    flip_leg(m, p)
    return m.result()


def response(p: Mapping[str, Any], results) -> tuple[list[Mutant], list[str]]:
    """Each message's answer expected otherwise: another status class than the one
    received, or an answer where none came (or a header that matches nothing)."""
    m = Mutation()
    if "status" in p:               # the expectation's own status: another class
        cls = "2xx" if not str(p["status"]).startswith("2") else "4xx"
        m.add(p, f"status {p['status']} -> {cls}", status=cls, nothing=_DROP)
    if "nothing" in p:              # no answer expected: an answer expected
        m.add(p, f"nothing within {p['nothing']} -> an answer (status 200)", nothing=_DROP,
              status=200)
    indexes = [p["message"]] if "message" in p else list(range(len(results)))
    for index, result in zip(indexes, results) if not ("status" in p or "nothing" in p) else ():
        got = str(result.actual)
        codes = [int(x) for x in numbers(got) if 100 <= x <= 699]
        base = {k: v for k, v in p.items() if k not in ("status", "nothing", "header")}
        if not codes:      # nothing came (or was expected)
            m.add(base, f"message {index}: nothing -> an answer (status 200)",
                  message=index, status=200)
        else:
            cls = "2xx" if codes[0] // 100 != 2 else "4xx"
            m.add(base, f"message {index}: {codes[0]} -> {cls}", message=index, status=cls)
    for name in (p.get("header") or {}):
        m.add(p, f"header {name} -> a value no header has",
              header={**p["header"], name: NOMATCH})
    return m.result()


def load(p: Mapping[str, Any], results) -> tuple[list[Mutant], list[str]]:
    m = Mutation()
    got = measured(results, "calls made")
    if "calls_min" in p and got:
        m.add(p, f"calls_min {p['calls_min']} -> {int(max(got)) + 1} (past the measured "
              f"{int(max(got))})", calls_min=int(max(got)) + 1)
    elif "calls_min" in p:
        m.note("calls_min: no call count measured to move it past")
    got = measured(results, "success rate")
    if "success_rate_min" in p:
        if got and min(got) < 100:
            want = round(min(100.0, (min(got) + 100) / 2 + 1e-9), 4)
            m.add(p, f"success_rate_min {p['success_rate_min']} -> {want} (past the measured "
                  f"{min(got):g}%)", success_rate_min=want)
        else:
            m.note(f"success_rate_min: the measured rate is {got or '?'}%, no bound above it")
    got = measured(results, "failed calls")
    if "failed_max" in p:
        if got and max(got) >= 1:
            m.add(p, f"failed_max {p['failed_max']} -> {int(max(got)) - 1} (below the measured "
                  f"{int(max(got))})", failed_max=int(max(got)) - 1)
        else:
            m.note(f"failed_max: {int(max(got)) if got else '?'} calls failed, no bound "
                   "below it")
    got = measured(results, "p95 response time")
    if "p95_ms_max" in p:
        if got and max(got) > 0:
            m.add(p, f"p95_ms_max {p['p95_ms_max']} -> {max(got) / 2:g} (below the measured "
                  f"{max(got):g} ms)", p95_ms_max=max(got) / 2)
        else:
            m.note("p95_ms_max: the measured p95 is 0 ms, no bound below it")
    got = measured(results, "achieved call rate")
    if "rate_min_ratio" in p:
        if got and max(got) < 1:
            want = round(min(1.0, max(got) + (1 - max(got)) / 2), 6)
            m.add(p, f"rate_min_ratio {p['rate_min_ratio']} -> {want} (past the measured "
                  f"{max(got):g})", rate_min_ratio=want)
        else:
            m.note(f"rate_min_ratio: the measured ratio is {got or '?'}, no bound above it")
    _load_media(m, p, results)
    return m.result()


def _load_media(m: Mutation, p: Mapping[str, Any], results) -> None:
    """The bounds on what a load's calls carried (checks/load_media.py), each moved
    past the value measured over the calls."""
    for key, label, top in (("mos_p5_min", "MOS p5", 4.5), ("two_way_media_min",
                                                              ": two-way media", 100.0)):
        if key not in p:
            continue
        got = measured(results, label)
        if got and max(got) < top:
            want = round(min(top, max(got) + max(0.01, (top - max(got)) / 2)), 3)
            value = f"{want:g}%" if key == "two_way_media_min" else want
            m.add(p, f"{key} {p[key]} -> {value} (past the measured {max(got):g})",
                  **{key: value})
        else:
            m.note(f"{key}: the measured value is {got or '?'}, no bound above it")
    for key, label, fmt in (("loss_p95_max", "loss p95", lambda v: f"{v:g}%"),
                            ("jitter_p95_max", "jitter p95", lambda v: f"{v:g}ms"),
                            ("setup_p95_max", "setup", lambda v: f"{v:g}ms"),
                            ("one_way_calls_max", "calls without two-way media", int)):
        if key not in p:
            continue
        got = measured(results, label)
        if got and min(got) > 0:
            value = fmt(min(got) - 1) if key == "one_way_calls_max" else fmt(
                round(min(got) / 2, 3))
            m.add(p, f"{key} {p[key]} -> {value} (below the measured {min(got):g})",
                  **{key: value})
        else:
            m.note(f"{key}: the measured value is {got or '?'}, no bound below it")


def sip(p: Mapping[str, Any], results) -> tuple[list[Mutant], list[str]]:
    """Counts +-1. An expectation of presence: each filter made to match nothing;
    of absence (count 0): each filter dropped, so that it matches more."""
    m = Mutation()
    _count(m, p, results)
    filters = ("method", "status", "request_uri", "body", "sdp", "headers", "call")
    if "sequence" in p:
        seq = list(p["sequence"])
        m.add(p, f"sequence: {ABSENT_METHOD} appended", sequence=seq + [ABSENT_METHOD])
        if len(seq) > 1 and seq[0] != seq[1]:
            m.add(p, "sequence: its first two swapped", sequence=[seq[1], seq[0], *seq[2:]])
    elif _absence(p):
        dropped = [k for k in filters if k in p]
        if dropped:      # vacuous when nothing at all passes between them either
            m.add(p, f"its filters ({', '.join(dropped)}) dropped: any message between "
                  "them breaks the absence", response=True, **{k: _DROP for k in dropped})
        content = [k for k in ("headers", "body", "request_uri", "sdp") if k in p]
        if len(dropped) > 1:   # "no X-Foo in bob's INVITE" when bob sent no INVITE at all
            for key in content:
                m.add(p, f"its {key} filter dropped: a message the other filters match "
                      "breaks the absence", **{key: _DROP})
    else:
        if "method" in p:
            other = ABSENT_METHOD if str(p["method"]).upper() != ABSENT_METHOD else "NOTIFY"
            m.add(p, f"method {p['method']} -> {other}", method=other)
        if "status" in p:
            m.add(p, f"status {p['status']} -> 599", status=599)
        for key in ("request_uri", "body"):
            if key in p:
                m.add(p, f"{key} /{p[key]}/ -> a pattern nothing matches", **{key: NOMATCH})
        sdp = p.get("sdp") or {}
        if "direction" in sdp:
            other = next(d for d in DIRECTIONS if d != sdp["direction"])
            m.add(p, f"sdp direction {sdp['direction']} -> {other}",
                  sdp={**sdp, "direction": other})
        for key in ("profile", "crypto"):
            if key in sdp:
                m.add(p, f"sdp {key} {sdp[key]} -> a value no SDP has",
                      sdp={**sdp, key: "SIPSCEN/MUTANT"})
        _headers(m, p)       # (no leg flip: BYE, re-INVITE, OPTIONS go both ways by design)
    return m.result()


def incoming(p: Mapping[str, Any], results) -> tuple[list[Mutant], list[str]]:
    m = Mutation()
    _count(m, p, results)
    if "request_uri" in p:
        m.add(p, f"request_uri /{p['request_uri']}/ -> a pattern nothing matches",
              request_uri=NOMATCH)
    _headers(m, p)
    return m.result()


CANDIDATES = ("relay", "srflx", "prflx", "host")


def ice(p: Mapping[str, Any], results) -> tuple[list[Mutant], list[str]]:
    m = Mutation()
    have = list(p.get("candidates") or ["host"])
    missing = [c for c in CANDIDATES if c not in have]
    if missing:
        m.add(p, f"candidates {have} -> {have + missing[:1]}", candidates=have + missing[:1])
    if "server" in p:
        m.note("server: no other TURN service to name")
    return m.result()


def registration(p: Mapping[str, Any], results) -> tuple[list[Mutant], list[str]]:
    m = Mutation()
    for key in ("registered", "unregistered"):
        if key in p:
            m.add(p, f"{key} {p[key]} -> {not p[key]}", **{key: not p[key]})
    if "status" in p:
        other = other_status(p["status"], _status_codes(results))
        m.add(p, f"status {p['status']} -> {other}", status=other)
    expires = p.get("expires") or {}
    got = measured(results, "expires")
    if expires and not got:
        m.note("expires: no expiry measured to move its bounds past")
    if expires and got:
        if "min" in expires:
            m.add(p, f"expires min {expires['min']} -> {int(max(got)) + 1}s (past the measured "
                  f"{int(max(got))}s)", expires={"min": f"{int(max(got)) + 1}s"})
        if "max" in expires:
            if min(got) >= 1:
                m.add(p, f"expires max {expires['max']} -> {int(min(got)) - 1}s (below the "
                      f"measured {int(min(got))}s)", expires={"max": f"{int(min(got)) - 1}s"})
            else:
                m.note("expires max: the measured expiry is 0 s, no bound below it")
    return m.result()


def transport(p: Mapping[str, Any], results) -> tuple[list[Mutant], list[str]]:
    m = Mutation()
    other = "tcp" if p["protocol"] == "udp" else "udp"
    m.add(p, f"protocol {p['protocol']} -> {other}", protocol=other)
    return m.result()


def log(p: Mapping[str, Any], results) -> tuple[list[Mutant], list[str]]:
    m = Mutation()
    matches = list(p.get("matches") or [])
    for i, pattern in enumerate(matches):
        m.add(p, f"matches /{pattern}/ -> a pattern the log does not have",
              matches=matches[:i] + [NOMATCH] + matches[i + 1:])
    absent = list(p.get("absent") or [])
    for i, pattern in enumerate(absent):
        present = matches[0] if matches else "."
        m.add(p, f"absent /{pattern}/ -> /{present}/ (a pattern the log has)",
              absent=absent[:i] + [present] + absent[i + 1:])
    return m.result()


def media(p: Mapping[str, Any], results) -> tuple[list[Mutant], list[str]]:
    m = Mutation()
    for key in ("anchored", "transcoded", "rekeyed"):
        if key in p:
            m.add(p, f"{key} {p[key]} -> {not p[key]}", **{key: not p[key]})
    if not any(k in p for k in ("anchored", "transcoded", "rekeyed")):
        m.note("only `between` and `via`: nothing asserted to falsify")
    return m.result()


def rtp(p: Mapping[str, Any], results) -> tuple[list[Mutant], list[str]]:
    m = Mutation()
    if p.get("none"):
        m.add(p, "none true -> min_packets 1 (media expected)", none=_DROP, min_packets=1)
        return m.result()
    got = measured(results, "", "packets")
    if "min_packets" in p and got:
        m.add(p, f"min_packets {p['min_packets']} -> {int(max(got)) + 1} (past the measured "
              f"{int(max(got))})", min_packets=int(max(got)) + 1)
    elif "min_packets" in p:
        m.note("min_packets: no packet count measured to move it past")
    for key, measure, unit, fmt in (("max_loss", "loss_pct", "%", lambda v: f"{v:g}%"),
                                    ("max_jitter", "jitter_ms", " ms",
                                     lambda v: f"{v / 1000:g}s"),
                                    ("max_gap", "max_gap_ms", " ms",
                                     lambda v: f"{v / 1000:g}s")):
        if key not in p:
            continue
        got = measured(results, "", measure)
        if got and min(got) > 0:
            low = min(got) / 2
            m.add(p, f"{key} {p[key]} -> {fmt(low)} (below the measured {min(got):g}{unit})",
                  **{key: fmt(low)})
        else:
            m.note(f"{key}: the measured {measure} is {min(got) if got else '?'}, "
                   "no bound below it")
    if "min_mos" in p:
        got = measured(results, "", "mos")
        if got and max(got) < 4.5:
            want = round(min(4.5, max(got) + 0.01), 2)
            m.add(p, f"min_mos {p['min_mos']} -> {want} (past the measured {max(got):g})",
                  min_mos=want)
        else:
            m.note(f"min_mos: the measured MOS is {got or '?'}, no bound above it")
    if not m.mutants:      # no bound to move: media was there, so none at all must fail
        m.add(p, "none: no media at all expected", none=True, **{
            k: _DROP for k in ("min_packets", "max_loss", "max_jitter", "max_gap", "min_mos")})
    return m.result()


def _tolerance(tone: Mapping[str, Any], freq: float) -> float:
    tol = str(tone.get("tolerance", "3%")).replace(" ", "")
    if tol.endswith("%"):
        return freq * float(tol[:-1]) / 100
    return float(tol.removesuffix("Hz"))


def _hz(value: Any) -> float:
    text = str(value).replace(" ", "")
    if text.endswith("kHz"):
        return float(text[:-3]) * 1000
    return float(text.removesuffix("Hz"))


def audio(p: Mapping[str, Any], results) -> tuple[list[Mutant], list[str]]:
    m = Mutation()
    for key, flip in (("tone", "no_tone"), ("no_tone", "tone")):
        tone = p.get(key)
        if not isinstance(tone, dict):
            continue
        m.add(p, f"{key} flipped to {flip}", **{key: _DROP, flip: tone})
        if key != "tone":
            continue
        freqs = tone.get("frequencies") or [tone.get("frequency")]
        shifted = []
        for f in freqs:
            hz = _hz(f)
            shifted.append(round(hz + 2 * _tolerance(tone, hz), 1))
        fkey = "frequencies" if "frequencies" in tone else "frequency"
        value = shifted if fkey == "frequencies" else shifted[0]
        m.add(p, f"tone {fkey} {freqs} -> {shifted} (off by twice its tolerance)",
              tone={**tone, fkey: value})
        got = measured(results, "", "seconds")
        if got:
            m.add(p, f"tone min_duration -> {seconds(above(got))} (longer than the measured "
                  f"phase of {max(got):g}s)", tone={**tone, "min_duration": seconds(above(got))})
        got = measured(results, "", "level_dbfs")
        if got and max(got) < -1:
            want = round(min(0.0, max(got) + 3), 1)
            m.add(p, f"tone min_level -> {want} dBFS (above the measured {max(got):g})",
                  tone={**tone, "min_level": want})
    for key, flip in (("silent", "not_silent"), ("not_silent", "silent")):
        if p.get(key):
            m.add(p, f"{key} flipped to {flip}", **{key: _DROP, flip: True})
    if "matches" in p:
        got = measured(results, "", "score")
        if got and max(got) < 0.999:
            want = round(min(1.0, max(got) + (1 - max(got)) / 2), 4)
            m.add(p, f"min_score {p.get('min_score', '(default)')} -> {want} (past the measured "
                  f"{max(got):g})", min_score=want)
        else:
            m.note(f"matches: the measured score is {got or '?'}, no bound above it")
    return m.result()
