"""A PJSUA call's RTP counters per media session, and the whole call's totals.

PJSUA counts RTP per audio stream, and a re-INVITE that changes the media
(another codec, hold, unhold) replaces the stream: its counters start again
from 0. The worker reports each stream's last counters when it goes
(``stats {session, final: true}``) and the current one's on request; here
they are kept per session (``rtp_sessions``: ``{"index", "started_at",
"ended_at", "state", "codec", ...counters}``, board seconds) and summed into
the call's ``rtp`` (packets, losses and duplicates added; jitter the mean
weighted by packets received, its maximum the largest).
"""
from __future__ import annotations

from typing import Any

from sipscen.agents.records import CallRecord

COUNTERS = ("tx_packets", "rx_packets", "rx_lost", "rx_jitter_ms", "rx_jitter_max_ms",
            "rx_duplicates", "rx_reordered", "rx_discarded")
_SUMMED = ("tx_packets", "rx_packets", "rx_lost", "rx_duplicates", "rx_reordered", "rx_discarded")


def session(call: CallRecord, index: int, t: float | None) -> dict[str, Any]:
    """The call's media session ``index`` (made when first heard of, at ``t``)."""
    sessions = call.rtp_sessions
    for s in sessions:
        if s["index"] == index:
            return s
    s = {"index": index, "started_at": None if t is None else round(t, 6), "ended_at": None,
         "state": None, "codec": None, **{k: 0 for k in COUNTERS}}
    s["rx_jitter_ms"] = s["rx_jitter_max_ms"] = 0.0
    sessions.append(s)
    sessions.sort(key=lambda x: x["index"])
    return s


def on_media(call: CallRecord, data: dict[str, Any], t: float) -> None:
    """A media state with an audio stream: its session starts (if it had not)."""
    if data.get("state") not in ("active", "local_hold", "remote_hold"):
        return
    s = session(call, int(data.get("session") or 0), t)
    if s["started_at"] is None:
        s["started_at"] = round(t, 6)
    s["state"] = s["state"] or data.get("state")
    if data.get("codec"):
        s["codec"] = data["codec"]


def on_stats(call: CallRecord, data: dict[str, Any], t: float) -> None:
    """A session's counters (its last ones when ``final``); the call's totals again."""
    s = session(call, int(data.get("session") or 0), None)
    s.update({k: data.get(k, 0) for k in COUNTERS})
    if data.get("final"):
        s["ended_at"] = round(t, 6)
    if not s["codec"]:
        s["codec"] = call.codec
    call.rtp = totals(call.rtp_sessions)


def totals(sessions: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {k: sum(int(s.get(k) or 0) for s in sessions) for k in _SUMMED}
    packets = out["rx_packets"]
    out["rx_jitter_ms"] = round(sum(float(s.get("rx_jitter_ms") or 0) * int(s.get("rx_packets") or 0)
                                    for s in sessions) / packets, 3) if packets else 0.0
    out["rx_jitter_max_ms"] = max((float(s.get("rx_jitter_max_ms") or 0) for s in sessions),
                                  default=0.0)
    return {k: out[k] for k in COUNTERS}


def overlapping(sessions: list[dict[str, Any]], start: float | None,
                end: float | None) -> list[dict[str, Any]]:
    """The sessions that ran during [start, end) (None: open)."""
    out = []
    for s in sessions:
        a, b = s.get("started_at"), s.get("ended_at")
        if a is not None and end is not None and a >= end:
            continue
        if b is not None and start is not None and b <= start:
            continue
        out.append(s)
    return out


__all__ = ["COUNTERS", "on_media", "on_stats", "overlapping", "session", "totals"]
