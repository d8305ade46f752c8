"""The numbers of a load run's media summary that add up across generators:
fixed-bin histograms, the time series, and the merge of N generators' summaries.

**Histograms, not averages of percentiles.** Every figure goes into a fixed-bin
histogram (MOS 0.01, loss 0.01 %, jitter 0.1 ms, setup 1 ms); percentiles are
read from the histograms (nearest rank on the binned values), so the N
generators of a distributed load merge exactly (``merge``): summing the
histograms gives the same percentiles as judging all calls in one place.

**Time series** (``series``): per ``interval`` (10 s by default) from the first
INVITE: calls/s started, calls up at the interval's end, failed calls started,
MOS p5/p50 and loss p95 of the directions of the calls started in it. The
shape is documented in docs/LOAD.md. The summary itself is made and judged in
``checks/load_media.py``.
"""
from __future__ import annotations

import math
from typing import Any, Iterable

UNITS = {"mos": 0.01, "loss": 0.01, "jitter": 0.1, "setup": 1.0}
WORST = 5                # calls named per failing bound
NAMED = 20               # Call-IDs kept per list (one-way, not seen whole)
DEFAULT_INTERVAL = 10.0


# --- histograms ------------------------------------------------------------------------
def hist_add(hist: dict[str, int], kind: str, value: float) -> None:
    key = str(int(round(value / UNITS[kind])))
    hist[key] = hist.get(key, 0) + 1


def hist_merge(into: dict[str, int], other: dict[str, int]) -> dict[str, int]:
    for k, n in (other or {}).items():
        into[k] = into.get(k, 0) + int(n)
    return into


def hist_count(hist: dict[str, int]) -> int:
    return sum(int(n) for n in (hist or {}).values())


def hist_percentile(hist: dict[str, int], kind: str, pct: float) -> float | None:
    """Nearest-rank percentile of the binned values; None for an empty histogram."""
    total = hist_count(hist)
    if not total:
        return None
    rank = max(1, math.ceil(pct / 100.0 * total))
    seen = 0
    for key in sorted(hist, key=int):
        seen += int(hist[key])
        if seen >= rank:
            return round(int(key) * UNITS[kind], 4)
    return None


# --- the time series ------------------------------------------------------------------
def series(timed: list[tuple], interval: float) -> dict[str, Any]:
    starts = [t[0] for t in timed if t[0] is not None]
    if not starts:
        return {"t0": None, "series": [], "series_histograms": []}
    t0 = min(starts)
    last = max([t[0] for t in timed if t[0] is not None]
               + [t[2] for t in timed if t[2] is not None])
    n = max(1, int(math.ceil((last - t0) / interval + 1e-9)))
    rows = [{"started": 0, "failed": 0, "concurrent": 0} for _ in range(n)]
    hists = [{"mos": {}, "loss": {}} for _ in range(n)]
    for start, answer, end, ok, legs in timed:
        if start is None:
            continue
        i = min(n - 1, int((start - t0) // interval))
        rows[i]["started"] += 1
        if not ok:
            rows[i]["failed"] += 1
        for d in legs:
            hist_add(hists[i]["mos"], "mos", d["mos"])
            hist_add(hists[i]["loss"], "loss", d["loss"])
        if ok and answer is not None:
            for j in range(n):
                edge = t0 + (j + 1) * interval
                if answer <= edge and (end is None or end > edge):
                    rows[j]["concurrent"] += 1
    return {"t0": t0, "series": [_row(j, interval, rows[j], hists[j]) for j in range(n)],
            "series_histograms": hists}


def _row(j: int, interval: float, row: dict, hist: dict) -> dict[str, Any]:
    loss = hist_percentile(hist["loss"], "loss", 95)
    return {"t": round(j * interval, 3), "calls_per_s": round(row["started"] / interval, 3),
            "concurrent": row["concurrent"], "failed": row["failed"],
            "mos_p5": hist_percentile(hist["mos"], "mos", 5),
            "mos_p50": hist_percentile(hist["mos"], "mos", 50),
            "loss_p95": round(loss / 100.0, 6) if loss is not None else None}


# --- merging the generators of a distributed load -----------------------------------------
def merge(parts: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
    """One summary from N generators' summaries: counts and histograms summed, the
    worst lists re-ranked, the series re-binned on the generators' common clock."""
    parts = [p for p in parts if isinstance(p, dict)]
    if not parts:
        return None
    interval = float(parts[0].get("interval_s") or DEFAULT_INTERVAL)
    out: dict[str, Any] = {"interval_s": interval, "generators": len(parts)}
    for key in ("calls", "answered", "failed", "two_way", "one_way", "silent", "not_whole"):
        out[key] = sum(int(p.get(key) or 0) for p in parts)
    attempted = [p.get("attempted") for p in parts]
    out["attempted"] = (sum(int(a) for a in attempted)
                        if all(a is not None for a in attempted) else None)
    for key in ("one_way_calls", "not_whole_calls"):
        out[key] = [c for p in parts for c in p.get(key) or []][:NAMED]
    out["histograms"] = {k: {} for k in UNITS}
    for p in parts:
        for k in UNITS:
            hist_merge(out["histograms"][k], (p.get("histograms") or {}).get(k) or {})
    dirs = [d for p in parts for d in p.get("worst") or []]
    out["worst"] = sorted(dirs, key=lambda d: d["mos"])[:WORST]
    out["worst_loss"] = sorted([d for p in parts for d in p.get("worst_loss") or []],
                               key=lambda d: -d["loss"])[:WORST]
    out["worst_jitter"] = sorted([d for p in parts for d in p.get("worst_jitter") or []],
                                 key=lambda d: -d["jitter_ms"])[:WORST]
    out["worst_setup"] = sorted([d for p in parts for d in p.get("worst_setup") or []],
                                key=lambda d: -d["setup_ms"])[:WORST]
    incomplete = [w for p in parts for w in p.get("incomplete") or []]
    if incomplete:
        out["incomplete"] = incomplete
    impaired = [i for p in parts for i in p.get("impaired") or []]
    if impaired:     # one machine's counters: each generator saw the same rule's
        out["impaired"] = list({i["service"]: i for i in impaired}.values())
    out.update(_merge_series(parts, interval))
    return out


def _merge_series(parts: list[dict], interval: float) -> dict[str, Any]:
    t0s = [p["t0"] for p in parts if p.get("t0") is not None]
    if not t0s:
        return {"t0": None, "series": [], "series_histograms": []}
    t0 = min(t0s)
    rows: dict[int, dict] = {}
    hists: dict[int, dict] = {}
    for p in parts:
        if p.get("t0") is None:
            continue
        shift = int(round((p["t0"] - t0) / interval))
        for j, (row, h) in enumerate(zip(p.get("series") or [], p.get("series_histograms") or [])):
            r = rows.setdefault(j + shift, {"started": 0, "failed": 0, "concurrent": 0})
            r["started"] += int(round(float(row.get("calls_per_s") or 0) * interval))
            r["failed"] += int(row.get("failed") or 0)
            r["concurrent"] += int(row.get("concurrent") or 0)
            m = hists.setdefault(j + shift, {"mos": {}, "loss": {}})
            hist_merge(m["mos"], h.get("mos") or {})
            hist_merge(m["loss"], h.get("loss") or {})
    n = max(rows) + 1 if rows else 0
    empty = {"started": 0, "failed": 0, "concurrent": 0}
    return {"t0": t0,
            "series": [_row(j, interval, rows.get(j, empty), hists.get(j, {"mos": {}, "loss": {}}))
                       for j in range(n)],
            "series_histograms": [hists.get(j, {"mos": {}, "loss": {}}) for j in range(n)]}
