"""Does a scaffold reproduce its capture? Compare two captures call by call.

The summary of a capture holds, for every dialog but sipscen's own readiness
probes (in the order the dialogs start): its kind and its SIP ladder hop by hop
(methods and statuses in order, per sender and receiver, retransmissions once,
the unregistration an agent sends when it stops -- cut by the capture's end at
a different point in every run -- left out); for each call its negotiated
codec and SRTP suites; and the DTMF digits by method. Parties are named the way
the scaffold names them (by their SIP users), so the two runs' addresses do not
matter.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from pathlib import Path

from sipscen.scenario.loader import load_yaml_file
from sipscen.scaffold.sipmsg import parse_uri
from sipscen.scaffold.parties import find_parties
from sipscen.scaffold.flow import read_flow
from sipscen.scaffold.expectations import _teardown
from sipscen.scaffold.digits import read_digits
from sipscen.scaffold.codecs import media_codecs
from sipscen.scaffold.reading import read_acts


@dataclass
class Summary:
    dialogs: list[dict[str, Any]] = field(default_factory=list)
    dtmf: dict[str, str] = field(default_factory=dict)      # method -> digits
    warnings: list[str] = field(default_factory=list)


def summarise_capture(path, own: set[str] | None = None) -> Summary:
    """``own``: the run's SIP addresses ("ip:port"); dialogs touching none of them are
    another run's traffic the port filter let in (parallel runs reuse port numbers)."""

    flow = read_flow(path, max_calls=10_000)
    parties = find_parties(flow)
    model = read_acts(flow, parties)
    read_digits(model, flow.dtmf)
    skip = _teardown(flow.msgs)
    out = Summary(warnings=list(flow.warnings))
    kept: set[str] = set()
    for cid, msgs in flow.dialogs.items():
        if own is not None and not any(m.src in own or m.dst in own for m in msgs):
            continue
        kept.add(cid)
        hops: dict[str, list[str]] = {}
        for m in msgs:
            if m.retransmission or m.index in skip:
                continue
            s, r = parties.of(m.src), parties.of(m.dst)
            if s is None or r is None:
                continue
            hops.setdefault(f"{s.name}>{r.name}", []).append(m.label)
        if not hops:
            continue
        entry: dict[str, Any] = {"start": msgs[0].time, "call_id": cid,
                                 "kind": msgs[0].method, "hops": hops}
        info = model.calls.get(cid)
        if info is not None:
            answer = [m for m in msgs if not m.is_request and m.audio and not
                      m.retransmission and m.status and m.status < 300]
            entry["codec"] = (media_codecs(answer[-1].audio)[0] or [None])[0] if answer else None
            suites = sorted({str(s["srtp"].get("suite")) for s in flow.streams
                             if s.get("call_id") == cid and s.get("srtp")
                             and s["srtp"].get("authenticated")})
            entry["srtp"] = suites
        out.dialogs.append(entry)
    out.dialogs.sort(key=lambda d: d["start"])
    for act in model.acts:
        if act.kind == "dtmf" and (own is None or act.call in kept or act.call is None):
            method = act.params["method"]
            out.dtmf[method] = out.dtmf.get(method, "") + act.params["digits"]
    return out


def compare(orig: Summary, new: Summary) -> list[str]:
    """What differs (empty: the scaffold reproduced the capture)."""
    diffs: list[str] = []
    a, b = orig.dialogs, new.dialogs
    if len(a) != len(b):
        diffs.append(f"{len(a)} dialogs in the original, {len(b)} in the scaffolded run: "
                     f"{[d['kind'] for d in a]} vs {[d['kind'] for d in b]}")
    for i, (x, y) in enumerate(zip(a, b)):
        where = f"dialog {i + 1} ({x['kind']})"
        if x["kind"] != y["kind"]:
            diffs.append(f"{where}: a {y['kind']} dialog in the scaffolded run")
            continue
        for hop in sorted(set(x["hops"]) | set(y["hops"])):
            want, got = x["hops"].get(hop, []), y["hops"].get(hop, [])
            if want != got:
                diffs.append(f"{where} {hop}: {want} vs {got}")
        for key in ("codec", "srtp"):
            if x.get(key) != y.get(key):
                diffs.append(f"{where}: {key} {x.get(key)} vs {y.get(key)}")
    if orig.dtmf != new.dtmf:
        diffs.append(f"DTMF {orig.dtmf} vs {new.dtmf}")
    return diffs


def contacts(result: dict) -> set[str]:
    """The SIP addresses ("ip:port") a JSON report's scenario planned for its parties."""
    out = set()
    for event in result.get("events") or []:
        if event.get("kind") == "planned":
            for uri in (event.get("contacts") or {}).values():
                u = parse_uri(uri)
                if u is not None and u.port:
                    out.add(f"{u.host}:{u.port}")
    return out


def own_calls(capture, own: set[str]) -> list[str] | None:
    """The Call-IDs of a capture's dialogs that touch the run's own SIP addresses, when
    the capture also holds others (another run's traffic the port filter let in); None
    when every dialog is the run's own."""
    from sipscen.analysis import analyze_capture  # lazy: loads cryptography, numpy

    mine, foreign = [], 0
    for c in analyze_capture(capture).iter_calls():
        cid = str(c.get("call_id"))
        if cid.endswith("@sipscen"):
            continue
        if any(m.get("src") in own or m.get("dst") in own for m in c.get("messages") or []):
            mine.append(cid)
        else:
            foreign += 1
    return mine if foreign else None


def sut_options(scenario_file) -> list[str]:
    """``--sut NAME=PIECE`` for each service a scenario takes from an included piece: how
    the round trip points the scaffold at the same SUT the original used."""


    path = Path(scenario_file)
    data = load_yaml_file(path)
    out = []
    for inc in (data.get("include") or []) if isinstance(data, dict) else []:
        piece = (path.parent / str(inc)).resolve()
        sub = load_yaml_file(piece)
        services = sub.get("services") if isinstance(sub, dict) else None
        for name in (services or {}):
            out.append(f"{name}={piece}")
    return out
