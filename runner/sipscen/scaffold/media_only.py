"""A capture with RTP and no SIP (a media trace, a vendor's DTMF sample): the scaffold
reproduces the media -- codec, SRTP, DTMF digits and method, each direction --
between two agents whose call setup it has to assume, and says so."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from sipscen.scaffold.frames import frames_text
from sipscen.scaffold.codecs import PJSUA, stream_codec
from sipscen.scaffold.digits import dedupe_inband
from sipscen.scaffold.document import Scaffold
from sipscen.scaffold.emit import Node, emit_mapping, header_comment
from sipscen.scaffold.steps import duration, timeout_for
from sipscen.scaffold.anonymise import Anonymiser

MAX_PAIRS = 20


def _pairs(streams: list[dict]) -> list[list[dict]]:
    groups: dict[frozenset, list[dict]] = {}
    for s in sorted(streams, key=lambda s: s.get("first_time") or 0):
        key = frozenset((str(s.get("src")), str(s.get("dst"))))
        groups.setdefault(key, []).append(s)
    return list(groups.values())


def media_only(flow, options):
    notes = ["the capture holds no SIP: each call's setup (INVITE, 200, ACK, BYE between two "
             "agents calling each other directly) is assumed, not reproduced"]
    pairs = _pairs(flow.streams)
    if len(pairs) > MAX_PAIRS:
        notes.append(f"{len(pairs)} RTP address pairs: the scaffold covers the first "
                     f"{MAX_PAIRS}")
        pairs = pairs[:MAX_PAIRS]
    agents: dict[str, Any] = {}
    expect: list[Any] = []
    kinds: dict[str, str] = {}
    for n, group in enumerate(pairs, start=1):
        suffix = "" if len(pairs) == 1 else str(n)
        caller, callee = f"caller{suffix}", f"callee{suffix}"
        dtmf_srcs = {str(d.get("src")) for d in flow.dtmf}
        first = next((s for s in group if str(s.get("src")) in dtmf_srcs), group[0])
        a_addr, b_addr = str(first.get("src")), str(first.get("dst"))
        owner = {a_addr: caller, b_addr: callee}
        codec = next((c for c in (stream_codec(s) for s in group) if c), None)
        keys: dict[str, Any] = {"type": "pjsua"}
        if codec is None:
            pts = sorted({pt for s in group for pt in s.get("payload_types") or []})
            events = set(first.get("event_payload_types") or [])
            audio = [pt for pt in pts if pt not in events]
            notes.append(f"{a_addr} -> {b_addr}: payload type(s) {audio or pts} and no SDP "
                         "to name the codec: the agents use their default codecs and no codec "
                         "is checked")
        elif codec not in PJSUA:
            notes.append(f"{a_addr} -> {b_addr}: {codec} is no pjsua codec: not reproduced")
            codec = None
        else:
            keys["codecs"] = [codec]
        secure = [s for s in group if s.get("srtp")]
        if secure:
            keys["srtp"] = {"use": "mandatory"}
        digits = [d for d in flow.dtmf if {str(d.get("src")), str(d.get("dst"))} <= {a_addr, b_addr}
                  or str(d.get("dst")) in owner]
        start = min(s.get("first_time") or 0 for s in group)
        end = max(s.get("last_time") or 0 for s in group)
        steps: list[Any] = [{"call": {"to": callee}},
                            {"wait": {"event": "answered", "timeout": "5s"}}]
        comments = ["assumed: the capture has no SIP", ""]
        t = start
        sent_by: dict[tuple[str, str], list[dict]] = {}
        for d in dedupe_inband(digits):
            sender = owner.get(str(d.get("src"))) or (caller if owner.get(str(d.get("dst")))
                                                       == callee else callee)
            sent_by.setdefault((sender, d["method"]), []).append(d)
        for (sender, _method), events in sent_by.items():
            if sender != caller:
                notes.append(f"{callee} also sent DTMF in the capture "
                             f"({''.join(e['digit'] for e in events)}): not reproduced")
                continue
            if events[0]["time"] - t >= 0.02:
                steps.append({"sleep": duration(events[0]["time"] - t)})
                comments.append("")
            durations = sorted(int(e.get("duration_ms") or 160) for e in events)
            gaps = sorted(int((b["time"] - a["time"]) * 1000 - (a.get("duration_ms") or 160))
                          for a, b in zip(events, events[1:]))
            params: dict[str, Any] = {"digits": "".join(e["digit"] for e in events),
                                      "method": events[0]["method"]}
            params["duration"] = f"{max(40, durations[len(durations) // 2])}ms"
            if gaps:
                params["gap"] = f"{max(40, gaps[len(gaps) // 2])}ms"
            steps.append({"dtmf": params})
            frames = [e["frame"] for e in events if e.get("frame")]
            comments.append(f"{params['method']} digits" + (
                f", {frames_text(frames)}" if frames else ""))
            t = events[-1]["time"] + (events[-1].get("duration_ms") or 160) / 1000
            expect.append(Node({"dtmf": {"from": caller, "to": callee,
                                         "digits": params["digits"],
                                         "method": params["method"]}},
                               f"{len(events)} digit(s) in the capture"))
            if any(e.get("end") is False for e in events):
                notes.append(f"some digits {caller} -> {callee} have no end packet in the "
                             "capture; the agent sends complete events")
        if end - t >= 0.02:
            steps.append({"sleep": duration(end - t)})
            comments.append("as long as the captured media")
        steps += [{"hangup": {}}, {"wait": {"event": "disconnected", "timeout": "5s"}}]
        comments += ["assumed", ""]
        agents[caller] = Node({**keys, "steps": Node(steps, item_comments=comments)},
                              f"sends from {a_addr} in the capture", block=True)
        agents[callee] = Node({**keys, "steps": Node([{"wait": {
            "event": "disconnected", "timeout": timeout_for(end - start)}}], block=True)},
                              f"receives at {b_addr} in the capture", block=True)
        kinds.update({caller: "pjsua", callee: "pjsua"})
        expect.insert(0, Node({"call": {"from": caller, "to": callee, "answered": True}},
                              "assumed"))
        if codec:
            expect.append(Node({"codec": {"between": [caller, callee], "codec": codec}},
                               f"payload type {first.get('payload_types')}"))
        if secure:
            suites = sorted({str(s["srtp"].get("suite")) for s in secure})
            expect.append(Node({"srtp": {"between": [caller, callee]}},
                               f"SRTP ({', '.join(suites)}) authenticated with the key given"))
            notes.append(f"the captured SRTP suite is {', '.join(suites)}: two pjsua agents "
                         "negotiate AES_256_CM_HMAC_SHA1_80, so the suite is not checked")
        for src, dst in ((a_addr, b_addr), (b_addr, a_addr)):
            mine = [s for s in group if str(s.get("src")) == src]
            if not mine:
                notes.append(f"no RTP {src} -> {dst} in the capture (one direction only): "
                             "agents always send, not checked")
                continue
            packets = max(int(s.get("packets") or 0) for s in mine)
            expect.append(Node({"rtp": {"from": owner[src], "to": owner[dst],
                                        "min_packets": max(1, packets // 2)}},
                               f"{packets} packets {src} -> {dst}; half of them"))
    span = max((s.get("last_time") or 0) for s in flow.streams) - \
        min((s.get("first_time") or 0) for s in flow.streams)
    doc: dict[str, Any] = {
        "name": "scaffold" if options.anonymise and options.output is None else
        f"scaffold-{(options.output or Path(flow.path)).stem}",
        "description": "Reproduces the media of a capture without SIP (sipscen scaffold)",
        "tags": ["scaffold"], "timeout": f"{int(max(30, span * 1.5 + 20))}s",
        "agents": Node(agents, block=True),
        "expect": expect}
    notes += [f"the capture: {w}" for w in flow.warnings]
    name = "a capture" if options.anonymise else flow.path
    header = [f"Scaffolded by `sipscen scaffold` from {name}: {flow.packets} packets, "
              f"{len(flow.streams)} RTP stream(s), no SIP.", "", "Not reproduced or assumed:"]
    header += [f"- {n}" for n in notes]
    if options.anonymise:
        anon = Anonymiser(flow, None)
        doc = anon.walk(doc)
        header = [anon.scrub(x) for x in header]
        notes = [anon.scrub(x) for x in notes]
    text = "\n".join(header_comment(header) + [""] + emit_mapping(doc)) + "\n"
    return Scaffold(text, notes, kinds, len(pairs))
