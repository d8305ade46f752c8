"""An agent's keys (everything but its steps) from what its party did in the capture:
account and registration, codecs, SRTP, how it answers, PRACK, session timers,
redirects, transfers. Each key carries a comment naming the frames it came from.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from statistics import median
from typing import Any

from sipscen.scaffold.acts import Act, Model
from sipscen.scaffold.codecs import BARESIP, PJSUA, media_codecs
from sipscen.scaffold.frames import frames_text
from sipscen.scaffold.parties import Party, party_headers

PJSUA_SESSION_EXPIRES = 1800
QUICK = 0.25            # s: a 180 or an answer this soon after the INVITE is "at once"


@dataclass
class AgentKeys:
    keys: dict[str, Any] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)
    manual_answer: bool = False


def agent_keys(model: Model, party: Party, password_var: str | None) -> AgentKeys:
    out = AgentKeys()
    out.keys["type"] = party.kind
    tcp = [m for info in model.calls.values() for m in info.messages
           if m.transport == "tcp" and model.parties.of(m.src) is party]
    if tcp and party.kind == "pjsua":
        out.keys["transport"] = "tcp"
        out.comments["transport"] = f"its SIP went over TCP (frame {tcp[0].frame})"
    if party.kind == "sipp":
        return out
    _account(model, party, out, password_var)
    _codecs(model, party, out)
    _srtp(model, party, out)
    _answer(model, party, out)
    if party.kind == "pjsua":
        _call_options(model, party, out)
        extra = model.config.get(party.name, {})
        if extra.get("transfer"):
            out.keys["transfer"] = extra["transfer"]
            out.comments["transfer"] = "how it answered the REFER"
        if extra.get("follow_redirects"):
            out.keys["follow_redirects"] = True
            out.comments["follow_redirects"] = "it followed the 3xx with a new INVITE"
    return out


def _account(model: Model, party: Party, out: AgentKeys, password_var: str | None) -> None:
    account: dict[str, Any] = {}
    if party.user and party.user != party.name:
        account["user"] = party.user
    if party.domain and party.domain.strip("[]") not in (party.host, "127.0.0.1", "::1"):
        account["domain"] = party.domain
    regs = [r for r in model.registrations if r.party == party.name]
    if party.far_end_of is not None and party.kind == "pjsua":
        # not in the capture: it registers so that the SUT can route the call to it
        account["registrar"] = party.far_end_of
        if any(r.challenged for r in model.registrations) or any(
                a.note.startswith("the same INVITE with credentials") for a in model.acts):
            account["password"] = f"${{{password_var or 'password'}}}"
        out.comments["account"] = "assumed: it registers at the SUT to be reachable"
    elif regs and party.kind == "pjsua":
        first = regs[0]
        account["registrar"] = first.registrar
        if any(r.challenged for r in regs):
            account["password"] = f"${{{password_var or 'password'}}}"
        ok = first.status is not None and 200 <= first.status < 300 and not first.unregister
        earlier = [a for a in model.acts if a.party == party.name and a.time < first.time
                   and not a.auto]
        if not ok or earlier:
            account["register_at_start"] = False
        if first.status is not None and first.status >= 300 and first.challenged:
            account["password"] = "${wrong_password}"
        out.comments["account"] = f"registers at {first.registrar} ({frames_text(first.frames)})"
        _registration_acts(model, party, regs, not ok or bool(earlier))
    elif regs and party.kind == "baresip":
        model.note(f"{party.name} registers ({frames_text(regs[0].frames)}): a baresip agent "
                   "does not (left out)")
    if account:
        out.keys["account"] = account


def _registration_acts(model: Model, party: Party, regs, first_is_step: bool) -> None:
    registered = False
    for i, r in enumerate(regs):
        if r.unregister:
            if not r.complete and r is regs[-1]:
                model.note(f"{party.name}'s last REGISTER (Expires: 0) has no answer in the "
                           f"capture ({frames_text(r.frames)}): the agent unregisters by "
                           "itself when it stops")
                continue
            model.acts.append(Act(party.name, r.time, "unregister", {"status": r.status},
                                  None, r.frames))
            registered = False
            continue
        if i == 0 and not first_is_step:
            registered = r.status is not None and 200 <= r.status < 300
            continue
        if registered and r.status is not None and 200 <= r.status < 300:
            model.note(f"{party.name} refreshes its registration ({frames_text(r.frames)}): "
                       "PJSUA does that by itself")
            continue
        model.acts.append(Act(party.name, r.time, "register", {"status": r.status}, None,
                              r.frames))
        registered = r.status is not None and 200 <= r.status < 300
    model.acts.sort(key=lambda a: a.time)


def _sdp_sent(model: Model, party: Party):
    for info in model.calls.values():
        for m in info.messages:
            if m.retransmission or m.forwarded_from is not None or not m.audio:
                continue
            if model.parties.of(m.src) is party:
                yield m, info


def _codecs(model: Model, party: Party, out: AgentKeys) -> None:
    names: list[str] = []
    unknown: list[str] = []
    frames: list[int] = []
    have = PJSUA if party.kind == "pjsua" else BARESIP
    for m, _info in _sdp_sent(model, party):
        found, odd = media_codecs(m.audio)
        if m.is_request:
            chosen = found
        else:
            chosen = found[:1]      # an answer's first codec is the one in use
        for name in chosen:
            if name not in names:
                names.append(name)
                if m.frame:
                    frames.append(m.frame)
        unknown += [u for u in odd if u not in unknown]
    missing = [n for n in names if n not in have]
    usable = [n for n in names if n in have]
    if missing:
        model.note(f"{party.name} offers or uses {', '.join(missing)}: a {party.kind} agent "
                   f"has no such codec (it has {', '.join(sorted(have))}); not reproduced")
    if unknown:
        model.note(f"{party.name}'s SDP names {', '.join(unknown)}: no agent has it "
                   "(not reproduced)")
    if usable:
        out.keys["codecs"] = usable
        out.comments["codecs"] = f"its SDP ({frames_text(frames)})"


def _srtp(model: Model, party: Party, out: AgentKeys) -> None:
    use = None
    frames: list[int] = []
    for m, _info in _sdp_sent(model, party):
        media = m.audio
        proto = str(media.get("proto") or "")
        crypto = media.get("crypto") or []
        if "TLS" in proto:
            use = "dtls"
        elif "SAVP" in proto and use != "dtls":
            use = "mandatory"
        elif crypto and use is None:
            use = "optional"
        if m.frame and (use or crypto):
            frames.append(m.frame)
    for a in model.acts:
        if a.party == party.name and a.kind == "reject" and a.params.get("code") == 488:
            info = model.calls.get(a.call or "")
            offer = next((m for m in (info.messages if info else []) if m.is_request
                          and m.method == "INVITE" and m.audio), None)
            if offer is not None and "SAVP" in str(offer.audio.get("proto")):
                use = use or "disabled"
                out.comments["srtp"] = (f"it refused an RTP/SAVP offer with 488 "
                                        f"({frames_text(a.frames)})")
    if use == "dtls" and party.kind != "baresip":
        model.note(f"{party.name} keys SRTP by DTLS ({frames_text(frames)}): a pjsua agent "
                   "cannot (not reproduced)")
        use = None
    if use and use != "disabled":
        out.keys["srtp"] = {"use": use}
        out.comments.setdefault("srtp", f"its SDP ({frames_text(frames)})")


def _answer(model: Model, party: Party, out: AgentKeys) -> None:
    """Its answering policy: a key when every incoming call went the same simple way,
    else `manual: true` and `answer` steps."""
    incoming = {o.call for o in model.obs if o.party == party.name and o.event == "incoming"}
    calls = [c for c in model.calls.values() if c.call_id in incoming]
    if not calls:
        return
    patterns = []
    ring_at_once = True
    for c in calls:
        arrived = next((o.time for o in model.obs if o.party == party.name and
                        o.event == "incoming" and o.call == c.call_id), c.start)
        acts = [a for a in model.acts if a.party == party.name and a.call == c.call_id and
                a.kind in ("provisional", "answer", "reject")]
        provisional = [a for a in acts if a.kind == "provisional"]
        final = next((a for a in acts if a.kind != "provisional"), None)
        if not provisional or provisional[0].params["code"] != 180 or \
                provisional[0].time - arrived > QUICK:
            ring_at_once = False
        odd = [a for a in provisional if a.params["code"] != 180 or a.params.get("sdp") or
               a.params.get("headers")]
        patterns.append((bool(provisional), final, arrived, odd))
    kinds = set()
    delays = []
    for has_18x, final, arrived, odd in patterns:
        if odd:
            kinds.add("manual")
        elif final is None:
            kinds.add("never")
        elif final.kind == "answer":
            delay = final.time - arrived
            kinds.add("ring" if has_18x else "at-once" if delay <= QUICK else "manual")
            delays.append(delay)
        else:
            kinds.add(f"reject-{final.params['code']}" if not has_18x and
                      final.time - arrived <= 0.5 else "manual")
    headers = [f.params.get("headers") for _h, f, _a, _o in patterns if f is not None]
    same_headers = all(h == headers[0] for h in headers) if headers else True
    frames = [f for _h, f, _a, _o in patterns if f is not None]
    where = frames_text([x for f in frames for x in f.frames])
    answer: dict[str, Any] = {}
    kind = kinds.pop() if len(kinds) == 1 and same_headers else "manual"
    if kind == "at-once":
        pass
    elif kind == "ring" and delays:
        answer["delay"] = _ms(median(delays))
    elif kind.startswith("reject-"):
        answer["reject"] = int(kind.split("-")[1])
    elif kind == "never":
        answer["manual"] = True
        if not ring_at_once:
            answer["ring"] = False
    else:
        answer["manual"] = True
        out.manual_answer = True
        if not ring_at_once:
            answer["ring"] = False
    if kind != "manual" and headers and headers[0]:
        answer["headers"] = party_headers(model.parties, headers[0])
    for a in model.acts:
        if a.party == party.name and a.kind in ("provisional", "answer", "reject"):
            a.auto = not out.manual_answer or (a.kind == "provisional" and ring_at_once and
                                                a.params["code"] == 180 and
                                                not a.params.get("sdp") and
                                                a is _first_provisional(model, a))
    if answer:
        out.keys["answer"] = answer
        out.comments["answer"] = f"as it answered ({where})" if where else \
            "it never answered"
    if party.kind == "baresip" and (answer.get("reject") or answer.get("headers") or
                                    answer.get("delay")):
        model.note(f"{party.name} answers {answer}: a baresip agent answers 200 at once "
                   "(not reproduced)")
        out.keys["answer"] = {"manual": True} if answer.get("manual") else {}
        if not out.keys["answer"]:
            del out.keys["answer"]


def _first_provisional(model: Model, act: Act) -> Act | None:
    return next((a for a in model.acts if a.party == act.party and a.call == act.call and
                 a.kind == "provisional"), None)


def _call_options(model: Model, party: Party, out: AgentKeys) -> None:
    invites = [a for a in model.acts if a.party == party.name and a.kind == "call"
               and not a.auto]
    if invites:
        first = invites[0]
        require = str(first.params.get("require") or "").lower()
        expires = str(first.params.get("session-expires") or "").split(";")[0].strip()
        if "100rel" in require:
            out.keys["prack"] = "required"
            out.comments["prack"] = f"its INVITE requires 100rel ({frames_text(first.frames)})"
        timer: dict[str, Any] = {}
        if "timer" in require:
            timer["use"] = "required"
        if expires.isdigit() and int(expires) != PJSUA_SESSION_EXPIRES:
            timer.setdefault("use", "optional")
            timer["expires"] = f"{int(expires)}s"
        if not expires:
            timer = {"use": "inactive"}
        if timer:
            out.keys["session_timer"] = timer
            out.comments["session_timer"] = f"its INVITE ({frames_text(first.frames)})"
    for info in model.calls.values():
        if info.callee != party.name:
            continue
        for m in info.messages:
            if model.parties.of(m.src) is party and m.status and 100 < m.status < 200 and \
                    "100rel" in m.header("require") and m.forwarded_from is None:
                out.keys.setdefault("prack", "supported")
                out.comments.setdefault("prack", f"its {m.status} is sent reliably "
                                                 f"(frame {m.frame})")


def _ms(seconds: float) -> str:
    return f"{max(0, round(seconds * 1000 / 10) * 10)}ms"
