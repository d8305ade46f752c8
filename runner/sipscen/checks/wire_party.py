"""Facts of a service as a party, judged from the capture alone.

A service (a baresip UA, a B2BUA, a relay) reports nothing itself; what it did
is on the wire. ``wire_facts`` builds, for one service, the same shape as an
agent's ``facts()`` (docs/ARCHITECTURE.md): the calls whose INVITE it sent or
received at its SIP port (status, answer, times, the codec of the answer, SRTP
as proven by the RTP it sent, both SDPs), and the DTMF addressed to or sent
from its ports. Every fact carries ``"source": "wire"`` so reports say where
it came from. Times are capture times (only differences are used).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, Mapping

from sipscen.agents.records import AgentRecord, CallRecord, WirePartyFacts, record_of
from sipscen.analysis.result import WireAnalysis, WireCall, WireMessage
from sipscen.checks.dtls_srtp import party_dtls
from sipscen.checks.evidence import STATIC_PT, sdp_body

Owns = Callable[[str, str], bool]
_STATIC_NAMES = {v: k for k, v in STATIC_PT.items()}


def _sdp_messages(messages: list[WireMessage]) -> list[WireMessage]:
    return [m for m in messages if "application/sdp" in
            (m.raw or "").lower() and "v=0" in sdp_body(m.raw or "")]


def codec_of_answer(sdp: list[dict]) -> tuple[str | None, int | None]:
    """Name and payload type of the first audio format of the first answer of a call's
    SDP exchange (the negotiated codec; telephone-event skipped)."""
    for entry in sdp:
        if entry.get("kind") != "answer":
            continue
        for media in entry.get("media", []):
            if media.get("media") != "audio" or not media.get("port"):
                continue
            for pt in media.get("payload_types", []):
                name = (media.get("rtpmap", {}).get(str(pt)) or "").split("/")[0]
                name = name or _STATIC_NAMES.get(pt, "")
                if name and name.lower() not in ("telephone-event", "cn"):
                    return name, pt
    return None, None


def _srtp_sent(name: str, owns: Owns, wire: WireAnalysis, call_id: str | None,
               party_of) -> dict:
    streams = wire.rtp_streams
    dtls = party_dtls(wire, owns, name, party_of)
    if dtls is not None:
        return dtls
    # its streams on this call: tied to the call by the SDP, or (untied) towards a
    # party of the scenario; a stream to an unknown port is someone else's traffic
    # (the loopback is shared with other runs)
    mine = [s for s in streams if owns(name, s.src) and
            (s.call_id == call_id or (s.call_id is None and party_of(s.dst) is not None))]
    if not mine:
        return {"active": False, "suite": None, "evidence": "no RTP sent"}
    proven = [s for s in mine if s.srtp_proven()]
    if len(proven) == len(mine):
        return {"active": True, "suite": proven[0].srtp.get("suite"),
                "evidence": "every stream it sent authenticated"}
    return {"active": False, "suite": None,
            "evidence": f"{len(mine) - len(proven)} of {len(mine)} streams not proven SRTP"}


def _call_facts(name: str, owns: Owns, call: WireCall, wire: WireAnalysis,
                party_of) -> dict | None:
    msgs = call.messages
    # its own hop of the call: through a proxy the first INVITE is someone else's
    invite = next((m for m in msgs if m.method == "INVITE" and
                   (owns(name, m.src) or owns(name, m.dst))), None)
    if invite is None:
        return None
    if owns(name, invite.src):
        direction, remote = "outgoing", call.to
    elif owns(name, invite.dst):
        direction, remote = "incoming", call.from_
    else:
        return None
    msgs = [m for m in msgs if owns(name, m.src) or owns(name, m.dst)]
    hop = {(m.time, m.src) for m in msgs}
    ok = next((m for m in msgs if m.status and 200 <= m.status < 300
               and "INVITE" in (m.summary or "")), None)
    early = next((m for m in msgs if m.status and 180 <= m.status < 200
                  and "INVITE" in (m.summary or "")), None)
    final = next((m for m in msgs if (m.status or 0) >= 200
                  and "(INVITE)" in (m.summary or "")), None)
    cancel = next((m for m in msgs if m.method == "CANCEL"), None)
    bye = next((m for m in msgs if m.method == "BYE"), None)
    confirmed = ok.time if ok else None
    ended = bye.time if bye else None
    local = remote_sdp = ""
    for m in _sdp_messages(msgs):
        text = sdp_body(m.raw)
        if owns(name, m.src):
            local = local or text
        elif owns(name, m.dst):
            remote_sdp = remote_sdp or text
    codec, pt = codec_of_answer([e for e in call.sdp if (e.get("time"), e.get("from")) in hop])
    return {
        "direction": direction, "call_id": call.call_id, "remote_uri": remote,
        "status_code": call.status, "reason": "", "answered": bool(call.answered),
        "started_at": invite.time, "early_at": early.time if early else None,
        "final_at": final.time if final else None,
        "cancelled_at": cancel.time if cancel else None,
        "confirmed_at": confirmed, "disconnected_at": ended,
        "duration": (ended - confirmed) if confirmed is not None and ended is not None else None,
        "codec": codec, "payload_type": pt,
        "srtp": _srtp_sent(name, owns, wire, call.call_id, party_of),
        "local_sdp": local, "remote_sdp": remote_sdp, "source": "wire",
    }


def wire_facts(name: str, owns: Owns, wire: WireAnalysis | None,
               base: Mapping[str, Any] | AgentRecord | None = None,
               party_of=None) -> AgentRecord:
    """Agent-shaped facts of service ``name`` from the wire analysis, as a record
    (``WirePartyFacts``: ``source`` "wire"); an agent whose facts say ``from_wire``
    (baresip) keeps its own record with its calls read from the capture.
    ``party_of(address)`` names the scenario's party owning an address (None: not
    one of ours)."""
    party_of = party_of or (lambda address: None)
    wire = wire or WireAnalysis()
    calls = []
    for call in wire.calls:
        fact = _call_facts(name, owns, call, wire, party_of)
        if fact is not None:
            calls.append(CallRecord.from_dict(fact))
    own = record_of(base) if base is not None else None
    if own is not None and getattr(own, "from_wire", False):
        return replace(own, calls=calls)    # an agent (baresip): its own digits from its log
    facts = WirePartyFacts.from_dict(base.to_dict() if isinstance(base, AgentRecord)
                                     else base or {})
    facts.calls = calls
    facts.dtmf_received = [
        {"digit": d.digit, "method": d.method, "t": d.time, "duration_ms": d.duration_ms,
         "call_id": d.call_id, "source": "wire"}
        for d in wire.dtmf if owns(name, d.dst)]
    facts.dtmf_sent = [
        {"digit": d.digit, "method": d.method, "t": d.time, "call_id": d.call_id,
         "source": "wire"}
        for d in wire.dtmf if owns(name, d.src)]
    return facts
