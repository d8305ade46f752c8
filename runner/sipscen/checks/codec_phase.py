"""The wire half of `codec` made exact: `only` this codec, and this codec in a phase.

Without either, `codec` passes on the wire when the wanted payload type appeared
in RTP at all during the call. ``only: true``: no other audio payload type
(telephone-event and comfort noise aside, as the SDP binds them) flowed in
either direction. ``after``/``before`` (a signal, or ``{agent, step}``, as in
`audio`): the payload types are those that flowed in that phase — a stream
that carried one payload type counts by its first and last packet; a stream
whose codec changed on the same SSRC needs each payload type's own times
(``by_payload_type`` in the analysis), else the verdict is inconclusive.
"""
from __future__ import annotations

from typing import Any

from sipscen.analysis.result import WireStream
from sipscen.checks.context import CheckContext
from sipscen.checks.evidence import payload_type_of, streams_from
from sipscen.core.results import ERROR, FAILED, PASSED, WIRE, CheckResult

_NOT_AUDIO = ("telephone-event", "cn", "comfort-noise")


def _non_audio_pts(sdp: str | None) -> set[int]:
    out = set()
    for line in (sdp or "").splitlines():
        if line.startswith("a=rtpmap:"):
            pt, _, encoding = line[len("a=rtpmap:"):].partition(" ")
            if encoding.split("/")[0].strip().lower() in _NOT_AUDIO and pt.strip().isdigit():
                out.add(int(pt))
    return out | {13}                      # CN, static


def _pts_in(stream: WireStream, start: float | None, end: float | None
            ) -> tuple[set[int] | None, str]:
    """Payload types a stream carried within [start, end] (capture times; None: open);
    None when that cannot be told (a codec change without per-type times)."""
    pts = set(stream.payload_types or [])

    def overlaps(first: float, last: float) -> bool:
        return (start is None or last >= start) and (end is None or first <= end)
    if start is None and end is None:
        return pts, ""
    by_pt = stream.by_payload_type or {}
    if len(pts) <= 1 or not by_pt:
        if len(pts) > 1:
            return None, (f"stream {stream.ssrc} changed payload type "
                          f"({sorted(pts)}) and the analysis did not time each one")
        return (pts if overlaps(stream.first_time, stream.last_time) else set()), ""
    return {int(pt) for pt, v in by_pt.items()
            if overlaps(float(v["first_time"]), float(v["last_time"]))}, ""


def codec_at_agent(ctx: CheckContext, agent: str, calls: list[dict[str, Any]], want: str,
                   params: dict, loc: str) -> CheckResult:
    """The agent's view with `only`/a phase: the codecs of its media sessions that were
    active in the phase (``rtp_sessions``: codec, started_at, ended_at), or, for an agent
    that reports no sessions, its call's codec (a phase is then inconclusive)."""
    from sipscen.checks.heard import phase_label, phase_of  # lazy: loads numpy
    name = f"codec {ctx.at(agent)}" + phase_label(params)
    start, end, problem = phase_of(params, ctx)
    if problem:
        return CheckResult(name, FAILED, want, None, problem, loc, ctx.evidence_of(agent))
    if not calls:
        return CheckResult(name, FAILED, want, None, f"{agent} had no call: the expectation "
                           "matches nothing", loc, ctx.evidence_of(agent))
    used: set[str] = set()
    for call in calls:
        sessions = [s for s in call.sessions() if s.codec]
        if not sessions:
            if params.get("after") or params.get("before"):
                return CheckResult(
                    name, ERROR, want, call.codec,
                    f"inconclusive: {agent} reports its call's last codec only, not one per "
                    "media session: a phase cannot be judged at the agent", loc,
                    ctx.evidence_of(agent))
            used.add(str(call.codec or "").split("/")[0])
            continue
        for s in sessions:
            # a session ends with its call at the latest (its last counters may come later)
            ends = [x for x in (s.ended_at, call.disconnected_at) if x is not None]
            first, last = s.started_at, min(ends) if ends else None
            if (end is None or first is None or first <= end) and \
                    (start is None or last is None or last >= start):
                used.add(str(s.codec).split("/")[0])
    used.discard("")
    low = {u.lower() for u in used}
    ok = want.lower() in low and (not params.get("only") or low == {want.lower()})
    return CheckResult(name, PASSED if ok else FAILED,
                       f"only {want}" if params.get("only") else want, sorted(used),
                       "" if ok else f"{agent} used {', '.join(sorted(used)) or 'no codec'}",
                       loc, ctx.evidence_of(agent))


def codec_exactly(ctx: CheckContext, want: str, agents: list[str], calls: dict[str, Any],
                  params: dict, loc: str) -> CheckResult:
    """The wire verdict of `codec` with `only` and/or a phase."""
    from sipscen.checks.heard import phase_label, phase_of  # lazy: numpy: only when judged
    a, b = agents
    label = f"codec {a}<->{b} (wire)" + phase_label(params)
    start, end, problem = phase_of(params, ctx)
    if problem:
        return CheckResult(label, FAILED, want, None, problem, loc, WIRE)
    to_capture = (lambda t: None if t is None else t + ctx.epoch0)
    start, end = to_capture(start), to_capture(end)
    seen, bad, unknown = {}, [], []
    for sender, receiver in ((a, b), (b, a)):
        sdp = (getattr(calls.get(receiver), "local_sdp", "")
               or getattr(calls.get(sender), "remote_sdp", ""))
        pt = payload_type_of(want, sdp)
        skip = _non_audio_pts(sdp)
        flowed: set[int] = set()
        untimed = []
        for stream in streams_from(ctx, sender, receiver):
            pts, why = _pts_in(stream, start, end)
            if pts is None:
                untimed.append(why)
                continue
            flowed |= pts
        unknown += untimed
        audio = sorted(flowed - skip)
        seen[f"{sender}->{receiver}"] = audio or ("untimed" if untimed else "no RTP")
        if (pt is None or pt not in audio) and not untimed:
            bad.append(f"{sender}->{receiver}: no {want} (payload type {pt})")
        elif params.get("only") and set(audio) - {pt}:
            bad.append(f"{sender}->{receiver}: also payload type(s) "
                       f"{sorted(set(audio) - {pt})}")
    expected = (f"only {want}" if params.get("only") else want) + " in RTP both ways"
    if bad:
        return CheckResult(label, FAILED, expected, seen, "; ".join(bad), loc, WIRE)
    if unknown:
        return CheckResult(label, ERROR, expected, seen, "inconclusive: " + "; ".join(unknown),
                           loc, WIRE)
    return CheckResult(label, PASSED, expected, seen, "payload types seen on the wire", loc,
                       WIRE)
