"""Reading one INVITE dialog: its acts (call, answer, hold, re-INVITE, UPDATE, INFO,
REFER, BYE, CANCEL) and what each party saw (incoming, answered, held, ...), message
by message; a proxy's relayed copies are observations only."""
from __future__ import annotations

from typing import Any

from sipscen.scaffold.acts import CallInfo, Model, custom_headers
from sipscen.scaffold.codecs import offered_codecs
from sipscen.scaffold.parties import Party, uri_party
from sipscen.scaffold.sipmsg import Msg, parse_uri


class DialogReader:
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
            if not relay and not s.is_sut and not is_dtmf_info(m):
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
        model = self.model
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


def is_dtmf_info(m: Msg) -> bool:
    return "dtmf" in m.header("content-type").lower()
