"""The capture read as acts and observations: INVITE dialogs (invite_dialog.py),
registrations, requests outside a call, and the links a transfer makes."""
from __future__ import annotations

from sipscen.scaffold.acts import Model, Registration, custom_headers
from sipscen.scaffold.invite_dialog import DialogReader
from sipscen.scaffold.parties import Parties
from sipscen.scaffold.sipmsg import Msg, header_params


def read_acts(flow, parties: Parties) -> Model:
    model = Model(parties)
    for cid, msgs in flow.dialogs.items():
        methods = {m.method for m in msgs if m.is_request}
        if "INVITE" in methods:
            DialogReader(model, cid, msgs).run()
        elif "REGISTER" in methods:
            _registrations(model, msgs)
        else:
            _out_of_dialog(model, msgs)
    _link_transfers(model)
    model.acts.sort(key=lambda a: a.time)
    model.obs.sort(key=lambda o: o.time)
    return model


def _between_parties(parties: Parties, msgs: list[Msg]):
    """Each first transmission between two known parties, with its sender and receiver."""
    for m in msgs:
        if m.retransmission:
            continue
        s, r = parties.of(m.src), parties.of(m.dst)
        if s is not None and r is not None:
            yield m, s, r


def _registrations(model: Model, msgs: list[Msg]) -> None:
    p = model.parties
    pending: dict[int, Msg] = {}
    challenged = False
    for m, s, r in _between_parties(p, msgs):
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
    value = header_params(m.header("contact")).get("expires") or m.header("expires")
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _out_of_dialog(model: Model, msgs: list[Msg]) -> None:
    """MESSAGE, OPTIONS and other requests outside a call."""
    for m, s, r in _between_parties(model.parties, msgs):
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
