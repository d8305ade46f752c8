"""Charts of a load run's time series, as plain inline SVG (no chart library).

The series comes from the result JSON's ``load`` key (one entry per load
generator: ``interval_s`` and ``series`` of ``{t, calls_per_s, concurrent,
failed, mos_p5, mos_p50, loss_p95}``; /work/briefs/TIMESERIES.md, the loadmedia
side of issue 19). Per generator five charts: calls/s and failed calls as
bars, concurrent calls, MOS p5/p50 and loss p95 as lines with a dot per
interval (a missing figure, ``null``, breaks the line: no stream in that
interval is not a MOS of 0). Bounds the load expectation set (``mos_p5_min``,
``loss_p95_max``) are drawn as dashed lines when the entry carries them.
This module computes geometry and texts only; ``templates/charts.html.j2``
draws them (autoescaped).
"""
from __future__ import annotations

import math
from typing import Any
from sipscen.report import values

WIDTH, HEIGHT = 440, 190
LEFT, RIGHT, TOP, BOTTOM = 46, 10, 10, 26
MAX_XTICKS = 8
MAX_POINTS = 2000            # a longer series is drawn from its first MAX_POINTS intervals

# key, title, kind, series keys (class, label), fixed y range or None, unit scale
CHARTS = (
    ("calls_per_s", "Calls per second", "bars", (("calls_per_s", "", "calls/s"),), None),
    ("concurrent", "Concurrent calls", "lines", (("concurrent", "", "concurrent"),), None),
    ("failed", "Failed calls", "bars", (("failed", "failed", "failed"),), None),
    ("mos", "MOS per interval (E-model)", "lines",
     (("mos_p5", "p5", "MOS p5"), ("mos_p50", "p50", "MOS p50")), (1.0, 4.5)),
    ("loss_p95", "Packet loss p95 (%)", "lines", (("loss_p95", "", "loss p95 %"),), None),
)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _nice_top(value: float) -> float:
    """The smallest 1/2/5 x 10^n at or above ``value`` (at least 1)."""
    if value <= 1:
        return 1.0
    exponent = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * exponent:
            return float(step * exponent)
    return float(10 * exponent)


def _tick_count(span: float) -> int:
    """How many steps divide ``span`` into round ones (1, 2, 2.5 or 5 x 10^n)."""
    for k in (4, 5, 7, 6, 3, 2):
        step = span / k
        mantissa = step / 10 ** math.floor(math.log10(step))
        if any(abs(mantissa - m) < 1e-9 for m in (1, 2, 2.5, 5)):
            return k
    return 4


def _fmt(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"


def chart(key: str, title: str, kind: str, fields, fixed, series: list[dict],
          interval: float, bounds: dict[str, float] | None = None) -> dict[str, Any]:
    """One chart's geometry: bars or polylines over the intervals of ``series``."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    scale = 100.0 if key == "loss_p95" else 1.0         # a fraction drawn as percent
    columns = [[(_number(row.get(f)) if isinstance(row, dict) else None) for row in series]
               for f, _, _ in fields]
    columns = [[None if v is None else v * scale for v in col] for col in columns]
    known = [v for col in columns for v in col if v is not None]
    bound_lines = []
    for name, value in (bounds or {}).items():
        if _number(value) is not None:
            bound_lines.append((name, float(value) * scale))
    if fixed:
        low, high = fixed
        high = max(high, *(v for v in known), *(b for _, b in bound_lines)) if known else high
    else:
        low = 0.0
        high = _nice_top(max([*known, *(b for _, b in bound_lines)], default=1.0))
    span = (high - low) or 1.0
    n = max(1, len(series))
    band = plot_w / n

    def y_of(v: float) -> float:
        return round(TOP + plot_h - (v - low) / span * plot_h, 1)

    def x_mid(i: int) -> float:
        return round(LEFT + band * (i + 0.5), 1)

    def t_of(i: int) -> float:
        row = series[i] if isinstance(series[i], dict) else {}
        t = _number(row.get("t"))
        return t if t is not None else i * interval

    bars, lines = [], []
    for (field, cls, label), col in zip(fields, columns):
        if kind == "bars":
            for i, v in enumerate(col):
                if v is None:
                    continue
                top = y_of(max(v, low))
                bars.append({"x": round(LEFT + band * i + band * 0.1, 1), "w": round(max(band * 0.8, 1.0), 1),
                             "y": top, "h": round(TOP + plot_h - top, 1), "cls": cls,
                             "title": f"{t_of(i):g}s: {_fmt(v)} {label}"})
        else:
            segments, current, dots = [], [], []
            for i, v in enumerate(col):
                if v is None:                       # no figure: the line breaks
                    if current:
                        segments.append(current)
                    current = []
                    continue
                point = (x_mid(i), y_of(v))
                current.append(point)
                dots.append({"x": point[0], "y": point[1], "title": f"{t_of(i):g}s: {_fmt(v)} {label}"})
            if current:
                segments.append(current)
            for k, seg in enumerate(segments):
                lines.append({"cls": cls, "points": " ".join(f"{x},{y}" for x, y in seg),
                              "dots": dots if k == 0 else []})
            if not segments:
                continue
    ticks = _tick_count(span)
    yticks = [{"y": y_of(low + span * k / ticks), "label": _fmt(low + span * k / ticks)}
              for k in range(ticks + 1)]
    every = max(1, math.ceil(n / MAX_XTICKS))
    xticks = [{"x": x_mid(i), "label": f"{t_of(i):g}s"} for i in range(0, len(series), every)]
    return {
        "key": key, "title": title, "width": WIDTH, "height": HEIGHT, "left": LEFT, "top": TOP,
        "plot_width": plot_w, "plot_height": plot_h, "bars": bars, "lines": lines,
        "yticks": yticks, "xticks": xticks,
        "bounds": [{"y": y_of(v), "title": f"{name}: {_fmt(v)}"} for name, v in bound_lines
                   if low <= v <= high],
        "legend": [{"cls": cls, "label": label} for _, cls, label in fields] if len(fields) > 1 else [],
        "empty": "" if known else "no figures in any interval",
    }


_BOUNDS = {"mos": ("mos_p5_min",), "loss_p95": ("loss_p95_max",)}
# the load check's result names (checks/load_media.py) -> the bound it judged
_BOUND_CHECKS = {"MOS p5": "mos_p5_min", "loss p95": "loss_p95_max"}


def bounds_from_checks(checks: Any, agent: str) -> dict[str, float]:
    """The MOS p5 and loss p95 bounds the load expectation set on ``agent``, read
    from its checks' expected values (">= 4.0", "<= 1%": loss as a fraction)."""
    out: dict[str, float] = {}
    for check in checks or []:
        name = str(getattr(check, "name", ""))
        for label, key in _BOUND_CHECKS.items():
            if name != f"load {agent}: {label}":
                continue
            text = str(getattr(check, "expected", "")).lstrip("<>= ").strip()
            try:
                value = float(text.rstrip("%"))
            except ValueError:
                continue
            out[key] = value / 100 if key == "loss_p95_max" else value
    return out


def load_charts(load: Any, checks: Any = None) -> list[dict[str, Any]]:
    """Every chart of every load generator's series in ``load`` (the result's
    ``load`` entry), in generator order; [] when there is no series. Bounds come
    from the entry's ``bounds`` or else from the load checks (``checks``)."""
    if not isinstance(load, dict):
        return []
    out = []
    for agent, entry in load.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("series"), list):
            continue
        series = entry["series"][:MAX_POINTS]
        if not series:
            continue
        interval = _number(entry.get("interval_s")) or 10.0
        given = entry.get("bounds") if isinstance(entry.get("bounds"), dict) else \
            bounds_from_checks(checks, str(agent))
        for key, title, kind, fields, fixed in CHARTS:
            bounds = {b: given[b] for b in _BOUNDS.get(key, ()) if b in given}
            c = chart(key, title, kind, fields, fixed, series, interval, bounds)
            c["title"] = f"{agent}: {title} ({interval:g} s intervals)"
            out.append(c)
    return out


_FIGURES = ("calls", "attempted", "answered", "failed", "two_way", "one_way", "silent",
            "not_whole", "generators")


def _worst_rows(rows: Any) -> list[dict[str, Any]]:
    """Worst calls for people: loss as a percentage (the JSON keeps the fraction)."""
    out = []
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict):
            continue
        row = dict(row)
        loss = _number(row.get("loss"))
        if loss is not None:
            row["loss"] = f"{loss * 100:.2f} %"
        out.append(row)
    return out[:20]


def load_tables(load: Any) -> list[dict[str, Any]]:
    """Per load generator: its call figures, its worst calls and its calls without
    two-way media, as small tables (report/values.py)."""
    out = []
    if not isinstance(load, dict):
        return out
    for agent, entry in load.items():
        if not isinstance(entry, dict):
            continue
        figures = {k: entry[k] for k in _FIGURES if k in entry}
        if not figures:
            continue
        worst = _worst_rows(entry.get("worst"))
        one_way = [r for r in entry.get("one_way_calls") or [] if isinstance(r, dict)][:20]
        out.append({"agent": agent,
                    "figures": values.table({k.replace("_", "-"): v for k, v in figures.items()}),
                    "worst": values.table(worst) if worst else None,
                    "one_way": values.table(one_way) if one_way else None,
                    "incomplete": "; ".join(map(str, entry.get("incomplete") or []))})
    return out
