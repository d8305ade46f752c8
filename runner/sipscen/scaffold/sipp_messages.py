"""A SIPp agent's inline messages from the requests a party sent, byte for byte.

Only what the test run must change is replaced by SIPp keywords: the party's
own address (``[local_ip]:[local_port]``), the target's (``[remote_ip]:
[remote_port]``), the Via branch, the Call-ID, credentials (``[authentication
...]``, which SIPp computes from the challenge) and a Content-Length that was
right (``[len]``). A wrong Content-Length, odd headers and control bytes stay
as captured (``\\xNN``). Each message expects the final answer the capture shows.
"""
from __future__ import annotations

import re
from typing import Any

from sipscen.scaffold.acts import Model
from sipscen.scaffold.parties import Party
from sipscen.scaffold.sipmsg import Msg

MAX_MESSAGES = 20       # SIPp's XML parser reads 64 KiB: about 20 messages per agent


def _escape(text: str) -> str:
    """Backslashes doubled, control bytes (also TAB and a bare CR) as ``\\xNN``, and
    characters beyond ASCII as the ``\\xNN`` of their UTF-8 bytes."""
    out = text.replace("\\", "\\\\")
    out = re.sub(r"[\x00-\x09\x0b-\x1f\x7f]", lambda m: f"\\x{ord(m.group()):02x}", out)
    return re.sub(r"[^\x00-\x7f]", lambda m: "".join(
        f"\\x{b:02x}" for b in m.group().encode("utf-8")), out)


def inline_messages(model: Model, party: Party, msgs: list[Msg], password_var: str
                    ) -> tuple[dict[str, Any], list[str]]:
    """(the agent's keys: target, messages[, probe], the comment of each message)."""
    parties = model.parties
    sent = [m for m in msgs if m.src == party.address and m.is_request and not m.retransmission]
    probe = [m for m in sent if m.method == "OPTIONS" and "sipscen-probe" in m.raw]
    sent = [m for m in sent if m not in probe]
    keys: dict[str, Any] = {"type": "sipp"}
    if not sent:
        return keys, []
    if sent[0].transport == "tcp":
        keys["transport"] = "tcp"
    target = parties.of(sent[0].dst)
    if target is not None:
        keys["target"] = target.name
    if any(parties.of(m.dst) is not target for m in sent):
        model.note(f"{party.name} sends to more than one party: its SIPp agent sends every "
                   f"message to {target.name if target else '?'}")
    if len(sent) > MAX_MESSAGES:
        model.note(f"{party.name} sent {len(sent)} requests: its SIPp agent sends the first "
                   f"{MAX_MESSAGES} (SIPp reads about 20 inline messages)")
        sent = sent[:MAX_MESSAGES]
    call_ids: list[str] = []
    messages = []
    comments = []
    for m in sent:
        if m.call_id not in call_ids:
            call_ids.append(m.call_id)
        if "\ufffd" in m.raw:
            model.note(f"{party.name}'s {m.method} (frame {m.frame}) holds bytes that are not "
                       "text: they were lost in the analysis, its SIPp copy is not byte-exact")
        answer = _answer(msgs, m)
        refused = answer is not None and answer.status in (401, 403, 407)
        text = _template(m, party, target, call_ids,
                         "wrong_password" if refused else password_var)
        item: dict[str, Any] = {"send": text}
        if answer is None:
            item["expect"] = "nothing"
        else:
            item["expect"] = answer.status
        messages.append(item)
        comments.append(f"{m.method}, frame {m.frame}" + (
            f" -> {answer.status}, frame {answer.frame}" if answer is not None else
            ", no answer in the capture"))
    keys["messages"] = messages
    if not probe:
        keys["probe"] = False
    return keys, comments


def _answer(msgs: list[Msg], req: Msg) -> Msg | None:
    for m in msgs:
        if m.time < req.time or m.is_request or m.dst != req.src or m.call_id != req.call_id:
            continue
        if m.cseq == req.cseq and m.status and m.status >= 200:
            return m
    return None


def _template(m: Msg, party: Party, target: Party | None, call_ids: list[str],
              password_var: str) -> str:
    head, sep, body = m.raw.replace("\r\n", "\n").partition("\n\n")
    lines = head.split("\n")
    own = party.address
    far = target.address if target is not None else m.dst
    out = []
    body_len = len(body.encode("utf-8"))
    for i, line in enumerate(lines):
        name, colon, value = line.partition(":")
        lname = name.strip().lower()
        if i > 0 and colon and lname in ("authorization", "proxy-authorization"):
            user = re.search(r'username="([^"]*)"', value)
            out.append(f"[authentication username={user.group(1) if user else party.user} "
                       f"password=${{{password_var}}}]")
            continue
        if i > 0 and colon and lname in ("content-length", "l") and \
                value.strip() == str(body_len):
            out.append(f"{name}: [len]")
            continue
        if i > 0 and colon and lname in ("call-id", "i"):
            n = call_ids.index(m.call_id)
            out.append(f"{name}: [call_id]" + (f"-{n + 1}" if n else ""))
            continue
        if i > 0 and colon and lname in ("via", "v"):
            line = re.sub(r"branch=[^;,\s]+", "branch=[branch]", line, count=1)
        line = line.replace(own, "[local_ip]:[local_port]")
        line = line.replace(far, "[remote_ip]:[remote_port]")
        out.append(line)
    text = "\n".join(_escape(x) for x in out)
    if sep:
        text += "\n\n" + _escape(body) if body else "\n"
    return text + ("\n" if not text.endswith("\n") else "")

