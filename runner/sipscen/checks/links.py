"""Calls linked through a B2BUA: one leg in, one leg out, two Call-IDs.

A service declared ``b2bua: true`` (or ``b2bua: {header: NAME}``) answers a
call on one leg and places another: the capture shows two SIP calls with
different Call-IDs. They are linked

* by a correlation header the scenario names: the outgoing leg's INVITE
  carries NAME whose value is the incoming leg's Call-ID, or both INVITEs carry
  NAME with the same value;
* else by timing and parties: the outgoing leg's INVITE is sent by the
  service after the incoming leg's INVITE reached it and before that leg got
  its final answer (or within ``WINDOW`` seconds), the closest such one.

``linked_ids(ctx, a, b)`` gives the Call-IDs of both legs of every linked pair
whose one leg has ``a`` and other leg ``b`` as a party; ``call_ids_between``
adds them, so every check between a and b (call, dtmf, codec, srtp) reads
both legs and agrees with what the agents themselves saw.
"""
from __future__ import annotations

import re
from typing import Any

WINDOW = 5.0


def _invite(call: dict) -> dict | None:
    return next((m for m in call.get("messages", []) if m.get("method") == "INVITE"), None)


def _final_time(call: dict) -> float | None:
    for m in call.get("messages", []):
        if (m.get("status") or 0) >= 200 and "(INVITE)" in (m.get("summary") or ""):
            return m.get("time")
    return None


def _header(raw: str, name: str) -> str | None:
    head = raw.split("\r\n\r\n", 1)[0]
    m = re.search(rf"^{re.escape(name)}\s*:\s*(.+?)\s*$", head, re.IGNORECASE | re.MULTILINE)
    return m.group(1) if m else None


def b2bua_links(ctx: Any) -> list[tuple[str, str]]:
    """(incoming leg Call-ID, outgoing leg Call-ID) for every declared B2BUA."""
    links: list[tuple[str, str]] = []
    calls = (ctx.wire or {}).get("calls", [])
    for spec in getattr(ctx.scenario, "services", ()):
        how = dict(spec.config).get("b2bua")
        if not how:
            continue
        header = how.get("header") if isinstance(how, dict) else None
        name = spec.name
        legs_in, legs_out = [], []
        for call in calls:
            inv = _invite(call)
            if inv is None:
                continue
            if ctx.owns(name, inv.get("dst", "")):
                legs_in.append((call, inv))
            elif ctx.owns(name, inv.get("src", "")):
                legs_out.append((call, inv))
        for out, out_inv in legs_out:
            match = None
            if header:
                value = _header(out_inv.get("raw") or "", header)
                for cin, in_inv in legs_in:
                    if value and (value == cin.get("call_id") or
                                  value == _header(in_inv.get("raw") or "", header)):
                        match = cin
                        break
            else:
                t = out_inv.get("time") or 0.0
                best = None
                for cin, in_inv in legs_in:
                    t0 = in_inv.get("time") or 0.0
                    answered = _final_time(cin)
                    if t0 <= t and (t - t0 <= WINDOW or (answered is not None and t <= answered)):
                        if best is None or t0 > (best[1].get("time") or 0.0):
                            best = (cin, in_inv)
                match = best[0] if best else None
            if match is not None and match.get("call_id") and out.get("call_id"):
                links.append((match["call_id"], out["call_id"]))
    return links


def _parties(ctx: Any, call_id: str) -> set[str]:
    for call in (ctx.wire or {}).get("calls", []):
        if call.get("call_id") == call_id:
            return {ctx.agent_of(m.get(end, "")) for m in call.get("messages", [])
                    for end in ("src", "dst")} - {None}
    return set()


def linked_ids(ctx: Any, a: str, b: str) -> set[str]:
    ids: set[str] = set()
    for cin, cout in b2bua_links(ctx):
        pin, pout = _parties(ctx, cin), _parties(ctx, cout)
        if (a in pin and b in pout) or (b in pin and a in pout):
            ids |= {cin, cout}
    return ids
