"""Mutants: falsified copies of an expectation, to prove that it can fail.

Each expectation family declares its mutator by dotted path
(``ExpectationFamily.mutate = "sipscen.checks.mutants_signalling:call"``), as it declares
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

The mutators themselves: ``checks/mutants_signalling.py`` (call, sip, incoming,
registration, transport, response, load, log) and ``checks/mutants_media.py``
(codec, srtp, leg, dtmf, ice, media, rtp, audio). The engine that judges
mutants is ``sipscen.engine.mutation``. Prints nothing.
"""
from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

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
            if value is DROP:
                new.pop(key, None)
            else:
                new[key] = value
        self.mutants.append(Mutant(what, new, kind))

    def note(self, text: str) -> None:
        self.notes.append(text)

    def result(self) -> tuple[list[Mutant], list[str]]:
        return self.mutants, self.notes


DROP = object()


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


def halfway_to_one(m: "Mutation", p: Mapping[str, Any], key: str, current: Any,
                   got: list[float], *, digits: int, limit: float = 1.0,
                   note_key: str | None = None, noun: str = "value") -> None:
    """A lower bound on a 0..1 figure moved halfway from the best measured value to 1
    (past what was measured), or a note when the measure leaves no room above it."""
    if got and max(got) < limit:
        want = round(min(1.0, max(got) + (1 - max(got)) / 2), digits)
        m.add(p, f"{key} {current} -> {want} (past the measured {max(got):g})", **{key: want})
    else:
        m.note(f"{note_key or key}: the measured {noun} is {got or '?'}, no bound above it")


def status_codes(results) -> list[int]:
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


def count_bounds(m: Mutation, p: Mapping[str, Any], results, label: str = "count") -> None:
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


def is_absence(p: Mapping[str, Any]) -> bool:
    """An expectation that something did not happen (count 0, max 0)."""
    count = p.get("count")
    if isinstance(count, int) and not isinstance(count, bool):
        return count == 0
    return isinstance(count, dict) and count.get("max") == 0


def header_mutants(m: Mutation, p: Mapping[str, Any], key: str = "headers") -> None:
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
