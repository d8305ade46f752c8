"""DTMF from the analysis as acts (who sent which digits, how) and observations.

A digit's sender is the party whose media address (or SIP endpoint, for INFO)
it came from; when the source is nobody's (SIPp's RTP, a relay's copy), the
call's other party relative to the receiver. A digit seen twice (a relay shows
each stream on both of its legs; a proxy relays each INFO) counts once.
Consecutive digits of one sender and method become one ``dtmf`` act with the
captured duration and gap.
"""
from __future__ import annotations

from statistics import median

from sipscen.scaffold.acts import Act, Model, Obs

SAME_DIGIT = 0.06       # s: the same digit this close is a copy
NEXT_GROUP = 2.0        # s: a longer pause starts a new dtmf step


def _party(model: Model, address: str, media: bool):
    parties = model.parties
    return parties.media_owner(address) if media else parties.of(address)


def _other(model: Model, call_id: str | None, party) -> str | None:
    info = model.calls.get(call_id or "")
    if info is None or party is None:
        return None
    if party.name == info.callee:
        return info.caller
    if party.name == info.caller:
        return info.callee
    return None


OVERLAP = 0.15          # s: an in-band digit this close to a signalled one is its tone


def dedupe_inband(dtmf: list[dict]) -> list[dict]:
    """Digits in time order, without the in-band ones that are the audible tone of a digit
    also signalled by RFC 4733 or INFO (many phones send both)."""
    signalled = [d for d in dtmf if d.get("method") != "inband"]
    out = []
    for d in sorted(dtmf, key=lambda d: d["time"]):
        if d.get("method") == "inband" and any(
                s["digit"] == d["digit"] and abs(s["time"] - d["time"]) <= OVERLAP +
                (s.get("duration_ms") or 0) / 1000 for s in signalled):
            continue
        out.append(d)
    return out


def read_digits(model: Model, dtmf: list[dict]) -> None:
    seen: list[tuple[str, str, str, float]] = []
    events = []
    for d in dedupe_inband(dtmf):
        media = d.get("method") != "sip-info"
        src = _party(model, str(d.get("src") or ""), media)
        dst = _party(model, str(d.get("dst") or ""), media)
        if src is not None and src.is_sut:
            if not media:
                continue        # a proxy's copy of an INFO
            src = None
        if dst is not None and dst.is_sut:
            dst = None
        sender = src.name if src is not None else _other(model, d.get("call_id"), dst)
        receiver = dst.name if dst is not None else _other(
            model, d.get("call_id"), src)
        if sender is None:
            continue
        key = (sender, d["method"], d["digit"])
        if any(k == key[:3] and abs(t - d["time"]) < SAME_DIGIT
               for *k, t in [(*s[:3], s[3]) for s in seen]):
            continue
        seen.append((*key, d["time"]))
        events.append((sender, receiver, d))
    groups: list[list[tuple]] = []
    for ev in events:
        last = groups[-1] if groups else None
        if last and last[-1][0] == ev[0] and last[-1][2]["method"] == ev[2]["method"] and \
                last[-1][2].get("call_id") == ev[2].get("call_id") and \
                ev[2]["time"] - last[-1][2]["time"] < NEXT_GROUP:
            last.append(ev)
        else:
            groups.append([ev])
    for group in groups:
        sender, receiver, first = group[0]
        digits = "".join(d["digit"] for _, _, d in group)
        durations = [int(d.get("duration_ms") or 0) for _, _, d in group
                     if d.get("duration_ms")]
        duration = int(median(durations)) if durations else 160
        gaps = [(b[2]["time"] - a[2]["time"]) * 1000 - (a[2].get("duration_ms") or duration)
                for a, b in zip(group, group[1:])]
        gap = max(20, int(median(gaps))) if gaps else 100
        params = {"digits": digits, "method": first["method"], "duration_ms": duration,
                  "gap_ms": gap, "receiver": receiver,
                  "times": [d["time"] for _, _, d in group],
                  "ends": [d.get("end", True) for _, _, d in group]}
        model.acts.append(Act(sender, first["time"], "dtmf", params, first.get("call_id"),
                              [d["frame"] for _, _, d in group if d.get("frame")]))
        if receiver is not None:
            last = group[-1][2]
            t = last["time"] + (last.get("duration_ms") or duration) / 1000
            model.obs.append(Obs(receiver, t, "dtmf", first.get("call_id"),
                                 {"digits": digits, "method": first["method"]},
                                 [d["frame"] for _, _, d in group if d.get("frame")],
                                 cause=sender))
    model.acts.sort(key=lambda a: a.time)
    model.obs.sort(key=lambda o: o.time)
