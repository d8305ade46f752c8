"""The receiving agent's side of an ``rtp`` expectation: its RTP counters.

A PJSUA call counts per media session (``rtp_sessions``: a re-INVITE that
changes the media starts a new stream) and in total (``rtp``). Without a
phase the whole call is judged; with one, the sessions that ran in it, when
they lie inside it (give or take ``SLACK`` seconds: a session starts at the
media event a signal usually follows). Counters that also cover time
outside the phase prove nothing about it: then the agent's side is
inconclusive (status error) when it was asked for alone (``where: agent``),
else left to the wire. The agent measures no packet times: ``max_gap`` is
the wire's.
"""
from __future__ import annotations

from typing import Any, Mapping

from sipscen.agents.pjsua.rtp_sessions import totals    # the same sums as the facts'
from sipscen.analysis.emodel import e_model
from sipscen.agents.records import MediaSession
from sipscen.checks.context import CheckContext

SLACK = 0.5
AGENT_LIMITS = ("min_packets", "max_loss_pct", "max_jitter_ms", "min_mos", "none")


def agent_figures(ctx: CheckContext, sender: str, receiver: str, start: float | None,
                  end: float | None) -> tuple[dict | None, str, str]:
    """(figures, problem, note): figures None with a problem (no call: a failure) or
    with a note starting "inconclusive" (the counters cannot show the phase)."""
    call = ctx.call_between(receiver, sender)
    if call is None:
        return None, f"{receiver} has no call with {sender}", ""
    if not call.rtp:                    # a service: its calls are read from the capture
        return None, "", (f"inconclusive: {receiver} reports no RTP statistics of its own "
                          "(judge it on the wire: where: wire)")
    sessions = call.sessions()
    if start is None and end is None:
        note = ctx.first_of(receiver, sender)
        if len(sessions) > 1:
            note = "; ".join(x for x in (note, f"the whole call: {len(sessions)} media sessions")
                             if x)
        return _figures(call.rtp or {}, call.codec, sessions), "", note
    if not sessions and call.rtp.get("rx_packets"):
        return None, "", ("inconclusive: the agent's counters cover the whole call, not the "
                          "phase: judge it on the wire (where: wire)")
    used = [s for s in sessions if _overlaps(s, start, end)]
    outside = [s for s in used if not _inside(s, start, end)]
    if outside:
        return None, "", ("inconclusive: " + "; ".join(
            f"{receiver}'s media session {s.index + 1} ({_span(s)}) runs beyond the phase "
            f"({_span(MediaSession(started_at=start, ended_at=end))})" for s in outside)
            + ": its counters cannot show the phase alone; judge it on the wire (where: wire)")
    note = (f"media session{'s' if len(used) > 1 else ''} "
            f"{', '.join(str(s.index + 1) for s in used)} of {len(sessions)} ({_span(used[0])}"
            f"{'' if len(used) == 1 else ' ...'})" if used else
            f"{receiver} had no media session in the phase")
    return (_figures(totals([s.counters for s in used]), _main_codec(used) or call.codec, used),
            "", note)


def _figures(rtp: Mapping[str, Any], codec: str | None,
             sessions: list[MediaSession]) -> dict[str, Any]:
    packets, lost = int(rtp.get("rx_packets") or 0), int(rtp.get("rx_lost") or 0)
    loss = round(100.0 * lost / (packets + lost), 2) if packets + lost else 0.0
    jitter = float(rtp.get("rx_jitter_ms") or 0.0)
    codec = _main_codec(sessions) or codec
    return {"packets": packets, "loss_pct": loss, "jitter_ms": jitter,
            "mos": e_model(codec, loss, jitter)["mos"] if packets else None}


def _main_codec(sessions: list[MediaSession]) -> str | None:
    with_codec = [s for s in sessions if s.codec]
    return max(with_codec, key=lambda s: s.rx_packets).codec if with_codec else None


def _overlaps(s: MediaSession, start, end) -> bool:
    a, b = s.started_at, s.ended_at
    return not ((a is not None and end is not None and a >= end)
                or (b is not None and start is not None and b <= start))


def _inside(s: MediaSession, start, end) -> bool:
    a, b = s.started_at, s.ended_at
    if start is not None and (a is None or a < start - SLACK):
        return False
    return end is None or (b is not None and b <= end + SLACK)


def _span(s: MediaSession) -> str:
    a, b = s.started_at, s.ended_at
    return (f"{'start' if a is None else f'{a:.2f}s'} to "
            f"{'the end' if b is None else f'{b:.2f}s'}")


__all__ = ["AGENT_LIMITS", "agent_figures"]
