"""From a capture to the scenario that reproduces it (``sipscen scaffold``).

read the flow (flow.py) -> who is who (parties.py) -> what each did and saw
(acts.py, digits.py) -> agent types and keys (agent_types.py, agent_config.py,
sipp_messages.py) -> steps (timeline.py) -> expectations (expectations.py) ->
the document (document.py) -> anonymised (anonymise.py) -> YAML (emit.py).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from sipscen.core.errors import CaptureFileError, UsageError
from sipscen.scaffold.reading import read_acts
from sipscen.scaffold.agent_config import agent_keys
from sipscen.scaffold.agent_types import choose_types
from sipscen.scaffold.digits import read_digits
from sipscen.scaffold.document import Scaffold, compose
from sipscen.scaffold.emit import Node
from sipscen.scaffold.expectations import build_expectations
from sipscen.scaffold.far_end import add_far_ends
from sipscen.scaffold.flow import DEFAULT_MAX_CALLS, Flow, read_flow
from sipscen.scaffold.media_only import media_only
from sipscen.scaffold.parties import find_parties
from sipscen.scaffold.sipp_messages import inline_messages
from sipscen.scaffold.timeline import Builder
from sipscen.scaffold.anonymise import Anonymiser
from sipscen.scaffold.parties import NAME_PATTERN as _NAME


@dataclass
class SutOption:
    """``--sut NAME=HOST:PORT`` (the captured SUT's address) or ``--sut NAME=FILE``
    (a scenario piece whose service NAME runs the SUT)."""

    name: str
    address: str | None = None
    piece: Path | None = None


@dataclass
class Options:
    calls: list[str] = field(default_factory=list)
    sut: list[SutOption] = field(default_factory=list)
    output: Path | None = None
    anonymise: bool = False
    srtp_keys: list[str] = field(default_factory=list)
    max_calls: int = DEFAULT_MAX_CALLS


def parse_sut(text: str) -> SutOption:
    name, sep, value = text.partition("=")
    if not sep or not _NAME.match(name) or not value:
        raise UsageError(f"--sut {text!r}: expected NAME=HOST:PORT (the SUT's address in the "
                         "capture) or NAME=FILE.yaml (a piece with the service NAME)")
    if value.endswith((".yaml", ".yml")) or os.path.sep in value and not _hostport(value):
        path = Path(value)
        if not path.is_file():
            raise UsageError(f"--sut {text}: {value}: no such file")
        return SutOption(name, piece=path)
    if not _hostport(value):
        raise UsageError(f"--sut {text}: {value!r} is neither HOST:PORT nor a .yaml file")
    return SutOption(name, address=value)


def _hostport(value: str) -> bool:
    host, _, port = value.rpartition(":")
    return bool(host) and port.isdigit() and 0 < int(port) < 65536


def scaffold(capture: str | os.PathLike, options: Options | None = None) -> Scaffold:
    options = options or Options()
    path = Path(capture)
    if path.is_dir():
        raise UsageError(f"{path}: is a folder, not a capture file")
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    flow = read_flow(path, options.calls, options.max_calls, options.srtp_keys)
    if not flow.msgs:
        if flow.streams:
            return media_only(flow, options)
        what = "packets" if flow.packets else "packets at all"
        raise CaptureFileError(f"{path}: no SIP message and no RTP stream in its "
                               f"{flow.packets} {what}: nothing to scaffold"
                               + (f" ({'; '.join(flow.warnings[:2])})" if flow.warnings else ""))
    return _scaffold(flow, options)


def _scaffold(flow: Flow, options: Options) -> Scaffold:

    suts = {s.address: s.name for s in options.sut if s.address}
    default = next((s.name for s in options.sut if s.piece), "sut")
    parties = find_parties(flow, _normalised(suts), default)
    far_notes: list = []
    add_far_ends(flow, parties, far_notes)
    anon = None
    if options.anonymise:
        anon = Anonymiser(flow, parties)        # renames the agents before anything is written
    model = read_acts(flow, parties)
    model.notes[:0] = far_notes
    read_digits(model, flow.dtmf)
    choose_types(model, flow.msgs)
    needs_password = any(r.challenged for r in model.registrations)
    keys = {p.name: agent_keys(model, p, "password") for p in parties.agents}
    needs_password = needs_password or any(
        "${password}" in str(k.keys.get("account")) for k in keys.values())
    sipp = {}
    wrong = False
    for p in parties.agents:
        if p.kind == "sipp":
            sipp[p.name] = inline_messages(model, p, flow.msgs, "password")
            needs_password = needs_password or "[authentication" in str(sipp[p.name][0])
            wrong = wrong or "${wrong_password}" in str(sipp[p.name][0])
    steppers = {p.name for p in parties.agents if p.kind in ("pjsua", "baresip")}
    spans = {}
    for p in parties.agents:
        if p.kind == "sipp":
            times = [m.time for m in flow.msgs if p.address in (m.src, m.dst)]
            spans[p.name] = (min(times), max(times))
    builder = Builder(model, steppers, spans)
    steps = builder.build()
    for name, signal in builder.sipp_signals.items():
        sipp[name][0]["steps"] = Node([{"signal": signal}], block=True)
    expectations = build_expectations(model, flow.streams, flow.msgs)
    return compose(flow, options, model, keys, sipp, steps, expectations, needs_password, anon,
                   wrong)


def _normalised(suts: dict[str, str]) -> dict[str, str]:
    out = {}
    for address, name in suts.items():
        host, _, port = address.rpartition(":")
        host = host.strip("[]")
        out[f"[{host}]:{port}" if ":" in host else f"{host}:{port}"] = name
    return out
