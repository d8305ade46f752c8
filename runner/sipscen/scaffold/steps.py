"""Writing steps: one act of a party as the step (kind and keys) that reproduces it,
and one observation as the ``wait`` for it."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sipscen.scaffold.acts import Act, Model, Obs
from sipscen.scaffold.frames import frames_text
from sipscen.scaffold.parties import Parties, party_headers, uri_party
from sipscen.scaffold.sipmsg import Uri

MIN_SLEEP = 0.02        # s: shorter gaps are not written
LONG_TONE_MS = 300      # an in-band "digit" this long is a dual tone played, not a keypress
DTMF_ROWS = {"1": 697, "2": 697, "3": 697, "A": 697, "4": 770, "5": 770, "6": 770, "B": 770,
             "7": 852, "8": 852, "9": 852, "C": 852, "*": 941, "0": 941, "#": 941, "D": 941}
DTMF_COLS = {"1": 1209, "4": 1209, "7": 1209, "*": 1209, "2": 1336, "5": 1336, "8": 1336,
             "0": 1336, "3": 1477, "6": 1477, "9": 1477, "#": 1477, "A": 1633, "B": 1633,
             "C": 1633, "D": 1633}


@dataclass
class Step:
    kind: str
    params: Any
    comment: str = ""


def duration(seconds: float) -> str:
    ms = round(seconds * 1000 / 10) * 10
    if ms >= 10_000 and ms % 1000 == 0:
        return f"{ms // 1000}s"
    return f"{ms}ms"


def timeout_for(gap: float) -> str:
    return f"{max(5, math.ceil(gap * 2 + 3))}s"


def target(parties: Parties, ruri: Uri | None, dst: str | None) -> dict[str, Any]:
    """``to: NAME`` for a party reached directly, ``uri:`` through a SUT, else the URI as
    captured."""
    party = None
    if ruri is not None:
        party = next((p for p in parties.by_address.values()
                      if p.host == ruri.host.strip("[]") and
                      p.address.rpartition(":")[2] == str(ruri.port or 5060)), None)
    if party is None and dst:
        party = parties.of(dst)
    if party is not None and not party.is_sut:
        return {"to": party.name}
    user = ruri.user if ruri is not None else ""
    if party is not None and party.is_sut:
        return {"uri": f"sip:{user + '@' if user else ''}${{{party.name}.hostport}}"}
    if ruri is not None:
        return {"uri": f"{ruri.scheme}:{user + '@' if user else ''}{ruri.hostport}"}
    return {}


def act_step(model: Model, act: Act, call_ref: dict[str, Any], names: dict[str, str]
             ) -> Step | list[Step] | None:
    """The step for ``act`` (None when the act is the agent's own doing)."""
    p = act.params
    where = frames_text(act.frames)
    parties = model.parties
    if act.kind == "call":
        info = model.calls.get(act.call or "")
        first = info.messages[0] if info and info.messages else None
        dst = next((m.dst for m in (info.messages if info else [])
                    if m.is_request and m.method == "INVITE" and
                    parties.of(m.src) is not None and parties.of(m.src).name == act.party),
                   first.dst if first else None)
        params = target(parties, p.get("ruri"), dst)
        if act.call in names:
            params["id"] = names[act.call]
        if p.get("headers"):
            params["headers"] = dict(p["headers"])
        return Step("call", params, f"INVITE, {where}" if where else "INVITE")
    if act.kind in ("answer", "reject", "provisional"):
        params = {"code": p["code"]}
        if p.get("headers"):
            params["headers"] = party_headers(parties, p["headers"])
        return Step("answer", params, where)
    if act.kind in ("hangup", "cancel"):
        return Step(act.kind, dict(call_ref), where)
    if act.kind == "hold":
        params = dict(call_ref)
        if p.get("mode") == "inactive":
            params["mode"] = "inactive"
        return Step("hold", params, f"re-INVITE a={p.get('mode')}, {where}")
    if act.kind == "unhold":
        return Step("unhold", dict(call_ref), f"re-INVITE a=sendrecv, {where}")
    if act.kind in ("reinvite", "update"):
        params = dict(call_ref)
        if act.kind == "update" and not p.get("sdp", True):
            params["sdp"] = False
        if p.get("codecs"):
            params["codecs"] = list(p["codecs"])
        return Step(act.kind, params, where)
    if act.kind == "info":
        params = dict(call_ref)
        params["content_type"] = p.get("content_type") or "text/plain"
        params["body"] = p.get("body") or ""
        if p.get("headers"):
            params["headers"] = dict(p["headers"])
        return Step("info", params, where)
    if act.kind == "transfer":
        params = dict(call_ref)
        replaced = p.get("replaces_call_id")
        if replaced and replaced in names:
            pass                    # attended: the consult call names the target
        elif p.get("to"):
            params["to"] = p["to"]
        elif p.get("uri"):
            via = parties.named(p["via"]) if p.get("via") else None
            user = p.get("uri_user") or ""
            params["uri"] = f"sip:{user + '@' if user else ''}${{{via.name}.hostport}}" \
                if via is not None and via.is_sut else p["uri"]
        if replaced:
            if replaced in names:
                params["replaces"] = names[replaced]
            else:
                model.note(f"{act.party}'s REFER replaces a call it did not place or answer "
                           "in this capture: sent as a blind transfer", None)
        if p.get("headers"):
            params["headers"] = dict(p["headers"])
        return Step("transfer", params, f"REFER, {where}")
    if act.kind in ("message", "request"):
        params = target(parties, p.get("ruri"), p.get("dst"))
        if act.kind == "request" and p.get("method") != "OPTIONS":
            params = {"method": p["method"], **params}
        if act.kind == "message" or p.get("body"):
            params["body"] = p.get("body") or ""
            ctype = p.get("content_type") or ""
            if ctype and ctype != "text/plain":
                params["content_type"] = ctype
        if p.get("headers"):
            params["headers"] = dict(p["headers"])
        return Step(act.kind, params, f"{p.get('method')}, {where}")
    if act.kind in ("register", "unregister"):
        return Step(act.kind, {}, f"REGISTER, {where}")
    if act.kind == "dtmf" and p["method"] == "inband" and p["duration_ms"] > LONG_TONE_MS:
        return _tones(p, where)
    if act.kind == "dtmf":
        params = {"digits": p["digits"], "method": p["method"]}
        if p["method"] in ("rfc4733", "inband"):
            params["duration"] = f"{p['duration_ms']}ms"
        if len(p["digits"]) > 1:
            params["gap"] = f"{p['gap_ms']}ms"
        return Step("dtmf", params, f"{p['method']}, {where}" if where else p["method"])
    return None


def _tones(p: dict, where: str) -> list[Step]:
    """Long in-band digits as the dual tones they are (``play``), gaps as sleeps."""
    out: list[Step] = []
    for i, digit in enumerate(p["digits"]):
        if i:
            out.append(Step("sleep", f"{p['gap_ms']}ms", ""))
        out.append(Step("play", {"tone": {
            "frequencies": [DTMF_ROWS[digit], DTMF_COLS[digit]],
            "duration": f"{p['duration_ms']}ms"}},
            f"in-band '{digit}' lasting {p['duration_ms']} ms: a tone, {where}".rstrip(", ")))
    return out


WAIT_EVENTS = {
    "incoming": "incoming", "ringing": "call_state", "early_media": "early_media",
    "answered": "answered", "media_active": "media_active", "held": "held",
    "resumed": "resumed", "disconnected": "disconnected", "redirected": "redirected",
    "transfer_requested": "transfer_requested", "transferred": "transferred",
    "message": "message", "request_answered": "request_answered",
    "registered": "registered", "unregistered": "unregistered",
    "registration_failed": "registration_failed", "dtmf": "dtmf",
}
CALL_EVENTS = frozenset({"ringing", "early_media", "answered", "media_active", "held",
                         "resumed", "disconnected", "redirected", "transfer_requested",
                         "transferred"})


def wait_step(o: Obs, call_ref: dict[str, Any], gap: float, digits: str | None = None,
              name: str | None = None) -> Step:
    params: dict[str, Any] = {"event": WAIT_EVENTS[o.event]}
    if o.event == "ringing":
        params.update(state="EARLY", code=o.data.get("code"))
    if o.event == "incoming" and name:
        params["id"] = name
    if o.event in CALL_EVENTS:
        params.update(call_ref)
    if o.event == "dtmf":
        params["digits"] = digits or o.data.get("digits")
    if o.event == "request_answered" and o.data.get("status"):
        params["status"] = o.data["status"]
    params["timeout"] = timeout_for(gap)
    return Step("wait", params, frames_text(o.frames))
