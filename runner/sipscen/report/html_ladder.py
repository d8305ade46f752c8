"""The SIP ladder diagram (inline SVG) of one scenario's captured call flow.

One vertical lane per address (labelled with the agent's name when the agent
facts give its SIP URI), one horizontal arrow per SIP message in time order
with its time and summary. Each arrow is a focusable ``<g class="msg">``
carrying ``data-raw="ID"``: the whole message sits, escaped, in a hidden
``<pre id="ID">`` that the page's script shows when the arrow is clicked.
Every text goes through :func:`html.escape`.
"""
from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

from sipscen.report.views import norm_addr

LANE_WIDTH = 250
CHAR_WIDTH = 7.3        # px per character of the 12px monospace summary
TIME_COLUMN = 86
TOP = 58
ROW = 34
SELF_LOOP = 38
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


def ladder_svg(calls: list[dict[str, Any]], labels: dict[str, str], prefix: str,
               offset: float = 0.0) -> tuple[str, str, int]:
    """(svg markup, hidden raw-message markup, number of arrows) for a scenario's calls.

    ``prefix`` makes element ids unique in the page (one ladder per scenario);
    ``offset`` is subtracted from capture times (see ``views.wire_offset``).
    """
    messages = ladder_messages(calls)
    if not messages:
        return "", "", 0
    lanes = lanes_for(messages)
    x_of = {addr: TIME_COLUMN + LANE_WIDTH // 2 + i * LANE_WIDTH for i, addr in enumerate(lanes)}
    width = TIME_COLUMN + LANE_WIDTH * len(lanes) + SELF_LOOP
    height = TOP + ROW * (len(messages) + 1)
    parts = [
        f'<svg class="ladder" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="SIP ladder diagram">',
        '<defs>' + "".join(
            f'<marker id="{prefix}-arrow-{k}" class="head-{k}" viewBox="0 0 10 10" refX="10" refY="5" '
            f'markerUnits="userSpaceOnUse" markerWidth="11" markerHeight="11" orient="auto">'
            f'<path d="M 0 0 L 10 5 L 0 10 z"/></marker>'
            for k in ("req", "r1xx", "r2xx", "r3xx")) + '</defs>',
    ]
    for addr in lanes:
        x = x_of[addr]
        name = labels.get(addr)
        parts.append(f'<g class="lane"><line x1="{x}" y1="{TOP - 8}" x2="{x}" y2="{height - 6}"/>')
        if name:
            parts.append(f'<text class="lane-name" x="{x}" y="18">{escape(name)}</text>')
        parts.append(f'<text class="lane-addr" x="{x}" y="{36 if name else 26}">{escape(addr)}</text></g>')
    raws = []
    for m in messages:
        y = TOP + ROW * m.index + ROW // 2
        x1, x2 = x_of[m.src], x_of[m.dst]
        kind = _kind(m.summary)
        raw_id = f"{prefix}-raw-{m.index}"
        colour = PALETTE[m.call % len(PALETTE)]
        title = f"{_fmt_time(m.time, offset)} {m.src} -> {m.dst}: {m.summary} (Call-ID {m.call_id})"
        parts.append(f'<g class="msg {kind}" tabindex="0" data-raw="{raw_id}" data-index="{m.index}">'
                     f'<title>{escape(title)}</title>')
        parts.append(f'<rect class="hit" x="0" y="{y - ROW // 2}" width="{width}" height="{ROW}"/>')
        parts.append(f'<text class="time" x="6" y="{y + 4}">{escape(_fmt_time(m.time, offset))}</text>')
        if x1 == x2:                                 # a message to itself: a small loop
            path = f"M {x1} {y - 6} h {SELF_LOOP} v 12 h {-SELF_LOOP + 2}"
            parts.append(f'<path class="arrow" d="{path}" fill="none" style="stroke:{colour}" '
                         f'marker-end="url(#{prefix}-arrow-{kind})"/>')
            label_x, anchor = x1 + SELF_LOOP + 4, "start"
        else:
            end = x2 - 3 if x2 > x1 else x2 + 3
            parts.append(f'<line class="arrow" x1="{x1}" y1="{y}" x2="{end}" y2="{y}" '
                         f'style="stroke:{colour}" marker-end="url(#{prefix}-arrow-{kind})"/>')
            label_x, anchor = (x1 + x2) // 2, "middle"
        room = max(12, int((abs(x2 - x1) or LANE_WIDTH) / CHAR_WIDTH) - 2)
        summary = m.summary if len(m.summary) <= room else m.summary[: room - 3] + "..."
        parts.append(f'<text class="summary" x="{label_x}" y="{y - 5}" text-anchor="{anchor}">'
                     f'{escape(summary)}</text></g>')
        header = f"{_fmt_time(m.time, offset)}  {m.src} -> {m.dst}  (Call-ID {m.call_id})"
        body = m.raw if m.raw else f"{m.summary}\n\n(the whole message was not captured)"
        raws.append(f'<pre id="{raw_id}" class="raw" hidden>{escape(header)}\n\n{escape(str(body))}</pre>')
    parts.append("</svg>")
    call_ids = list(dict.fromkeys(m.call_id for m in messages))
    if len(call_ids) > 1:                  # several calls (dialogs): say which colour is which
        calls_of = {m.call_id: m.call for m in messages}
        parts.append('<p class="legend">' + " ".join(
            f'<span style="color:{PALETTE[calls_of[c] % len(PALETTE)]}">&#9644; Call-ID {escape(c)}</span>'
            for c in call_ids) + "</p>")
    return "".join(parts), "".join(raws), len(messages)
