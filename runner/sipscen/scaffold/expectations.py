"""Writing expectations from what happened: each call's outcome and length, the codec,
SRTP and suite, the DTMF digits and method, the SIP ladder of each hop (``sip``
sequences), registrations, and RTP in each direction. Every one carries a
comment naming the frames it came from; what the capture shows but an
expectation cannot honestly claim becomes a note instead.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sipscen.scaffold.acts import Model
from sipscen.scaffold.frames import frames_text
from sipscen.scaffold.codecs import PJSUA, media_codecs, stream_codec
from sipscen.scaffold.steps import duration

PJSUA_SUITE = "AES_256_CM_HMAC_SHA1_80"     # what two pjsua agents negotiate
BARESIP_SUITE = "AES_CM_128_HMAC_SHA1_80"
MAX_SEQUENCE = 60
MIN_TIMED = 1.0         # s: calls shorter than this get no duration bounds
MIN_PACKETS = 3         # RTP packets one way: fewer and a call is too short to judge media
STEADY_PACKETS = 50     # a second of audio: from here on, expect half as many packets


@dataclass
class Expectation:
    family: str
    params: dict[str, Any]
    comment: str = ""
    item_comments: list[str] = field(default_factory=list)   # for a sip sequence


def _kinds(model: Model) -> dict[str, str]:
    return {p.name: p.kind for p in model.parties.agents}


def build_expectations(model: Model, streams: list[dict], msgs: list) -> list[Expectation]:
    kinds = _kinds(model)
    out: list[Expectation] = []
    out += _calls(model, kinds)
    out += _media(model, kinds, streams)
    out += _dtmf(model, kinds)
    out += _registrations(model, kinds)
    out += _sequences(model, msgs)
    for name, kind in kinds.items():
        if kind == "sipp":
            out.append(Expectation("response", {"agent": name},
                                   "each inline message got what the capture shows"))
    return out


def _calls(model: Model, kinds: dict[str, str]) -> list[Expectation]:
    out = []
    by_caller: dict[str, list] = {}
    for info in sorted(model.calls.values(), key=lambda c: c.start):
        if info.caller and kinds.get(info.caller) in ("pjsua", "baresip") and \
                info.status is not None:
            by_caller.setdefault(info.caller, []).append(info)
    for caller, calls in by_caller.items():
        for info in calls:
            callee = info.callee if kinds.get(info.callee or "") in ("pjsua", "baresip") \
                else None
            same = [c for c in calls if (c.callee if kinds.get(c.callee or "") in
                                         ("pjsua", "baresip") else None) == callee] \
                if callee else calls
            params: dict[str, Any] = {"from": caller}
            if callee:
                params["to"] = callee
            if len(same) > 1:
                params["nth"] = same.index(info) + 1
            answered = info.answered_at is not None
            params["answered"] = answered
            params["status"] = info.status
            frames = info.frames.get("invite", []) + info.frames.get("final", [])
            comment = f"{frames_text(frames)}: {info.status} {info.reason}".strip()
            if answered and info.ended_at is not None:
                length = info.ended_at - info.answered_at
                if length >= MIN_TIMED:
                    params["min_duration"] = duration(max(0.0, length * 0.7 - 0.2))
                    params["max_duration"] = duration(length * 1.5 + 1.0)
                    comment += f"; it lasted {length:.2f}s"
            if info.redirect:
                comment += f"; redirected by {info.redirect['by']} " \
                           f"({info.redirect['code']}, {frames_text(info.redirect['frames'])})"
            if info.via:
                comment += f"; through {info.via}"
            out.append(Expectation("call", params, comment))
    return out


def _negotiated(model: Model, info) -> tuple[str | None, list[int], dict | None]:
    """The codec of the last SDP answer of the call, its frame, and that answer's media."""
    answer = None
    for m in info.messages:
        if m.retransmission or not m.audio or m.is_request:
            continue
        if m.status and 200 <= m.status < 300 or m.status in (183,):
            answer = m
    if answer is None:
        return None, [], None
    names, _ = media_codecs(answer.audio)
    return (names[0] if names else None), [answer.frame] if answer.frame else [], answer.audio


def _media(model: Model, kinds: dict[str, str], streams: list[dict]) -> list[Expectation]:
    out = []
    seen_pairs: dict[tuple[str, str], str] = {}
    # the codec check judges every call between two parties: none if one went unanswered
    unanswered = {frozenset((c.caller, c.callee)) for c in model.calls.values()
                  if c.caller and c.callee and c.answered_at is None}
    for info in sorted(model.calls.values(), key=lambda c: c.start):
        a, b = info.caller, info.callee
        if not (a and b) or info.answered_at is None:
            continue
        if kinds.get(a) not in ("pjsua", "baresip") or kinds.get(b) not in ("pjsua", "baresip"):
            continue
        codec, frames, media = _negotiated(model, info)
        mine = [s for s in streams if s.get("call_id") == info.call_id]
        few = _directions(model, a, b, mine)
        if min(few) < MIN_PACKETS:
            model.note(f"the call {a} -> {b} carried {min(few)} RTP packet(s) one way: too "
                       "short to check its codec or RTP (a rerun may send none)")
            out += _srtp(model, kinds, info, a, b, media, mine) if min(few) else []
            continue
        wire = {stream_codec(s) for s in mine} - {None}
        if codec is None and len(wire) == 1:
            codec = wire.pop()
        pair = (a, b)
        if codec and frozenset(pair) in unanswered:
            model.note(f"calls between {a} and {b} include unanswered ones: the codec check "
                       "judges every call between two parties, so no codec is checked")
        elif codec:
            usable = codec in PJSUA or (codec == "opus" and kinds[a] == kinds[b] == "baresip")
            if not usable:
                model.note(f"the call {a} -> {b} used {codec}: no agent here has it, so "
                           "no codec expectation")
            elif seen_pairs.get(pair, codec) != codec:
                model.note(f"calls {a} -> {b} used {seen_pairs[pair]} and {codec}: the codec "
                           "expectation names the first")
            elif pair not in seen_pairs:
                seen_pairs[pair] = codec
                out.append(Expectation("codec", {"between": [a, b], "codec": codec},
                                       f"the SDP answer ({frames_text(frames)})"))
        out += _srtp(model, kinds, info, a, b, media, mine)
        out += _rtp(model, kinds, info, a, b, mine)
    return out


def _srtp(model, kinds, info, a, b, media, mine) -> list[Expectation]:
    secure = [s for s in mine if s.get("srtp")]
    profile = str((media or {}).get("proto") or "")
    if not secure and "SAVP" not in profile:
        return []
    suites = {s["srtp"].get("suite") for s in secure if s["srtp"].get("authenticated")}
    failed = [s for s in secure if not s["srtp"].get("authenticated")]
    params: dict[str, Any] = {"between": [a, b]}
    comment = f"SRTP on the wire ({len(secure)} stream(s))"
    if "TLS" in profile:
        model.note(f"the call {a} -> {b} keys SRTP by DTLS: the capture holds no keys, so the "
                   "wire cannot be decrypted (a check of it would be inconclusive)")
    if failed and not suites:
        model.note(f"the SRTP of {a} -> {b} could not be authenticated with the keys the "
                   "capture shows (or none were given with --srtp-key): its suite is not "
                   "checked")
    if len(suites) == 1:
        suite = suites.pop()
        agent_suite = PJSUA_SUITE if kinds[a] == kinds[b] == "pjsua" else \
            BARESIP_SUITE if kinds[a] == kinds[b] == "baresip" else None
        if suite == agent_suite:
            params["suite"] = suite
            comment += f", {suite}"
        else:
            model.note(f"the call {a} -> {b} used {suite}: the agents here negotiate "
                       f"{agent_suite or 'their own suite'}, so the suite is not checked")
    return [Expectation("srtp", params, comment)]


def _direction(model, src: str, dst: str, mine) -> tuple[int, list[str]]:
    """The packets of the largest stream from ``src``'s media to ``dst``'s."""
    parties = model.parties
    packets = 0
    frames: list[str] = []
    for s in mine:
        owner_src = parties.media_owner(str(s.get("src")))
        owner_dst = parties.media_owner(str(s.get("dst")))
        if (owner_src is not None and owner_src.name == src) or \
                (owner_dst is not None and owner_dst.name == dst and
                 (owner_src is None or owner_src.name != dst)):
            packets = max(packets, int(s.get("packets") or 0))
            frames.append(f"{s.get('src')} -> {s.get('dst')}")
    return packets, frames


def _directions(model, a, b, mine) -> tuple[int, int]:
    return _direction(model, a, b, mine)[0], _direction(model, b, a, mine)[0]


def _rtp(model, kinds, info, a, b, mine) -> list[Expectation]:
    out = []
    renegotiated = any(m.is_request and m.method in ("INVITE", "UPDATE") and m.tag("to")
                       for m in info.messages)
    # baresip counts nothing itself; a pjsua agent's counts restart with each re-INVITE
    where = "wire" if "baresip" in (kinds[a], kinds[b]) or renegotiated else None
    for src, dst in ((a, b), (b, a)):
        packets, frames = _direction(model, src, dst, mine)
        length = (info.ended_at or info.answered_at) - info.answered_at
        if packets == 0 and length < MIN_TIMED:
            continue
        if packets == 0:
            model.note(f"no RTP from {src} to {dst} in the capture (one-way audio, or the "
                       "capture missed that leg): agents always send, so this is not "
                       "reproduced and not checked")
            continue
        # a second of audio or more: half the packets; a shorter call's count swings with
        # the timing of its signalling, so only that RTP flowed
        least = packets // 2 if packets >= STEADY_PACKETS else 1
        params: dict[str, Any] = {"from": src, "to": dst, "min_packets": least}
        if where:
            params["where"] = where
        out.append(Expectation("rtp", params, f"{packets} packets captured ({frames[0]})"
                               + ("; half of them" if least > 1 else "; some")))
    return out


def _dtmf(model: Model, kinds: dict[str, str]) -> list[Expectation]:
    out = []
    groups: dict[tuple[str, str, str], list] = {}
    for act in model.acts:
        if act.kind != "dtmf" or not act.params.get("receiver"):
            continue
        key = (act.party, act.params["receiver"], act.params["method"])
        groups.setdefault(key, []).append(act)
    for (src, dst, method), acts in groups.items():
        if kinds.get(src) not in ("pjsua", "baresip") or kinds.get(dst) is None:
            continue
        digits = "".join(a.params["digits"] for a in acts)
        params: dict[str, Any] = {"from": src, "to": dst, "digits": digits, "method": method}
        if kinds.get(dst) == "sipp":
            params["where"] = "wire"
        frames = [f for a in acts for f in a.frames]
        where = frames_text(frames) or ("detected in the audio" if method == "inband"
                                        else "frames not numbered")
        out.append(Expectation("dtmf", params, f"{method} digits captured ({where})"))
    return out


def _registrations(model: Model, kinds: dict[str, str]) -> list[Expectation]:
    out = []
    for name, kind in kinds.items():
        if kind != "pjsua":
            continue
        regs = [r for r in model.registrations if r.party == name and r.status is not None]
        if not regs:
            continue
        first = regs[0]
        ok = any(r.status and 200 <= r.status < 300 and not r.unregister for r in regs)
        params: dict[str, Any] = {"agent": name, "registered": ok, "status": first.status}
        explicit = [a for a in model.acts if a.party == name and a.kind in
                    ("register", "unregister")]
        if explicit and explicit[-1].kind == "unregister":
            params["unregistered"] = True
        out.append(Expectation("registration", params,
                               f"{frames_text([f for r in regs for f in r.frames])}"))
    return out


def _label(m) -> Any:
    if m.is_request:
        item: dict[str, Any] = {"method": m.method}
        if m.audio and m.direction != "sendrecv":
            item["sdp"] = {"direction": m.direction}
        return item if len(item) > 1 else m.method
    if m.method == "INVITE":
        return m.status
    return {"status": m.status, "method": m.method}


def _teardown(msgs: list) -> set[int]:
    """Messages of an unregistration the capture ends in (no final 2xx): an agent sends
    it by itself when it stops, at a moment no run repeats exactly."""
    out: set[int] = set()
    by_dialog: dict[str, list] = {}
    for m in msgs:
        if m.method == "REGISTER":
            by_dialog.setdefault(m.call_id, []).append(m)
    for dialog in by_dialog.values():
        tail = []
        for m in reversed(dialog):
            if not m.is_request and m.status and 200 <= m.status < 300:
                break
            tail.append(m)
        if any(m.is_request and m.header("expires").strip() == "0" for m in tail):
            out |= {m.index for m in tail}
    return out


def _sequences(model: Model, msgs: list) -> list[Expectation]:
    """One ``sip`` sequence per direction of each hop: what one party sent the other, in
    order (the two directions interleave differently from run to run)."""
    parties = model.parties
    hops: dict[tuple[str, str], list] = {}
    order: list[tuple[str, str]] = []
    skip = _teardown(msgs)
    twice = {f for a in model.acts if a.kind == "hangup" and a.params.get("again")
             for f in a.frames}
    twice_cseq = {(m.call_id, m.cseq) for m in msgs if m.frame in twice}
    for m in msgs:
        if m.retransmission or m.status == 100 or m.index in skip:
            continue
        if (m.call_id, m.cseq) in twice_cseq:
            continue        # a second BYE of one dialog (and its answer): an agent sends one
        s, r = parties.of(m.src), parties.of(m.dst)
        if s is None or r is None or (s.is_sut and r.is_sut):
            continue
        pair = (s.name, r.name)
        if pair not in hops:
            order.append(pair)
        hops.setdefault(pair, []).append(m)
    out = []
    for pair in order:
        items = hops[pair]
        if len(items) > MAX_SEQUENCE:
            model.note(f"{pair[0]} sent {pair[1]} {len(items)} messages: the sip sequence "
                       f"checks the first {MAX_SEQUENCE}")
            items = items[:MAX_SEQUENCE]
        seq = [_label(m) for m in items]
        comments = [f"frame {m.frame}" if m.frame else "" for m in items]
        assumed = any(p.far_end_of for p in (parties.named(pair[0]), parties.named(pair[1]))
                      if p is not None)
        out.append(Expectation("sip", {"from": pair[0], "to": pair[1], "sequence": seq},
                               f"what {pair[0]} sent {pair[1]}, in order" +
                               ("; assumed: this leg is not in the capture" if assumed else ""),
                               comments))
    return out
