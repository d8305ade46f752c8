"""Which agent type reproduces a party: PJSUA by default, baresip for what only it
has (opus, DTLS-SRTP), SIPp with inline messages for what no user agent sends
(malformed or out-of-order messages, odd headers, exact bytes)."""
from __future__ import annotations

import re

from sipscen.scaffold.acts import Model
from sipscen.scaffold.codecs import media_codecs
from sipscen.scaffold.sipmsg import Msg

PJSUA_METHODS = frozenset({"INVITE", "ACK", "BYE", "CANCEL", "REGISTER", "OPTIONS", "MESSAGE",
                           "INFO", "UPDATE", "REFER", "NOTIFY", "PRACK", "SUBSCRIBE",
                           "PUBLISH"})
SINGLE = ("call-id", "cseq", "from", "to", "max-forwards", "content-length")
MANDATORY = ("via", "from", "to", "call-id", "cseq")
BARESIP_CANNOT = {"hold", "unhold", "reinvite", "update", "info", "transfer", "message", "request",
                  "cancel", "reject", "register", "unregister"}


def oddities(m: Msg) -> list[str]:
    """What in a request no user agent's stack would send (empty: nothing)."""
    out = []
    if not m.first_line.endswith(" SIP/2.0"):
        out.append(f"start line '{m.first_line[:60]}'")
    for name in MANDATORY:
        if not m.has(name):
            out.append(f"no {name.title()} header")
    for name in SINGLE:
        if len(m.headers.get(name, [])) > 1:
            out.append(f"{len(m.headers[name])} {name.title()} headers")
    num, method = m.cseq
    if m.has("cseq") and (num < 0 or method != m.method):
        out.append(f"CSeq '{m.header('cseq')}'")
    if m.has("max-forwards") and not m.header("max-forwards").strip().isdigit():
        out.append(f"Max-Forwards '{m.header('max-forwards')}'")
    elif m.has("max-forwards") and m.header("max-forwards").strip() == "0":
        out.append("Max-Forwards 0")
    if m.has("expires") and not m.header("expires").strip().isdigit():
        out.append(f"Expires '{m.header('expires')}'")
    if m.has("content-length"):
        length = m.header("content-length").strip()
        sep = "\r\n\r\n" if "\r\n\r\n" in m.raw else "\n\n"
        body = m.raw.partition(sep)[2].encode("utf-8")
        if not length.isdigit() or int(length) != len(body):
            out.append(f"Content-Length {length} for a {len(body)}-byte body")
    if re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", m.raw):
        out.append("control bytes")
    ruri = m.ruri
    if ruri is None and m.first_line.count(" ") >= 2:
        out.append(f"Request-URI '{m.first_line.split(' ')[1][:40]}'")
    if m.method not in PJSUA_METHODS:
        out.append(f"method {m.method}")
    if m.has("proxy-require"):
        out.append(f"Proxy-Require '{m.header('proxy-require')}'")
    return out


def choose_types(model: Model, msgs: list[Msg]) -> None:
    """Set each agent party's ``kind`` (and the reasons in ``why``)."""
    parties = model.parties
    sent: dict[str, list[Msg]] = {}
    for m in msgs:
        p = parties.of(m.src)
        if p is not None and not p.is_sut and not m.retransmission:
            sent.setdefault(p.name, []).append(m)
    for party in parties.agents:
        mine = sent.get(party.name, [])
        odd = []
        for m in mine:
            if m.is_request:
                found = oddities(m)
                if found:
                    odd.append((m, found))
        for m in mine:
            if m.status == 0:
                model.note(f"{party.name} answers with the start line '{m.first_line[:60]}': "
                           "no agent sends a malformed response (not reproduced)", m)
        disorder = _out_of_order(mine)
        acts = [a for a in model.acts if a.party == party.name]
        if odd or disorder:
            party.kind = "sipp"
            if odd:
                m, found = odd[0]
                party.why.append(f"it sends what no user agent would ({'; '.join(found)}, "
                                 f"frame {m.frame}): SIPp sends its messages byte for byte")
            if disorder:
                party.why.append(disorder)
            continue
        regs = [r for r in model.registrations if r.party == party.name]
        received = [m for m in msgs if m.dst == party.address and m.is_request]
        only_register = bool(mine) and not received and all(
            m.is_request and (m.method == "REGISTER" or m.method == "OPTIONS" and
                              "sipscen-probe" in m.raw) for m in mine)
        if only_register and not any(r.unregister for r in regs) and \
                not any(a.kind not in ("register",) for a in acts):
            party.kind = "sipp"
            party.why.append("it only registers and never unregisters: a PJSUA agent would "
                             "unregister when it stops, SIPp sends these REGISTERs exactly")
            continue
        needs = _baresip_needs(model, party.name)
        if needs:
            cannot = sorted({a.kind for a in acts if a.kind in BARESIP_CANNOT and not a.auto})
            if cannot:
                model.note(f"{party.name} needs {needs} (only baresip agents have it) but also "
                           f"does {', '.join(cannot)}, which baresip cannot: it stays a PJSUA "
                           "agent and the codec or keying is not reproduced")
            else:
                party.kind = "baresip"
                party.why.append(f"{needs}: the pjsua2 wheel has none, baresip has")


def _baresip_needs(model: Model, name: str) -> str:
    for info in model.calls.values():
        if name not in (info.caller, info.callee):
            continue
        for m in info.messages:
            media = m.audio
            if not media:
                continue
            names, _ = media_codecs(media)
            if m.forwarded_from is None and names and names[0] == "opus" and \
                    not any(n in ("PCMU", "PCMA", "G722", "speex", "GSM", "iLBC", "L16")
                            for n in names):
                return "the opus codec"
            proto = str(media.get("proto") or "")
            if "TLS" in proto or any("fingerprint" in str(a) for a in media.get("attributes", [])):
                return "DTLS-SRTP keying"
    return ""


def _out_of_order(msgs: list[Msg]) -> str:
    last: dict[str, int] = {}
    for m in msgs:
        if not m.is_request or m.method in ("ACK", "CANCEL"):
            continue
        num = m.cseq[0]
        if num >= 0 and m.call_id in last and num < last[m.call_id]:
            return (f"its CSeq goes back from {last[m.call_id]} to {num} (frame {m.frame}): "
                    "out of order, as only SIPp sends it")
        last[m.call_id] = max(num, last.get(m.call_id, -1))
    return ""
