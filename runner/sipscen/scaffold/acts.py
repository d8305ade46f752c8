"""What each party did and saw: the capture read as acts and observations.

An *act* is something an agent does that a step (or its agent's configuration)
reproduces: place a call, answer or refuse it, hold, re-INVITE, INFO, REFER,
MESSAGE, OPTIONS, REGISTER, DTMF, hang up. Messages a SIP stack sends by itself
(ACK, PRACK, NOTIFY, the 100 Trying, the retry with credentials, the call a
REFER asks for, the BYE of a replaced dialog) are marked ``auto``. An
*observation* is what an agent can wait for (``incoming``, ``answered``,
``held``, ``dtmf``, ...), at the time the message that causes it arrived.
Every act and observation keeps the frame numbers it came from.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sipscen.scaffold.codecs import offered_codecs
from sipscen.scaffold.parties import Parties, Party, uri_party
from sipscen.scaffold.sipmsg import Msg

# headers the agent's SIP stack writes itself (or that routing and the transaction
# layer own): never copied into a step's `headers`
STACK_HEADERS = frozenset("""
via max-forwards from to contact call-id cseq route record-route allow allow-events
supported require session-expires min-se user-agent server content-type content-length
content-encoding content-disposition accept accept-encoding accept-language authorization
proxy-authorization www-authenticate proxy-authenticate expires date timestamp
referred-by replaces rseq rack event subscription-state refer-to refer-sub p-asserted-identity
organization mime-version warning retry-after unsupported proxy-require reason
x-sipscen call-info
""".split())


_TOKEN = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")


@dataclass
class Act:
    party: str
    time: float
    kind: str
    params: dict[str, Any]
    call: str | None
    frames: list[int]
    auto: bool = False
    note: str = ""


@dataclass
class Obs:
    party: str
    time: float
    event: str
    call: str | None
    data: dict[str, Any]
    frames: list[int]
    cause: str | None = None                # the party whose message caused it


@dataclass
class CallInfo:
    """One INVITE dialog, end to end."""

    call_id: str
    caller: str | None = None
    callee: str | None = None
    via: str | None = None                  # the SUT it went through
    start: float = 0.0
    answered_at: float | None = None
    ended_at: float | None = None
    status: int | None = None               # the final answer the caller got
    reason: str = ""
    ended_by: str | None = None
    redirect: dict[str, Any] | None = None
    auto_from: str | None = None            # "transfer" | "replaces": placed by the stack
    frames: dict[str, list[int]] = field(default_factory=dict)   # what -> frames
    hops: list[tuple[str, str]] = field(default_factory=list)    # (sender, receiver)
    messages: list[Msg] = field(default_factory=list)


@dataclass
class Registration:
    party: str
    registrar: str
    time: float
    expires: int | None
    status: int | None
    challenged: bool
    frames: list[int]
    unregister: bool = False
    complete: bool = True                   # its final answer is in the capture


@dataclass
class Model:
    parties: Parties
    acts: list[Act] = field(default_factory=list)
    obs: list[Obs] = field(default_factory=list)
    calls: dict[str, CallInfo] = field(default_factory=dict)
    registrations: list[Registration] = field(default_factory=list)
    notes: list[tuple[str, list[int]]] = field(default_factory=list)  # (text, frames)
    config: dict[str, dict[str, Any]] = field(default_factory=dict)   # party -> agent keys

    def act(self, party: Party, m: Msg | list[Msg], kind: str, call: str | None = None,
            auto: bool = False, note: str = "", **params) -> Act:
        msgs = m if isinstance(m, list) else [m]
        a = Act(party.name, msgs[0].time, kind, params, call,
                [x.frame for x in msgs if x.frame], auto, note)
        self.acts.append(a)
        return a

    def see(self, party: Party | None, m: Msg, event: str, call: str | None = None,
            **data) -> None:
        if party is None or party.is_sut:
            return
        if event == "disconnected" and any(o.party == party.name and o.call == call and
                                           o.event == "disconnected" for o in self.obs):
            return      # a call ends once (a second BYE, a BYE after a final answer)
        origin = self.parties.of((m.forwarded_from or m).src)
        self.obs.append(Obs(party.name, m.time, event, call, data,
                            [m.frame] if m.frame else [],
                            origin.name if origin is not None else None))

    def note(self, text: str, msgs: list[Msg] | Msg | None = None) -> None:
        frames = [x.frame for x in (msgs if isinstance(msgs, list) else [msgs] if msgs else [])
                  if x.frame]
        if (text, frames) not in self.notes:
            self.notes.append((text, frames))

    def set(self, party: Party, key: str, value: Any) -> None:
        self.config.setdefault(party.name, {})[key] = value


def custom_headers(m: Msg) -> dict[str, str]:
    """Headers of ``m`` no SIP stack writes by itself (X-..., Subject, Priority, ...),
    with their names as written."""
    out: dict[str, str] = {}
    lines = m.raw.replace("\r\n", "\n").split("\n\n", 1)[0].split("\n")[1:]
    last = None
    for line in lines:
        if line[:1] in (" ", "\t"):            # a folded header goes on
            if last is not None:
                out[last] += " " + line.strip()
            continue
        last = None
        name, sep, value = line.partition(":")
        name = name.strip()
        if not sep or not _TOKEN.match(name) or name.lower() in STACK_HEADERS or \
                len(name) == 1 or name in out:
            continue
        out[name] = value.strip()
        last = name
    return out


def read_acts(flow, parties: Parties) -> Model:
    model = Model(parties)
    for cid, msgs in flow.dialogs.items():
        methods = {m.method for m in msgs if m.is_request}
        if "INVITE" in methods:
            _DialogReader(model, cid, msgs).run()
        elif "REGISTER" in methods:
            _registrations(model, msgs)
        else:
            _out_of_dialog(model, msgs)
    _link_transfers(model)
    model.acts.sort(key=lambda a: a.time)
    model.obs.sort(key=lambda o: o.time)
    return model


class _DialogReader:
    """Walks one INVITE dialog's messages in order."""

    def __init__(self, model: Model, cid: str, msgs: list[Msg]):
        self.model, self.cid, self.msgs = model, cid, msgs
        self.p = model.parties
        self.info = model.calls.setdefault(cid, CallInfo(cid, start=msgs[0].time))
        self.info.messages = msgs
        self.held: dict[str, str] = {}          # party -> hold mode it put the call in
        self.offers: dict[str, list[str]] = {}  # party -> codecs of its last offer
        self.tx: dict[int, dict[str, Any]] = {}  # INVITE CSeq -> what the transaction was
        self.confirmed = False
        self.cancelled = False

    def run(self) -> None:
        for m in self.msgs:
            if m.retransmission:
                continue
            s, r = self.p.of(m.src), self.p.of(m.dst)
            if s is None or r is None:
                continue
            hop = (s.name, r.name)
            if hop not in self.info.hops:
                self.info.hops.append(hop)
            if s.is_sut and m.forwarded_from is None and not r.is_sut and m.is_request \
                    and m.method == "INVITE" and not m.tag("to") and self.info.caller is None:
                self.model.note(f"{s.name} starts a call leg of its own (a B2BUA?): its "
                                "caller side is not in this dialog", m)
            if m.is_request:
                self.request(m, s, r)
            else:
                self.response(m, s, r)

    # -- requests ----------------------------------------------------------------------
    def request(self, m: Msg, s: Party, r: Party) -> None:
        info, model = self.info, self.model
        relay = m.forwarded_from is not None
        num = m.cseq[0]
        if m.method == "INVITE":
            initial = not m.tag("to")
            if initial:
                if not relay and not s.is_sut:
                    self.initial_invite(m, s)
                if not r.is_sut:
                    if info.callee is None or self.tx.get(num, {}).get("redirected"):
                        info.callee = r.name
                    model.see(r, m, "incoming", self.cid, headers=custom_headers(m))
                elif info.via is None:
                    info.via = r.name
                self.tx.setdefault(num, {"initial": True, "sender": s.name})
            else:
                self.reinvite(m, s, r, relay, "INVITE")
        elif m.method == "UPDATE":
            self.reinvite(m, s, r, relay, "UPDATE")
        elif m.method == "ACK":
            if self.tx.get(num, {}).get("initial") and self.tx[num].get("final", 0) // 100 == 2:
                # media first: a wait anchors on the last event of a message, and
                # `answered` is the one every agent type posts
                if self.tx[num].get("media"):
                    model.see(r, m, "media_active", self.cid)
                model.see(r, m, "answered", self.cid)
        elif m.method == "BYE":
            if not relay and not s.is_sut:
                again = any(a.kind == "hangup" and a.call == self.cid and a.party == s.name
                            for a in model.acts)
                auto = self.info.auto_from == "replaced" or again
                model.act(s, m, "hangup", self.cid, auto=auto, again=again,
                          note="the dialog was replaced (INVITE with Replaces)" if auto else "")
                if again:
                    model.note(f"{s.name} sends a second BYE in one dialog: an agent ends a "
                               "call once (not reproduced)", m)
                if info.ended_by is None:
                    info.ended_by = s.name
                    info.ended_at = m.time
            model.see(r, m, "disconnected", self.cid)
        elif m.method == "CANCEL":
            if not relay and not s.is_sut:
                model.act(s, m, "cancel", self.cid)
                info.ended_by = s.name
                info.ended_at = m.time
            self.cancelled = True
        elif m.method == "INFO":
            if not relay and not s.is_sut and not _is_dtmf_info(m):
                model.act(s, m, "info", self.cid, content_type=m.header("content-type") or
                          "text/plain", body=m.body, headers=custom_headers(m))
        elif m.method == "REFER":
            if not relay and not s.is_sut:
                self.refer(m, s)
            model.see(r, m, "transfer_requested", self.cid)
        elif m.method == "NOTIFY":
            if "refer" in m.header("event").lower() and m.body.startswith("SIP/2.0 2"):
                model.see(r, m, "transferred", self.cid)
        elif m.method in ("PRACK",):
            pass
        elif not relay and not s.is_sut:
            model.note(f"{s.name} sends {m.method} inside a call: no pjsua step sends that "
                       "(left out)", m)

    def initial_invite(self, m: Msg, s: Party) -> None:
        info, model = self.info, self.model
        prior = [x for x in self.msgs if x.time <= m.time and x is not m and x.src == m.src
                 and x.is_request and x.method == "INVITE" and not x.tag("to")]
        codecs = offered_codecs(m)
        if prior:
            last = self.tx.get(prior[-1].cseq[0], {})
            final = last.get("final")
            if final in (401, 407):
                model.act(s, m, "call", self.cid, auto=True,
                          note="the same INVITE with credentials (the agent's password)")
                return
            if final and 300 <= final < 400:
                model.set(s, "follow_redirects", True)
                model.obs = [o for o in model.obs if not (
                    o.party == s.name and o.call == self.cid and o.event == "disconnected")]
                model.act(s, m, "call", self.cid, auto=True, note="follows the redirect")
                self.tx[m.cseq[0]] = {"initial": True, "sender": s.name, "redirected": True}
                return
            return
        info.caller = s.name
        info.start = m.time
        info.frames["invite"] = [m.frame] if m.frame else []
        if m.has("replaces"):
            info.auto_from = "replaces"
            model.act(s, m, "call", self.cid, auto=True,
                      note="placed by the agent itself for an attended transfer (Replaces)")
            return
        if m.has("referred-by"):
            info.auto_from = "transfer"
            model.act(s, m, "call", self.cid, auto=True,
                      note="placed by the agent itself: a REFER asked for it")
            return
        params: dict[str, Any] = {"ruri": m.ruri, "headers": custom_headers(m),
                                  "codecs": codecs}
        for key in ("require", "supported", "session-expires"):
            params[key] = m.header(key)
        model.act(s, m, "call", self.cid, **params)
        self.offers[s.name] = codecs

    def reinvite(self, m: Msg, s: Party, r: Party, relay: bool, method: str) -> None:
        model = self.model
        if relay or s.is_sut:
            return
        direction = m.direction
        codecs = offered_codecs(m) if m.sdp else []
        last = self.offers.get(s.name)
        what = "reinvite"
        if direction in ("sendonly", "inactive") and s.name not in self.held:
            self.held[s.name] = direction
            what = "hold"
            model.act(s, m, "hold", self.cid, mode=direction)
        elif direction == "sendrecv" and s.name in self.held:
            del self.held[s.name]
            what = "unhold"
            model.act(s, m, "unhold", self.cid)
        elif method == "UPDATE":
            what = "update" if m.sdp else "refresh"
            params: dict[str, Any] = {"sdp": bool(m.sdp)}
            if codecs and last and codecs != last:
                params["codecs"] = codecs
            model.act(s, m, "update", self.cid, **params)
        else:
            params = {}
            if codecs and last and codecs != last:
                params["codecs"] = codecs
            if not m.sdp:
                model.note(f"{s.name}'s re-INVITE carries no SDP: the pjsua `reinvite` step "
                           "always sends an offer", m)
            model.act(s, m, "reinvite", self.cid, **params)
        self.tx[m.cseq[0]] = {"initial": False, "sender": s.name, "method": method,
                              "what": what}
        if codecs:
            self.offers[s.name] = codecs

    def refer(self, m: Msg, s: Party) -> None:
        target = m.header("refer-to")
        party = uri_party(self.p, target)
        from sipscen.scaffold.sipmsg import parse_uri
        uri = parse_uri(target)
        replaces = uri.header_param("replaces") if uri is not None else None
        params: dict[str, Any] = {"headers": custom_headers(m)}
        if replaces:
            params["replaces_call_id"] = replaces.split(";", 1)[0]
        if party is not None and not party.is_sut:
            params["to"] = party.name
        elif uri is not None:
            params["uri_user"] = uri.user
            params["via"] = party.name if party is not None else None
            params["uri"] = f"{uri.scheme}:{uri.user + '@' if uri.user else ''}{uri.hostport}"
        self.model.act(s, m, "transfer", self.cid, **params)

    # -- responses ---------------------------------------------------------------------
    def response(self, m: Msg, s: Party, r: Party) -> None:
        info, model = self.info, self.model
        relay = m.forwarded_from is not None
        num, method = m.cseq
        code = m.status or 0
        tx = self.tx.get(num, {}) if method == "INVITE" else {}
        if method == "INVITE" and tx.get("initial"):
            self.invite_answer(m, s, r, relay, tx, code)
        elif method in ("INVITE", "UPDATE") and not tx.get("initial", True) or \
                method == "UPDATE":
            t = self.tx.get(num, {})
            if code // 100 == 2 and not relay:
                self.renegotiated(m, t)
            elif code >= 300 and not relay and not s.is_sut:
                model.note(f"{s.name} refuses a {method} with {code}: a pjsua agent accepts "
                           "every re-offer it can (not reproduced)", m)
        elif method == "REFER" and not relay and not s.is_sut:
            if code != 202:
                model.set(s, "transfer", {"code": code})
        elif method == "BYE" and code // 100 == 2:
            model.see(r, m, "disconnected", self.cid)

    def invite_answer(self, m: Msg, s: Party, r: Party, relay: bool, tx: dict, code: int):
        info, model = self.info, self.model
        callee_side = not relay and not s.is_sut
        if 100 < code < 200:
            if callee_side:
                model.act(s, m, "provisional", self.cid, auto=code == 180 and not m.sdp,
                          code=code, sdp=bool(m.sdp), headers=custom_headers(m))
            if not r.is_sut:
                if m.sdp:       # early media: the call's media is active (a media_active too)
                    model.see(r, m, "media_active", self.cid)
                model.see(r, m, "early_media" if m.sdp else "ringing", self.cid, code=code)
            if info.frames.get("first_18x") is None:
                info.frames["first_18x"] = [m.frame] if m.frame else []
                info.frames["first_18x_time"] = [m.time]  # type: ignore[list-item]
            return
        if code < 200:
            return
        tx.setdefault("final", code)
        tx["media"] = bool(m.sdp)
        if callee_side:
            if code == 487 and self.cancelled:
                pass
            elif 200 <= code < 300:
                model.act(s, m, "answer", self.cid, code=code, headers=custom_headers(m))
            elif code in (401, 407):
                model.note(f"{s.name} challenges the INVITE ({code}): an agent cannot "
                           "(not reproduced)", m)
            else:
                headers = custom_headers(m)
                contact = m.header("contact")
                if 300 <= code < 400 and contact:
                    headers["Contact"] = contact
                model.act(s, m, "reject", self.cid, code=code, headers=headers)
        if r.is_sut:
            return
        # the caller's side
        if info.caller == r.name:
            info.status = code
            info.reason = m.reason
            info.frames["final"] = [m.frame] if m.frame else []
            if 200 <= code < 300:
                info.answered_at = m.time
                if m.sdp:
                    model.see(r, m, "media_active", self.cid)
                model.see(r, m, "answered", self.cid, headers=custom_headers(m))
            elif 300 <= code < 400:
                info.redirect = {"code": code, "contact": m.header("contact"),
                                 "by": info.callee, "frames": [m.frame] if m.frame else []}
                model.see(r, m, "redirected", self.cid, code=code)
                model.see(r, m, "disconnected", self.cid)
            elif code not in (401, 407):
                if info.ended_at is None:
                    info.ended_at = m.time
                model.see(r, m, "disconnected", self.cid, code=code)
        if code >= 300 and info.callee and not s.is_sut and code not in (401, 407):
            callee = self.p.named(info.callee)
            if callee is not None and callee.address == m.src:
                model.see(callee, m, "disconnected", self.cid)

    def renegotiated(self, m: Msg, tx: dict) -> None:
        """A 2xx to a re-INVITE or UPDATE: held, resumed or new media at both ends."""
        sender = self.model.parties.named(tx.get("sender", ""))
        answerer = self.model.parties.of(m.src)
        what = tx.get("what")
        for party in (sender, answerer):
            if party is None or party.is_sut:
                continue
            if what == "hold":
                self.model.see(party, m, "held", self.cid)
            elif what == "refresh":
                continue            # no offer, no new media
            else:
                if what == "unhold":
                    self.model.see(party, m, "resumed", self.cid)
                self.model.see(party, m, "media_active", self.cid)


def _is_dtmf_info(m: Msg) -> bool:
    ctype = m.header("content-type").lower()
    return "dtmf" in ctype


def _registrations(model: Model, msgs: list[Msg]) -> None:
    p = model.parties
    pending: dict[int, Msg] = {}
    challenged = False
    for m in msgs:
        if m.retransmission:
            continue
        s, r = p.of(m.src), p.of(m.dst)
        if s is None or r is None:
            continue
        if m.is_request and m.method == "REGISTER":
            pending[m.cseq[0]] = m
            continue
        if m.is_request:
            continue
        req = pending.pop(m.cseq[0], None)
        if req is None or m.status is None or m.status < 200:
            continue
        if m.status in (401, 407):
            challenged = True
            continue
        expires = _expires(req)
        event = "registration_failed" if m.status >= 300 else \
            "unregistered" if expires == 0 else "registered"
        model.see(r, m, event, None, code=m.status)
        model.registrations.append(Registration(
            party=r.name, registrar=s.name, time=req.time, expires=_expires(req),
            status=m.status, challenged=challenged,
            frames=[x.frame for x in (req, m) if x.frame], unregister=_expires(req) == 0))
        challenged = False
    for req in pending.values():       # no final answer in the capture
        owner = p.of(req.src)
        registrar = p.of(req.dst)
        if owner is None or registrar is None:
            continue
        model.registrations.append(Registration(
            party=owner.name, registrar=registrar.name, time=req.time, expires=_expires(req),
            status=None, challenged=challenged, frames=[req.frame] if req.frame else [],
            unregister=_expires(req) == 0, complete=False))
    model.registrations.sort(key=lambda x: x.time)


def _expires(m: Msg) -> int | None:
    from sipscen.scaffold.sipmsg import header_params
    value = header_params(m.header("contact")).get("expires") or m.header("expires")
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _out_of_dialog(model: Model, msgs: list[Msg]) -> None:
    """MESSAGE, OPTIONS and other requests outside a call."""
    p = model.parties
    for m in msgs:
        if m.retransmission:
            continue
        s, r = p.of(m.src), p.of(m.dst)
        if s is None or r is None:
            continue
        if m.is_request:
            if m.forwarded_from is None and not s.is_sut:
                kind = "message" if m.method == "MESSAGE" else "request"
                model.act(s, m, kind, m.call_id, method=m.method, ruri=m.ruri, dst=m.dst,
                          body=m.body, content_type=m.header("content-type"),
                          headers=custom_headers(m))
            if m.method == "MESSAGE":
                model.see(r, m, "message", m.call_id, body=m.body)
        elif (m.status or 0) >= 200:
            origin = next((x for x in msgs if x.is_request and x.forwarded_from is None
                           and x.cseq == m.cseq), None)
            # only a `request` step reports its answer (a MESSAGE step does not)
            if origin is not None and origin.src == m.dst and origin.method != "MESSAGE":
                model.see(r, m, "request_answered", m.call_id, status=m.status,
                          method=m.method)


def _link_transfers(model: Model) -> None:
    """A transfer's Replaces names a Call-ID: mark that call as the one replaced, and
    the BYE of the replaced dialog (sent by the party that got the INVITE with
    Replaces) as automatic."""
    for a in model.acts:
        if a.kind == "transfer" and a.params.get("replaces_call_id"):
            replaced = model.calls.get(a.params["replaces_call_id"])
            if replaced is not None:
                replaced.auto_from = replaced.auto_from or None
                for b in model.acts:
                    if b.kind == "hangup" and b.call == replaced.call_id and b.time > a.time \
                            and b.party != a.party:
                        b.auto = True
                        b.note = "the dialog was replaced (INVITE with Replaces)"
