"""Read SIPp's statistics: the ``-trace_stat`` CSV and the ``-trace_rtt`` file.

SIPp's exit code is not a verdict (it exits 0 when no call was made at all),
so the agent's verdict comes from here. The statistics file is ``;``-separated
with a header line; cumulative columns end in ``(C)``; durations are
``HH:MM:SS:usec``. The RTT file (``*_rtt.csv``) has one line per measured
response time: ``Date_ms;response_time_ms;rtd_no``.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any


def parse_sipp_duration(text: str) -> float:
    """'00:00:01:003000' -> 1.003 seconds; '' or junk -> 0.0."""
    parts = text.strip().split(":")
    try:
        if len(parts) == 4:
            h, m, s, us = (int(p) for p in parts)
            return h * 3600 + m * 60 + s + us / 1e6
        if len(parts) == 3:
            h, m, s = (int(p) for p in parts)
            return h * 3600 + m * 60 + s
    except ValueError:
        pass
    return 0.0


def read_stat_rows(path: Path) -> list[dict[str, str]]:
    """Every data row of a statistics file as {column: text}; [] if missing/empty."""
    try:
        lines = path.read_text(encoding="latin-1").splitlines()
    except OSError:
        return []
    lines = [line for line in lines if line.strip()]
    if len(lines) < 2:
        return []
    header = lines[0].rstrip(";").split(";")
    rows = []
    for line in lines[1:]:
        values = line.rstrip(";").split(";")
        rows.append(dict(zip(header, values)))
    return rows


def _int(row: dict[str, str], column: str) -> int:
    try:
        return int(float(row.get(column, "0") or 0))
    except ValueError:
        return 0


def _float(row: dict[str, str], column: str) -> float:
    try:
        return float(row.get(column, "0") or 0)
    except ValueError:
        return 0.0


def read_rtt(path: Path | None) -> list[float]:
    """Response times in milliseconds from a ``-trace_rtt`` file."""
    if path is None:
        return []
    try:
        lines = path.read_text(encoding="latin-1").splitlines()
    except OSError:
        return []
    out: list[float] = []
    for line in lines[1:]:
        parts = line.split(";")
        if len(parts) >= 2:
            try:
                out.append(float(parts[1]))
            except ValueError:
                continue
    return out


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile (``pct`` in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100.0 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def summarise(stat_path: Path, rtt_path: Path | None, target_rate: float | None,
              side: str) -> dict[str, Any]:
    """The ``stats`` facts of a SIPp agent, from its final statistics row.

    ``side`` is "uac" or "uas": which counter says how many calls were made.
    Missing files give zeros and ``"available": False``.
    """
    rows = read_stat_rows(stat_path)
    rtts = read_rtt(rtt_path)
    if not rows:
        return {"available": False, "attempted": 0, "successful": 0, "failed": 0,
                "failed_by_reason": {}, "retransmissions": 0, "call_rate": 0.0,
                "target_rate": target_rate, "elapsed": 0.0, "response_time_ms": _rt(rtts),
                "out_of_call_msgs": 0, "dead_call_msgs": 0, "fatal_errors": 0,
                "response_time_histogram": histogram(rtts)}
    last = rows[-1]
    incoming, outgoing = _int(last, "IncomingCall(C)"), _int(last, "OutgoingCall(C)")
    attempted = outgoing if side == "uac" else incoming
    attempted = attempted or _int(last, "TotalCallCreated")
    failed_by_reason = {}
    for column in last:
        if column.startswith("Failed") and column.endswith("(C)") and column != "FailedCall(C)":
            n = _int(last, column)
            if n:
                failed_by_reason[column[len("Failed"):-len("(C)")]] = n
    elapsed = parse_sipp_duration(last.get("ElapsedTime(C)", ""))
    return {
        "available": True,
        "attempted": attempted,
        "successful": _int(last, "SuccessfulCall(C)"),
        "failed": _int(last, "FailedCall(C)"),
        "failed_by_reason": failed_by_reason,
        "retransmissions": _int(last, "Retransmissions(C)"),
        "call_rate": round(_float(last, "CallRate(C)"), 3),
        "target_rate": target_rate,
        "elapsed": round(elapsed, 3),
        "current_calls": _int(last, "CurrentCall"),
        "out_of_call_msgs": _int(last, "OutOfCallMsgs(C)"),
        "dead_call_msgs": _int(last, "DeadCallMsgs(C)"),
        "fatal_errors": _int(last, "FatalErrors(C)"),
        "response_time_ms": _rt(rtts),
        # exact percentiles over several generators' calls (sipscen.report.aggregate)
        "response_time_histogram": histogram(rtts),
    }


def histogram(rtts: list[float]) -> dict[str, int]:
    """Response times (1 ms resolution in SIPp's file) -> {"12": count, ...}."""
    out: dict[str, int] = {}
    for value in rtts:
        key = f"{value:g}"
        out[key] = out.get(key, 0) + 1
    return out


def _rt(rtts: list[float]) -> dict[str, Any]:
    return {"count": len(rtts), "p50": percentile(rtts, 50), "p95": percentile(rtts, 95),
            "p99": percentile(rtts, 99), "max": max(rtts) if rtts else None}
