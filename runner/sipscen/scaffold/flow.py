"""Reading the flow from the analysis: which dialogs, their messages, media and digits.

Only the analyser's public API is used: ``analyze_capture`` and the
``Analysis`` it returns (``iter_calls``, ``iter_streams``, ``dtmf``,
``warnings``, ``packets``). A first pass summarises every dialog (for
``--list``, the choice of calls and finding the proxy); the dialogs chosen are
then read in full, with frame numbers and, when the capture is large, from an
extract of their own frames (so in-band DTMF detection decodes only their audio).
"""
from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sipscen.core.errors import UsageError
from sipscen.scaffold import frames
from sipscen.scaffold.sipmsg import Msg, build_msg, parse_uri

SMALL_CAPTURE = 16 << 20       # bytes: analysed whole with in-band DTMF detection
DEFAULT_MAX_CALLS = 20          # calls scaffolded from a capture when no --call is given
_CSEQ = re.compile(r"^(?:CSeq)[ \t]*:[ \t]*(\d+)[ \t]+([A-Za-z]+)", re.I | re.M)
_FROM_USER = re.compile(r"sips?:([^@;>]+)@")
_TRANSFERRED = re.compile(r"^(?:Referred-By|b|Replaces)[ \t]*:", re.I | re.M)
_REPLACES = re.compile(r"Replaces=([^;%>&\s]+)", re.I)


@dataclass
class DialogSummary:
    """What ``--list`` shows and what the choice of calls needs, for one Call-ID."""

    call_id: str
    kind: str               # call | registration | message | options | other | probe
    from_: str
    to: str
    start: float
    end: float
    status: int | None
    answered: bool
    messages: int
    methods: list[str]
    endpoints: list[str]    # first sender first
    transferred: bool = False               # its INVITE has Referred-By or Replaces
    mentions: list[str] = field(default_factory=list)  # Call-IDs its REFERs replace


@dataclass
class Flow:
    path: str
    packets: int
    frames: int
    warnings: list[str]
    summaries: list[DialogSummary]
    dialogs: dict[str, list[Msg]]           # the chosen dialogs, messages in time order
    msgs: list[Msg]                          # all their messages, in time order
    streams: list[dict]
    dtmf: list[dict]
    forwarders: set[str] = field(default_factory=set)   # endpoints that relay requests
    registrars: set[str] = field(default_factory=set)
    challengers: set[str] = field(default_factory=set)
    probed: set[str] = field(default_factory=set)       # endpoints sipscen probed (services)
    probers: set[str] = field(default_factory=set)
    fronts: set[str] = field(default_factory=set)       # relayed answers seen from one side
    dropped: list[str] = field(default_factory=list)    # Call-IDs not scaffolded
    inband: bool = True


def _kind(methods: list[str], call_id: str, from_: str) -> str:
    if call_id.endswith("@sipscen") and "sip:sipscen@" in from_:
        return "probe"
    for method, kind in (("INVITE", "call"), ("REGISTER", "registration"),
                         ("MESSAGE", "message"), ("OPTIONS", "options")):
        if method in methods:
            return kind
    return "other"


def summarise(calls, roles: dict[str, set[str]]) -> list[DialogSummary]:
    """One summary per dialog; fills ``roles`` (forwarders, registrars, challengers,
    probed, probers) from every message's path and CSeq, without parsing headers."""
    out = []
    for c in calls:
        msgs = c.get("messages") or []
        methods: list[str] = []
        ends: list[str] = []
        arrived: dict[tuple, str] = {}
        for m in msgs:
            method = str(m.get("method") or "")
            src, dst = m.get("src", ""), m.get("dst", "")
            if m.get("status") is None and method not in methods:
                methods.append(method)
            for e in (src, dst):
                if e and e not in ends:
                    ends.append(e)
            found = _CSEQ.search(m.get("raw") or "")
            if found is not None:
                # one message of a transaction that arrived at an endpoint from one
                # party and leaves it for another: that endpoint relays
                key = (int(found.group(1)), found.group(2).upper(), m.get("status"))
                came_from = arrived.get((key, src))
                if came_from is not None and came_from != dst:
                    roles["forwarders"].add(src)
                arrived.setdefault((key, dst), src)
            if m.get("status") is None and method == "REGISTER":
                roles["registrars"].add(m.get("dst", ""))
            if m.get("status") in (401, 407):
                roles["challengers"].add(m.get("src", ""))
            if _relayed_answer(m):
                roles["fronts"].add(src)
        first = next((m for m in msgs if m.get("status") is None), None)
        transferred = first is not None and first.get("method") == "INVITE" and bool(
            _TRANSFERRED.search((first.get("raw") or "").split("\r\n\r\n", 1)[0]))
        mentions = [x for m in msgs if m.get("method") == "REFER" and m.get("status") is None
                    for x in _REPLACES.findall(m.get("raw") or "")]
        kind = _kind(methods, str(c.get("call_id")), str(c.get("from") or ""))
        if kind == "probe" and msgs:
            roles["probers"].add(msgs[0].get("src", ""))
            roles["probed"].add(msgs[0].get("dst", ""))
        out.append(DialogSummary(
            call_id=str(c.get("call_id")), kind=kind, from_=str(c.get("from") or ""),
            to=str(c.get("to") or ""), start=float(c.get("start") or 0),
            end=float(c.get("end") or 0), status=c.get("status"),
            answered=bool(c.get("answered")), messages=len(msgs), methods=methods,
            endpoints=ends, transferred=transferred, mentions=mentions))
    # a registrar answers REGISTER; a UA never receives one: only those that answered
    roles["registrars"] &= roles["challengers"] | _responders(calls, "REGISTER")
    return out


_CONTACT = re.compile(r"^(?:Contact|m)[ \t]*:[^\r\n]*?sips?:(?:[^@>;\r\n]*@)?([^;>\s]+)",
                      re.I | re.M)
_RECORD_ROUTE = re.compile(r"^Record-Route[ \t]*:", re.I | re.M)


def _relayed_answer(m: dict) -> bool:
    """An 18x/2xx to an INVITE whose Contact is not its sender and that carries a
    Record-Route: a proxy relayed it (seen from its caller's side only)."""
    status = m.get("status")
    if status is None or not 180 <= status < 300 or m.get("method") != "INVITE":
        return False
    head = (m.get("raw") or "").split("\r\n\r\n", 1)[0]
    contact = _CONTACT.search(head)
    return bool(contact and _RECORD_ROUTE.search(head)) and \
        contact.group(1).strip("[]") != str(m.get("src") or "").replace("[", "").replace("]", "")


def _responders(calls, method: str) -> set[str]:
    return {m.get("src", "") for c in calls for m in c.get("messages") or []
            if m.get("status") is not None and str(m.get("method")) == method}


def choose(summaries: list[DialogSummary], wanted: list[str], max_calls: int,
           warnings: list[str]) -> list[str]:
    """The Call-IDs to scaffold: those asked for (exactly, or a unique prefix), else every
    dialog (but for sipscen's own probes) up to ``max_calls`` calls, with related ones."""
    real = [s for s in summaries if s.kind != "probe"]
    by_id = {s.call_id: s for s in real}
    if wanted:
        chosen = []
        for text in wanted:
            if text in by_id:
                chosen.append(text)
                continue
            hits = [cid for cid in by_id if cid.startswith(text)]
            if len(hits) != 1:
                what = "no dialog" if not hits else f"{len(hits)} dialogs"
                raise UsageError(f"--call {text}: {what} with that Call-ID in the capture "
                                 "(`sipscen scaffold --list CAPTURE` shows them)")
            chosen.append(hits[0])
    else:
        calls = [s for s in real if s.kind == "call"]
        if len(calls) <= max_calls:
            return [s.call_id for s in real]
        chosen = [s.call_id for s in calls[:max_calls]]
        warnings.append(f"the capture holds {len(calls)} calls: the scaffold covers the first "
                        f"{max_calls} (pick others with --call CALL-ID; --list shows them)")
    return _with_related(chosen, real)


def _with_related(chosen: list[str], real: list[DialogSummary]) -> list[str]:
    """Add the registrations of the chosen calls' endpoints (before or during them), the
    calls a transfer placed (an INVITE with Referred-By or Replaces from one of their
    endpoints while they ran) and the calls their REFERs replace."""
    picked = {s.call_id: s for s in real if s.call_id in chosen}
    if not picked:
        return chosen
    out = list(chosen)
    for _ in range(3):                      # a transfer of a transfer: bounded
        ends = {e for s in picked.values() for e in s.endpoints}
        start = min(s.start for s in picked.values())
        end = max(s.end for s in picked.values())
        mentioned = {x for s in picked.values() for x in s.mentions}
        added = False
        for s in real:
            if s.call_id in picked:
                continue
            shares = bool(s.endpoints) and s.endpoints[0] in ends
            if (s.kind == "registration" and shares and s.start <= end) or \
                    (s.transferred and shares and start <= s.start <= end + 1) or \
                    any(s.call_id.startswith(x) for x in mentioned):
                picked[s.call_id] = s
                out.append(s.call_id)
                added = True
        if not added:
            break
    return sorted(out, key=lambda cid: picked[cid].start)


def read_flow(path: str | os.PathLike, calls: list[str] | None = None,
              max_calls: int = DEFAULT_MAX_CALLS, srtp_keys: list[str] | None = None,
              work_dir: str | None = None) -> Flow:
    from sipscen.analysis import analyze_capture  # lazy: the analyser: loaded on first use

    path = str(path)
    small = os.path.getsize(path) <= SMALL_CAPTURE
    # a malformed --srtp-key is a usage error (the analysis says which and why)
    first = analyze_capture(path, srtp_keys or (), inband=small)
    warnings = list(first.warnings)
    roles: dict[str, set[str]] = {k: set() for k in
                                  ("forwarders", "registrars", "challengers", "probed",
                                   "probers", "fronts")}
    # a small capture's calls stay in memory; a large one's are summarised one at a time
    kept = {str(c.get("call_id")): c for c in first.iter_calls()} if small else {}
    summaries = summarise(kept.values() if small else first.iter_calls(), roles)
    chosen = choose(summaries, list(calls or []), max_calls, warnings)
    chosen_set = set(chosen)
    analysis = first
    if small:
        selected = [kept[cid] for cid in chosen if cid in kept]
    else:
        selected = [c for c in first.iter_calls() if str(c.get("call_id")) in chosen_set]
    wanted = _wanted(selected)
    if small:       # DTMF events get frame numbers too (a large capture's come from its extract)
        for d in first.dtmf:
            if d.get("call_id") in chosen_set or d.get("call_id") is None:
                wanted.times.setdefault(frames.time_key(float(d["time"])), [])
    extract = None
    if not small and selected:
        tmp = tempfile.mkdtemp(prefix="sipscen-scaffold-", dir=work_dir)
        extract = Path(tmp) / "extract.pcap"
    try:
        scan = frames.scan(path, wanted, extract)
        if extract is not None and scan.extract is not None:
            analysis = analyze_capture(scan.extract, srtp_keys or (), inband=True)
            selected = [c for c in analysis.iter_calls()
                        if str(c.get("call_id")) in chosen_set]
        dialogs, msgs = _messages(selected)
        streams = [s for s in analysis.iter_streams()
                   if s.get("call_id") in chosen_set or (s.get("call_id") is None and small)]
        dtmf = [dict(d) for d in analysis.dtmf
                if d.get("call_id") in chosen_set or (d.get("call_id") is None and small)]
    finally:
        if extract is not None:
            _cleanup(extract)
    frames.assign(msgs, scan)
    for d in dtmf:
        found = scan.frames.get(frames.time_key(float(d["time"]))) if small else None
        if found:
            d["frame"] = found[0][0]
    flow = Flow(path=path, packets=first.packets, frames=scan.total, warnings=warnings,
                summaries=summaries, dialogs=dialogs, msgs=msgs, streams=streams, dtmf=dtmf,
                inband=True)
    for key, value in roles.items():
        setattr(flow, key, value)
    flow.dropped = [s.call_id for s in summaries
                    if s.call_id not in chosen_set and s.kind != "probe"]
    return flow


def _wanted(selected: list[dict]) -> frames.Wanted:
    w = frames.Wanted()
    lo, hi = float("inf"), float("-inf")
    for c in selected:
        for m in c.get("messages") or []:
            first = (m.get("raw") or "").split("\r\n", 1)[0].encode("latin-1", "replace")
            w.times.setdefault(frames.time_key(float(m["time"])), []).append(first)
            lo, hi = min(lo, m["time"]), max(hi, m["time"])
            if m.get("transport") == "tcp":
                for e in (m.get("src"), m.get("dst")):
                    host, _, port = (e or "").rpartition(":")
                    raw = frames.address_bytes(host)
                    if raw is not None and port.isdigit():
                        w.sip_ends.add((raw, int(port)))
        for entry in c.get("sdp") or []:
            for media in entry.get("media") or []:
                raw = frames.address_bytes(str(media.get("address") or ""))
                if raw is not None and media.get("port"):
                    w.media.add((raw, int(media["port"])))
    if lo <= hi:
        w.window = (lo - 1.0, hi + 5.0)
    return w


def _messages(selected: list[dict]) -> tuple[dict[str, list[Msg]], list[Msg]]:
    raw_msgs = []
    for c in selected:
        cid = str(c.get("call_id"))
        sdp = {}
        for entry in c.get("sdp") or []:
            sdp[(frames.time_key(float(entry["time"])), entry.get("from"),
                 entry.get("message"))] = entry.get("media") or []
        for m in c.get("messages") or []:
            raw_msgs.append((float(m["time"]), cid, m, sdp))
    raw_msgs.sort(key=lambda x: x[0])
    dialogs: dict[str, list[Msg]] = {}
    seen: set[tuple] = set()
    msgs = []
    for index, (_, cid, m, sdp) in enumerate(raw_msgs):
        msg = build_msg(index, cid, m)
        msg.sdp = sdp.get((frames.time_key(msg.time), msg.src, m.get("summary")))
        key = (cid, msg.src, msg.dst, msg.raw)
        msg.retransmission = key in seen
        seen.add(key)
        dialogs.setdefault(cid, []).append(msg)
        msgs.append(msg)
    for dialog in dialogs.values():
        _mark_forwarded(dialog)
    return dialogs, msgs


def _mark_forwarded(dialog: list[Msg]) -> None:
    """A message that left an endpoint after the same one (label and CSeq) arrived there
    from another party is that endpoint's relayed copy."""
    arrived: dict[tuple, Msg] = {}
    for m in dialog:
        if m.retransmission:
            continue
        key = (m.label, m.cseq)
        prior = arrived.get((key, m.src))
        if prior is not None and prior.src != m.dst:
            m.forwarded_from = prior.forwarded_from or prior
        arrived.setdefault((key, m.dst), m)


def _cleanup(extract: Path) -> None:
    try:
        extract.unlink()
        extract.parent.rmdir()
    except OSError:
        pass


def user_of(from_header: str) -> str:
    uri = parse_uri(from_header)
    if uri is not None and uri.user:
        return uri.user
    found = _FROM_USER.search(from_header)
    return found.group(1) if found else ""
