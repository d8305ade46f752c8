"""Mutators of the signalling families: call, sip, incoming, registration,
transport, response, load, log (checks/mutants.py says what a mutator is)."""
from __future__ import annotations

from typing import Any, Mapping

from sipscen.checks.mutants import (ABSENT_METHOD, DIRECTIONS, DROP, NOMATCH, Mutant, Mutation,
                                    above, count_bounds, halfway_to_one, header_mutants,
                                    is_absence, measured, numbers, other_status, seconds,
                                    status_codes)


CALL_TIMINGS = ("post_dial_delay", "ring_time", "answer_time", "final_time", "cancel_time")


def call(p: Mapping[str, Any], results) -> tuple[list[Mutant], list[str]]:
    m = Mutation()
    count_bounds(m, p, results)
    if "answered" in p:
        m.add(p, f"answered {p['answered']} -> {not p['answered']}", answered=not p["answered"])
    if "status" in p:
        other = other_status(p["status"], status_codes(results))
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


def response(p: Mapping[str, Any], results) -> tuple[list[Mutant], list[str]]:
    """Each message's answer expected otherwise: another status class than the one
    received, or an answer where none came (or a header that matches nothing)."""
    m = Mutation()
    if "status" in p:               # the expectation's own status: another class
        cls = "2xx" if not str(p["status"]).startswith("2") else "4xx"
        m.add(p, f"status {p['status']} -> {cls}", status=cls, nothing=DROP)
    if "nothing" in p:              # no answer expected: an answer expected
        m.add(p, f"nothing within {p['nothing']} -> an answer (status 200)", nothing=DROP,
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
    if "rate_min_ratio" in p:
        halfway_to_one(m, p, "rate_min_ratio", p["rate_min_ratio"],
                       measured(results, "achieved call rate"), digits=6, noun="ratio")
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
    count_bounds(m, p, results)
    filters = ("method", "status", "request_uri", "body", "sdp", "headers", "call")
    if "sequence" in p:
        seq = list(p["sequence"])
        m.add(p, f"sequence: {ABSENT_METHOD} appended", sequence=seq + [ABSENT_METHOD])
        m.add(p, f"sequence: its first element {seq[0]!r} -> {ABSENT_METHOD}",
              sequence=[ABSENT_METHOD, *seq[1:]])
    elif is_absence(p):
        dropped = [k for k in filters if k in p]
        if dropped:      # vacuous when nothing at all passes between them either
            m.add(p, f"its filters ({', '.join(dropped)}) dropped: any message between "
                  "them breaks the absence", response=True, **{k: DROP for k in dropped})
        content = [k for k in ("headers", "body", "request_uri", "sdp") if k in p]
        if len(dropped) > 1:   # "no X-Foo in bob's INVITE" when bob sent no INVITE at all
            for key in content:
                m.add(p, f"its {key} filter dropped: a message the other filters match "
                      "breaks the absence", **{key: DROP})
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
        header_mutants(m, p)       # (no leg flip: BYE, re-INVITE, OPTIONS go both ways by design)
    return m.result()


def incoming(p: Mapping[str, Any], results) -> tuple[list[Mutant], list[str]]:
    m = Mutation()
    count_bounds(m, p, results)
    if "request_uri" in p:
        m.add(p, f"request_uri /{p['request_uri']}/ -> a pattern nothing matches",
              request_uri=NOMATCH)
    header_mutants(m, p)
    return m.result()


def registration(p: Mapping[str, Any], results) -> tuple[list[Mutant], list[str]]:
    m = Mutation()
    for key in ("registered", "unregistered"):
        if key in p:
            m.add(p, f"{key} {p[key]} -> {not p[key]}", **{key: not p[key]})
    if "status" in p:
        other = other_status(p["status"], status_codes(results))
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
