"""The scenario document: header comments, SUT service (included piece or a
placeholder), agents with their keys and steps, expectations; then anonymised
(when asked) and written as YAML with comments."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
import re

from sipscen.core.errors import UsageError
from sipscen.scaffold.acts import Model
from sipscen.scaffold.agent_config import AgentKeys
from sipscen.scaffold.emit import Node, emit_mapping, header_comment
from sipscen.scaffold.flow import Flow
from sipscen.scaffold.frames import frames_text
from sipscen.scenario.loader import load_yaml_file

EXAMPLE_SUT = Path(__file__).resolve().parents[3] / "examples" / "sut" / "kamailio.cfg"
EXAMPLE_PASSWORD = "sipscen-test"


@dataclass
class Scaffold:
    """A scaffolded scenario: its text, what it could not reproduce, its agents."""
    text: str
    warnings: list[str]
    agents: dict[str, str]              # name -> type
    calls: int


def _piece_services(piece: Path) -> list[str]:
    try:
        data = load_yaml_file(piece)
    except Exception as exc:    # noqa: BLE001 - any load error is the user's file
        raise UsageError(f"--sut {piece}: cannot read it: {exc}") from None
    services = data.get("services") if isinstance(data, dict) else None
    return list(services) if isinstance(services, dict) else []


def _rel(target: Path, output: Path | None) -> str:
    base = output.resolve().parent if output is not None else Path.cwd()
    try:
        return os.path.relpath(target.resolve(), base)
    except ValueError:
        return str(target.resolve())


def _services(flow: Flow, options, model: Model, doc: dict, notes: list[str]) -> None:
    suts = model.parties.suts
    pieces = [s for s in options.sut if s.piece]
    if pieces:
        doc["include"] = Node([_rel(p.piece, options.output) for p in pieces],
                              "the system under test, as --sut named it")
        for p in pieces:
            names = _piece_services(p.piece)
            if p.name not in names:
                raise UsageError(f"--sut {p.name}={p.piece}: the file defines no service "
                                 f"'{p.name}' (it has: {', '.join(names) or 'none'})")
    covered = {p.name for p in pieces}
    services = {}
    for sut in suts:
        if sut.name in covered:
            continue
        why = "; ".join(sut.why)
        if EXAMPLE_SUT.is_file():
            cfg = "${file_dir}/" + _rel(EXAMPLE_SUT, options.output) if options.output \
                else str(EXAMPLE_SUT)
            command = ["kamailio", "-DD", "-E", "-f", cfg, "-l", f"udp:127.0.0.1:${{{sut.name}.port}}"]
        else:
            command = ["your-sut", "--listen", f"127.0.0.1:${{{sut.name}.port}}"]
            notes.append("the example SUT (examples/sut/kamailio.cfg) is not here: the "
                         f"service {sut.name} is a placeholder command to replace")
        services[sut.name] = Node({
            "command": command, "port": "auto",
            "ready": {"sip_options": True, "timeout": "10s"}},
            f"PLACEHOLDER for the system under test at {sut.address} in the capture ({why}): "
            f"the example Kamailio stands in; run your own with --sut "
            f"{sut.name}=YOUR-PIECE.yaml", block=True)
        notes.append(f"{sut.name} ({sut.address} in the capture) is a placeholder service "
                     "running the example Kamailio SUT: point --sut at your own")
        if any(m.transport == "tcp" for m in flow.msgs):
            notes.append("SIP went over TCP in the capture; the example SUT listens on UDP "
                         "only")
    if services:
        doc["services"] = Node(services, block=True)


def compose(flow: Flow, options, model: Model, keys: dict[str, AgentKeys],
            sipp: dict[str, tuple[dict, list[str]]], steps: dict, expectations,
            needs_password: bool, anon=None, wrong_password: bool = False):
    notes: list[str] = []
    doc: dict[str, Any] = {}
    stem = options.output.stem if options.output is not None else Path(flow.path).stem
    # the output's name is the user's own; the capture's may name the customer
    doc["name"] = f"scaffold-{_slug(stem)}" if options.output is not None or \
        not options.anonymise else "scaffold"
    first = min((a.time for a in model.acts if not a.auto), default=None)
    times = [m.time for m in flow.msgs if first is None or m.time >= first]
    span = max(times, default=0) - min(times, default=0)
    doc["description"] = (f"Reproduces {len(model.calls)} call(s) of "
                          f"{'a capture' if options.anonymise else Path(flow.path).name} "
                          "(sipscen scaffold)")
    doc["tags"] = ["scaffold"]
    doc["timeout"] = f"{int(max(30, span * 2 + 20))}s"
    _services(flow, options, model, doc, notes)
    variables = {}
    if needs_password:
        variables["password"] = Node(EXAMPLE_PASSWORD, "the capture shows digest auth but "
                                     "never the password: the example SUT's test password; "
                                     "set yours with --var or ${env:...}")
        if wrong_password or any(str(k.keys.get("account", {}).get("password")) ==
                                 "${wrong_password}" for k in keys.values()):
            variables["wrong_password"] = Node("not-the-password", "the registrar refused the "
                                               "credentials in the capture")
    if variables:
        doc["variables"] = Node(variables, block=True)
    agents: dict[str, Any] = {}
    for party in model.parties.agents:
        if party.name in sipp:
            body, comments = sipp[party.name]
            body = dict(body)
            if "messages" in body:
                body["messages"] = Node(body["messages"], item_comments=comments)
            agents[party.name] = Node(body, _where(party), block=True)
            continue
        k = keys[party.name]
        body = {key: Node(v, k.comments.get(key, "")) for key, v in k.keys.items()}
        mine = steps.get(party.name) or []
        if mine:
            body["steps"] = Node([{s.kind: s.params} for s in mine],
                                 item_comments=[s.comment for s in mine])
        agents[party.name] = Node(body, _where(party), block=True)
    doc["agents"] = Node(agents, block=True)
    exp = []
    for e in expectations:
        if e.item_comments:
            inner = dict(e.params)
            inner["sequence"] = Node(inner["sequence"], item_comments=e.item_comments)
            exp.append(Node({e.family: Node(inner, block=True)}, e.comment))
        else:
            exp.append(Node({e.family: e.params}, e.comment))
    doc["expect"] = Node(exp)
    notes += [_note_text(t, f) for t, f in model.notes]
    if anon is not None and any(a.params.get("headers") or a.params.get("body")
                                for a in model.acts):
        notes.append("--anonymise replaced users, hosts, tags, Call-IDs, keys and "
                     "credentials; custom header values and message bodies are kept as "
                     "captured: review them before sharing")
    notes += [f"the capture: {w}" for w in flow.warnings]
    header = _header(flow, model, options, notes)
    if anon is not None:
        doc = anon.walk(doc)
        header = [anon.scrub(line) for line in header]
        notes = [anon.scrub(n) for n in notes]
    lines = header_comment(header) + [""] + emit_mapping(doc)
    text = "\n".join(lines) + "\n"
    kinds = {p.name: p.kind for p in model.parties.agents}
    return Scaffold(text, notes, kinds, len(model.calls))


def _slug(text: str) -> str:
    out = re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")
    return out or "capture"


def _where(party) -> str:
    if party.far_end_of is not None:
        return "; ".join(party.why)
    parts = [f"{party.address} in the capture"]
    if party.frames:
        parts[0] += f" (from frame {party.frames[0]})"
    parts += party.why
    return "; ".join(parts)


def _note_text(text: str, frames: list[int]) -> str:
    where = frames_text(frames)
    return f"{text} ({where})" if where and where not in text else text


def _header(flow: Flow, model: Model, options, notes: list[str]) -> list[str]:
    name = "a capture" if options.anonymise else flow.path
    lines = [f"Scaffolded by `sipscen scaffold` from {name}: {flow.packets} packets, "
             f"{len(flow.dialogs)} dialog(s) reproduced."]
    if flow.dropped:
        lines.append(f"Left out: {len(flow.dropped)} other dialog(s) of the capture "
                     "(choose them with --call).")
    lines.append("Agents, steps and expectations name the frames they come from. Review "
                 "before committing: timing is the captured timing.")
    if notes:
        lines += ["", "Not reproduced or assumed:"]
        lines += [f"- {n}" for n in notes]
    return lines

