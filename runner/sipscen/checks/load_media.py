"""What the callers of a load run heard: per-call media figures, judged over every call.

``load: {agent, mos_p5_min, loss_p95_max, jitter_p95_max, two_way_media_min,
one_way_calls_max, setup_p95_max, interval}`` (``checks/load.py`` registers the
keys; this module summarises the capture and judges them).

**Summary** (``summarise``), from the wire analysis (``analyze.py`` gives each
RTP stream its loss, jitter and E-model MOS): the calls whose INVITE the agent
sent or received; per call its setup time (INVITE to the first 2xx, on the
agent's side) and its two media directions, found by the call's own SDP
addresses and time (``_StreamIndex``) and owned by whoever's SDP announced
them in that call, each judged where it *arrives*: "in" is the RTP arriving at
the agent, "out" the RTP arriving at the far end's agent (or, when the far end
is no agent of the run, what the agent sent). A direction with fewer than
``MIN_PACKETS`` packets carries no media. A call is two-way, one-way or silent.
Answered calls the capture did not see whole (no INVITE, or no BYE) are counted
and named, and left out of the media figures.

Histograms, the time series and the merge of distributed generators are in
``checks/load_series.py``.
"""
from __future__ import annotations

from typing import Any

from sipscen.core.results import FAILED, PASSED, WIRE, CheckResult
from sipscen.core.model import parse_duration
from sipscen.analysis.result import WireAnalysis, WireCall, WireStream
from sipscen.checks.sipp_facts import sipp_facts
from sipscen.checks.load_series import (DEFAULT_INTERVAL, NAMED, UNITS, WORST, hist_add,
                                        hist_count, hist_percentile, series)

MEDIA_KEYS = ("mos_p5_min", "loss_p95_max", "jitter_p95_max", "two_way_media_min",
              "one_way_calls_max", "setup_p95_max")
MIN_PACKETS = 5          # fewer RTP packets than this in a direction: no media that way


# --- the summary of one agent's calls -----------------------------------------------------
def _direction(streams: list[WireStream]) -> dict[str, Any] | None:
    """One direction of a call from its streams (an SSRC change makes several)."""
    streams = [s for s in streams if int(s.packets or 0) > 0]
    packets = sum(int(s.packets or 0) for s in streams)
    if packets < MIN_PACKETS:
        return None
    lost = sum(int(s.lost or 0) for s in streams)
    dups = sum(int(s.duplicated or 0) for s in streams)
    expected = packets - dups + lost
    loss = round(100.0 * lost / expected, 2) if expected > 0 else 0.0
    mos = min(float((s.quality or {}).get("mos") or 0.0) for s in streams)
    jitter = max(float(s.jitter_ms or 0.0) for s in streams)
    return {"packets": packets, "loss": loss, "jitter": jitter, "mos": mos,
            "src": streams[0].src, "dst": streams[0].dst}


def _agent_address(ctx, agent: str) -> str | None:
    contact = (getattr(ctx, "contacts", None) or {}).get(agent)
    return contact.hostport if contact is not None else None


def _calls_of(wire: WireAnalysis, address: str) -> list[WireCall]:
    out = []
    for call in wire.calls:
        for m in call.messages:
            if m.method == "INVITE" and address in (m.src, m.dst):
                out.append(call)
                break
    return out


def _timing(call: WireCall, address: str) -> tuple[float | None, float | None, float | None]:
    """(first INVITE, first 2xx after it, first BYE) times on the agent's side."""
    invite = answer = bye = None
    for m in call.messages:
        t = m.time
        if invite is None and m.method == "INVITE" and address in (m.src, m.dst):
            invite = t
        elif (invite is not None and answer is None and m.status
              and 200 <= int(m.status) < 300 and address in (m.src, m.dst)):
            answer = t
        elif bye is None and m.method == "BYE":
            bye = t
    return invite, answer, bye


def summarise(agent: str, ctx, interval: float = DEFAULT_INTERVAL,
              attempted: int | None = None) -> dict[str, Any] | None:
    """The media summary of the calls ``agent`` placed or answered (None without a
    wire analysis or an address for the agent)."""
    wire: WireAnalysis | None = getattr(ctx, "wire", None)
    address = _agent_address(ctx, agent)
    if not wire or address is None:
        return None
    calls = _calls_of(wire, address)
    index = _StreamIndex(wire.rtp_streams)
    contact = (getattr(ctx, "contacts", None) or {}).get(agent)
    # the ports the capture listened to (known when the run planned the media ranges)
    ranges = ctx.captured_ranges() if contact is not None and contact.media_ports else None
    hists: dict[str, dict[str, int]] = {k: {} for k in UNITS}
    counts = {"answered": 0, "failed": 0, "two_way": 0, "one_way": 0, "silent": 0,
              "not_whole": 0}
    named: dict[str, list] = {"one_way_calls": [], "not_whole_calls": []}
    directions: list[dict] = []          # every judged direction, for the worst lists
    setups: list[tuple[float, str]] = []
    timed: list[tuple[float, float | None, float | None, bool, list[dict]]] = []
    for call in calls:
        cid = call.call_id or ""
        invite, answer, bye = _timing(call, address)
        status = call.status
        ok = status is not None and 200 <= int(status) < 300
        start = invite if invite is not None else call.start
        if not ok:
            counts["failed"] += 1
            timed.append((start, None, None, False, []))
            continue
        counts["answered"] += 1
        if invite is None or bye is None:
            counts["not_whole"] += 1
            if len(named["not_whole_calls"]) < NAMED:
                named["not_whole_calls"].append(
                    {"call_id": cid, "missing": "INVITE" if invite is None else "BYE"})
            timed.append((start, answer, bye or call.end, True, []))
            continue
        if answer is not None:
            setup = round((answer - invite) * 1000.0, 3)
            hist_add(hists["setup"], "setup", setup)
            setups.append((setup, cid))
        legs = _legs(agent, call, index.of_call(call, invite, bye), ctx)
        have = [d for d in legs.values() if d is not None]
        kind = "two_way" if len(have) == 2 else "one_way" if have else "silent"
        outside = (_outside(call, ranges, agent, legs, ctx)
                   if kind != "two_way" and ranges is not None else "")
        if outside:          # no RTP seen where the capture did not listen: not "one-way"
            counts["not_whole"] += 1
            if len(named["not_whole_calls"]) < NAMED:
                named["not_whole_calls"].append(
                    {"call_id": cid, "missing": f"media at {outside}, outside the captured ports"})
            timed.append((start, answer, bye, True, []))
            continue
        counts[kind] += 1
        if kind != "two_way" and len(named["one_way_calls"]) < NAMED:
            named["one_way_calls"].append({"call_id": cid, "media": kind, "directions": [
                d["label"] for d in have]})
        for d in have:
            d["call_id"] = cid
            hist_add(hists["mos"], "mos", d["mos"])
            hist_add(hists["loss"], "loss", d["loss"])
            hist_add(hists["jitter"], "jitter", d["jitter"])
            directions.append(d)
        timed.append((start, answer, bye, True, have))
    summary = {"interval_s": interval, "calls": len(calls),
               "attempted": attempted, **counts, **named,
               "histograms": hists,
               "worst": _worst(directions, "mos", reverse=False),
               "worst_loss": _worst(directions, "loss", reverse=True),
               "worst_jitter": _worst(directions, "jitter", reverse=True),
               "worst_setup": [{"call_id": c, "setup_ms": s}
                               for s, c in sorted(setups, reverse=True)[:WORST]]}
    summary.update(series(timed, interval))
    incomplete = list(wire.incomplete)
    if incomplete:
        summary["incomplete"] = incomplete
    impaired = _impaired(ctx)
    if impaired:
        summary["impaired"] = impaired
    return summary


def _impaired(ctx) -> list[dict[str, Any]]:
    """The services whose media path the run impaired on purpose (``impair:``,
    core/netfilter.py): name, loss asked, packets seen and dropped on the way in."""
    out = []
    for name, facts in sorted((getattr(ctx, "services", None) or {}).items()):
        imp = (facts or {}).get("impair") if isinstance(facts, dict) else None
        if isinstance(imp, dict):
            out.append({"service": name, "loss_pct": imp.get("loss_pct"),
                        "packets": imp.get("packets"), "dropped": imp.get("dropped")})
    return out


def _impaired_text(summary: dict) -> str:
    items = []
    for imp in summary.get("impaired") or []:
        counted = (f", {imp['dropped']} of {imp['packets']} packets into it dropped"
                   if imp.get("packets") is not None else "")
        items.append(f"{imp['service']} {imp['loss_pct']:g}%{counted}")
    return ("media path impaired on purpose (loss into " + "; ".join(items) + ")"
            if items else "")


def _hostport(address: str | None, port) -> str:
    address = address or ""
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


class _StreamIndex:
    """The wire's RTP streams by address (either end), to find each call's own
    streams by its SDP and its time -- not by the analysis' stream-to-call link,
    which the last SDP naming an address wins (on a shared machine another
    program's call may name an address of the load's port range)."""

    def __init__(self, streams):
        self.by_address: dict[str, list[WireStream]] = {}
        for st in streams:
            for key in {st.src, st.dst}:
                if key:
                    self.by_address.setdefault(key, []).append(st)

    def of_call(self, call: WireCall, start: float, end: float) -> list[WireStream]:
        found: dict[int, WireStream] = {}
        for sdp in call.sdp:
            for m in sdp.get("media") or ():
                if not m.get("port"):
                    continue
                for st in self.by_address.get(_hostport(m.get("address"), m["port"]), ()):
                    first = st.first_time
                    if first is not None and start - 1.0 <= first <= end + 1.0:
                        found[id(st)] = st
        return list(found.values())


def _media_owners(call: WireCall, ctx) -> dict[str, str]:
    """Media address -> the party whose SDP first announced it in this call (by the
    SIP address the SDP came from: an agent or service of the run, else that address)."""
    by_sip = {c.hostport: name for name, c in (getattr(ctx, "contacts", None) or {}).items()}
    owners: dict[str, str] = {}
    for sdp in call.sdp:
        sender = by_sip.get(sdp.get("from") or "", sdp.get("from") or "?")
        for m in sdp.get("media") or ():
            if m.get("port"):
                owners.setdefault(_hostport(m.get("address"), m["port"]), sender)
    return owners


def _outside(call: dict, ranges: list[tuple[int, int]], agent: str, legs: dict, ctx) -> str:
    """Where a missing direction would have arrived, when the capture did not listen
    there: an SDP media address of its receiver (the agent for "in", anyone else for
    "out") on a port outside every captured range; "" when the capture could see it."""
    owners = _media_owners(call, ctx)
    for address, owner in owners.items():
        receiver_missing = legs["in"] is None if owner == agent else legs["out"] is None
        port = address.rpartition(":")[2]
        if receiver_missing and port.isdigit() and not any(
                lo <= int(port) <= hi for lo, hi in ranges):
            return address
    return ""


def _legs(agent: str, call: WireCall, streams: list[WireStream], ctx) -> dict[str, dict | None]:
    """{"in": direction arriving at the agent, "out": arriving at the far end's agent
    (else what the agent sent)}, by this call's own SDP."""
    owners = _media_owners(call, ctx)
    arriving_in, arriving_far, sent = [], [], []
    for st in streams:
        dst_owner = owners.get(st.dst or "")
        if dst_owner == agent:
            arriving_in.append(st)
        elif dst_owner is not None and ctx.is_agent(dst_owner):
            arriving_far.append(st)
        elif owners.get(st.src or "") == agent:
            sent.append(st)
    out = {"in": _direction(arriving_in), "out": _direction(arriving_far or sent)}
    for key, d in out.items():
        if d is not None:
            src = owners.get(d["src"] or "") or d["src"]
            dst = owners.get(d["dst"] or "") or d["dst"]
            d["label"] = f"{src}->{dst}"
    return out


def _worst(directions: list[dict], key: str, reverse: bool) -> list[dict]:
    ranked = sorted(directions, key=lambda d: d[key], reverse=reverse)[:WORST]
    return [{"call_id": d["call_id"], "direction": d["label"], "mos": d["mos"],
             "loss": round(d["loss"] / 100.0, 6), "jitter_ms": d["jitter"]} for d in ranked]


# --- judging ---------------------------------------------------------------------------------
def wants_media(params: dict[str, Any]) -> bool:
    return any(k in params for k in MEDIA_KEYS)


def percent(value: Any) -> float:
    text = str(value).strip()
    return float(text[:-1]) if text.endswith("%") else float(text)


def millis(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)          # a bare number is milliseconds here
    return parse_duration(value) * 1000.0


# The percentile bounds, judged alike: (key, result name, histogram, percentile,
# a lower bound?, how the key is read, unit, the worst-calls list, its figure)
_PERCENTILE_BOUNDS = (
    ("mos_p5_min", "MOS p5", "mos", 5, True, float, "", "worst", "mos"),
    ("loss_p95_max", "loss p95", "loss", 95, False, percent, "%", "worst_loss", "loss"),
    ("jitter_p95_max", "jitter p95", "jitter", 95, False, millis, " ms", "worst_jitter",
     "jitter_ms"),
)


def judge(agent: str, params: dict[str, Any], summary: dict[str, Any] | None,
          location: str, why_none: str = "") -> list[CheckResult]:
    """One result per media bound given (evidence: the capture)."""
    results: list[CheckResult] = []
    wanted = [k for k in MEDIA_KEYS if k in params]
    if not wanted:
        return results

    def add(name: str, ok: bool, expected: Any, actual: Any, detail: str = "",
            held: str | None = None) -> None:
        # a bound that holds still says what the figures leave out (calls not seen whole)
        msg = (note if held is None else held) if ok else \
            f"expected {expected}, got {actual}" + (f"; {detail}" if detail else "")
        results.append(CheckResult(name=f"load {agent}: {name}", status=PASSED if ok else FAILED,
                                   expected=expected, actual=actual, message=msg,
                                   location=location, evidence=WIRE))

    note = ""
    if summary is None:
        for key in wanted:
            add(_NAMES[key], False, _expected(key, params[key]), "no evidence",
                why_none or "no capture to judge the calls' media from")
        return results
    hists = summary.get("histograms") or {}
    whole = int(summary.get("answered") or 0) - int(summary.get("not_whole") or 0)
    note = _coverage(summary)
    impaired = _impaired_text(summary)
    for key, name, hist, pct, at_least, parse, unit, worst, field in _PERCENTILE_BOUNDS:
        if key not in params:
            continue
        value = hist_percentile(hists.get(hist) or {}, hist, pct)
        bound = parse(params[key])
        held = value is not None and (value >= bound if at_least else value <= bound)
        add(name, held, f"{'>=' if at_least else '<='} {bound:g}{unit}",
            _of(value, hists.get(hist), whole, unit),
            _join(_worst_text(summary[worst], field), impaired, note) if value is not None
            else _join("no media direction to judge", impaired, note), _join(impaired, note))
    if "two_way_media_min" in params:
        bound = percent(params["two_way_media_min"])
        two = int(summary.get("two_way") or 0)
        share = round(100.0 * two / whole, 3) if whole > 0 else None
        add("two-way media", share is not None and share >= bound, f">= {bound:g}% of calls",
            f"{share:g}% ({two} of {whole} answered calls)" if share is not None
            else "no answered call seen whole", _join(_one_way_text(summary), note))
    if "one_way_calls_max" in params:
        bound = int(params["one_way_calls_max"])
        bad = int(summary.get("one_way") or 0) + int(summary.get("silent") or 0)
        add("calls without two-way media", whole > 0 and bad <= bound, f"<= {bound}",
            f"{bad} ({summary.get('one_way', 0)} one-way, {summary.get('silent', 0)} silent, "
            f"of {whole} answered calls)" if whole > 0 else "no answered call seen whole",
            _join(_one_way_text(summary), note))
    if "setup_p95_max" in params:
        p95 = hist_percentile(hists.get("setup") or {}, "setup", 95)
        bound = millis(params["setup_p95_max"])
        slow = ", ".join(f"{d['call_id']} {d['setup_ms']:g} ms"
                         for d in summary.get("worst_setup") or [])
        add("setup time p95", p95 is not None and p95 <= bound, f"<= {bound:g} ms",
            _of(p95, hists.get("setup"), whole, " ms", "answered calls"),
            _join(f"slowest: {slow}" if slow else "", note) if p95 is not None
            else _join("no answered call seen whole", note))
    return results


_NAMES = {"mos_p5_min": "MOS p5", "loss_p95_max": "loss p95", "jitter_p95_max": "jitter p95",
          "two_way_media_min": "two-way media", "one_way_calls_max": "calls without two-way media",
          "setup_p95_max": "setup time p95"}


def _expected(key: str, value: Any) -> str:
    return f"{'>=' if key.endswith('_min') else '<='} {value}"


def _of(value: float | None, hist: dict | None, calls: int, unit: str = "",
        what: str = "") -> str:
    if value is None:
        return "no value"
    if what:
        return f"{value:g}{unit} (over {hist_count(hist or {})} {what})"
    return f"{value:g}{unit} (over {hist_count(hist or {})} media directions of {calls} calls)"


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def _worst_text(worst: list[dict], key: str) -> str:
    if not worst:
        return ""
    unit = {"loss": "", "jitter_ms": " ms", "mos": ""}[key]
    items = []
    for d in worst:
        value = f"{d['loss'] * 100:g}%" if key == "loss" else f"{d[key]:g}{unit}"
        items.append(f"{d['call_id']} {d['direction']} {value}")
    return "worst: " + ", ".join(items)


def _one_way_text(summary: dict) -> str:
    calls = summary.get("one_way_calls") or []
    if not calls:
        return ""
    text = ", ".join(f"{c['call_id']} ({c['media'].replace('_', '-')}"
                     + (f": only {', '.join(c['directions'])}" if c['directions'] else "") + ")"
                     for c in calls[:WORST])
    more = int(summary.get("one_way") or 0) + int(summary.get("silent") or 0) - len(calls[:WORST])
    return f"calls without two-way media: {text}" + (f" and {more} more" if more > 0 else "")


def _coverage(summary: dict) -> str:
    """What the figures leave out: calls the capture did not see whole, or missed."""
    notes = []
    nw = int(summary.get("not_whole") or 0)
    if nw:
        ids = ", ".join(f"{c['call_id']} (no {c['missing']})"
                        for c in (summary.get("not_whole_calls") or [])[:3])
        notes.append(f"{nw} answered call(s) not seen whole by the capture, left out: {ids}")
    attempted, seen = summary.get("attempted"), int(summary.get("calls") or 0)
    if attempted is not None and seen < int(attempted):
        notes.append(f"the capture holds {seen} of the {attempted} calls placed")
    return "; ".join(notes)


def summaries(expectations, ctx) -> dict[str, dict[str, Any]]:
    """{agent: summary} for every ``load`` expectation's agent (the run's
    ``ScenarioResult.load``; empty without a wire analysis)."""
    out: dict[str, dict[str, Any]] = {}
    if not getattr(ctx, "wire", None):
        return out
    intervals: dict[str, float] = {}
    for exp in expectations:
        if exp.kind == "load" and exp.params.get("agent"):
            agent = str(exp.params["agent"])
            if "interval" in exp.params or agent not in intervals:
                intervals[agent] = (millis(exp.params["interval"]) / 1000.0
                                    if "interval" in exp.params else DEFAULT_INTERVAL)
    for agent, interval in intervals.items():
        record = sipp_facts(agent, ctx)
        stats = (record.stats or {}) if record else {}
        side_uac = record is not None and record.side == "uac"
        summary = summarise(agent, ctx, interval,
                            int(stats["attempted"]) if side_uac and "attempted" in stats else None)
        if summary is not None:
            out[agent] = summary
    return out
