"""The SIP ladder diagram (inline SVG) of one scenario's captured call flow.

One vertical lane per address (labelled with the agent's name when the agent
facts give its SIP URI), one horizontal arrow per SIP message in time order
with its time and summary. Each arrow is a focusable ``<g class="msg">``
carrying ``data-raw="ID"``: the whole message sits in a hidden ``<pre id="ID">``
that the page's script shows when the arrow is clicked. This module computes
the geometry only; ``templates/ladder.html.j2`` draws it (autoescaped).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sipscen.report.views import norm_addr

LANE_WIDTH = 250
CHAR_WIDTH = 7.3        # px per character of the 12px monospace summary
TIME_COLUMN = 86
TOP = 58
ROW = 34
SELF_LOOP = 38
MAX_ARROWS = 400    # a load run's thousands of messages: the first ones, and how many more
PALETTE = ("#1f6feb", "#8250df", "#bf8700", "#0a7f6f", "#cf222e", "#57606a")


@dataclass
class LadderMessage:
    index: int
    time: float | None
    src: str
    dst: str
    summary: str
    raw: str | None
    call: int          # index of its call in wire["calls"] (arrow colour)
    call_id: str


def ladder_messages(calls: list[dict[str, Any]]) -> list[LadderMessage]:
    """Every SIP message of every call, in time order (stable for equal times)."""
    found = []
    for call_index, call in enumerate(calls):
        for m in call.get("messages") or []:
            if not isinstance(m, dict):
                continue
            found.append((call_index, str(call.get("call_id") or ""), m))
    found.sort(key=lambda item: (item[2].get("time") is None, item[2].get("time") or 0.0))
    return [LadderMessage(i, _num(m.get("time")), norm_addr(m.get("src")), norm_addr(m.get("dst")),
                          str(m.get("summary") or ""), m.get("raw"), call_index, call_id)
            for i, (call_index, call_id, m) in enumerate(found)]


def _num(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def lanes_for(messages: list[LadderMessage]) -> list[str]:
    """Lane addresses in the order they first appear (the caller first, the callee last)."""
    seen: list[str] = []
    for m in messages:
        for addr in (m.src, m.dst):
            if addr not in seen:
                seen.append(addr)
    return seen


def _kind(summary: str) -> str:
    """CSS class of an arrow: req, r1xx, r2xx, r3xx (3xx-6xx)."""
    head = summary.strip()[:3]
    if head.isdigit():
        return {"1": "r1xx", "2": "r2xx"}.get(head[0], "r3xx")
    if head.upper().startswith("SIP"):
        parts = summary.split()
        code = parts[1] if len(parts) > 1 else ""
        return {"1": "r1xx", "2": "r2xx"}.get(code[:1], "r3xx") if code[:1].isdigit() else "req"
    return "req"


def _fmt_time(t: float | None, offset: float) -> str:
    return "?" if t is None else f"{t - offset:.3f}s"


def ladder_view(calls: list[dict[str, Any]], labels: dict[str, str], prefix: str,
                offset: float = 0.0) -> dict[str, Any] | None:
    """The ladder's geometry and texts for ``templates/ladder.html.j2``, or None when
    the capture holds no SIP message.

    ``prefix`` makes element ids unique in the page (one ladder per scenario);
    ``offset`` is subtracted from capture times (see ``views.wire_offset``).
    Nothing here is markup: the template escapes every text.
    """
    messages = ladder_messages(calls)
    if not messages:
        return None
    total = len(messages)
    messages = messages[:MAX_ARROWS]
    lanes = lanes_for(messages)
    x_of = {addr: TIME_COLUMN + LANE_WIDTH // 2 + i * LANE_WIDTH for i, addr in enumerate(lanes)}
    width = TIME_COLUMN + LANE_WIDTH * len(lanes) + SELF_LOOP
    height = TOP + ROW * (len(messages) + 1)
    arrows = []
    for m in messages:
        y = TOP + ROW * m.index + ROW // 2
        x1, x2 = x_of[m.src], x_of[m.dst]
        room = max(12, int((abs(x2 - x1) or LANE_WIDTH) / CHAR_WIDTH) - 2)
        arrow = {
            "index": m.index, "y": y, "kind": _kind(m.summary), "raw_id": f"{prefix}-raw-{m.index}",
            "colour": PALETTE[m.call % len(PALETTE)], "time": _fmt_time(m.time, offset),
            "title": f"{_fmt_time(m.time, offset)} {m.src} -> {m.dst}: {m.summary} "
                     f"(Call-ID {m.call_id})",
            "summary": m.summary if len(m.summary) <= room else m.summary[: room - 3] + "...",
            "header": f"{_fmt_time(m.time, offset)}  {m.src} -> {m.dst}  (Call-ID {m.call_id})",
            "body": str(m.raw) if m.raw else f"{m.summary}\n\n(the whole message was not captured)",
            "x1": x1, "x2": x2,
        }
        if x1 == x2:                                 # a message to itself: a small loop
            arrow.update(loop=f"M {x1} {y - 6} h {SELF_LOOP} v 12 h {-SELF_LOOP + 2}",
                         label_x=x1 + SELF_LOOP + 4, anchor="start")
        else:
            arrow.update(loop=None, end=x2 - 3 if x2 > x1 else x2 + 3,
                         label_x=(x1 + x2) // 2, anchor="middle")
        arrows.append(arrow)
    call_ids = list(dict.fromkeys(m.call_id for m in messages))
    legend = []
    if len(call_ids) > 1:                  # several calls (dialogs): say which colour is which
        calls_of = {m.call_id: m.call for m in messages}
        legend = [{"call_id": c, "colour": PALETTE[calls_of[c] % len(PALETTE)]} for c in call_ids]
    return {"prefix": prefix, "width": width, "height": height, "top": TOP, "total": total,
            "lanes": [{"x": x_of[a], "addr": a, "name": labels.get(a)} for a in lanes],
            "arrows": arrows, "legend": legend, "kinds": ("req", "r1xx", "r2xx", "r3xx")}
