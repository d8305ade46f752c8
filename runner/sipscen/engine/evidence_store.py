"""What a finished run saves so that it can be judged again: ``evidence.json``.

At the end of a run the engine writes, in the scenario's artifacts folder, a
versioned ``evidence.json`` next to ``capture.pcap`` and the agents'
recordings: the agents' and services' facts, the wire analysis (or why there is
none), the contacts, the signal and step times, the warnings the run had before
its verdict, what the capture could not see, and what a re-analysis of the
capture needs (the SRTP keys and TLS key logs the agents used). Decoded wire
audio is not saved: ``sipscen judge`` re-analyses the saved capture when an
expectation needs it (engine/judge.py).

The file is written whole or not at all (core/atomic.py); the run's secrets
are masked in it with every other artifact when the run ends
(engine/artifacts.py). Prints nothing.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
import importlib
import dataclasses

from sipscen.analysis.result import WireAnalysis
from sipscen.capture.visibility import Blind
from sipscen.core.contact import Contact
from sipscen.core.errors import UsageError
from sipscen.core.results import jsonable
from sipscen.core.atomic import write_text_atomically

FILE_NAME = "evidence.json"
KIND = "sipscen-evidence"
VERSION = 1


@dataclass
class Evidence:
    """Everything the verdict of one run rests on, as plain data."""
    scenario_name: str
    scenario_file: str
    agents_of: list[tuple[str, str]]          # (name, type) of every agent, in order
    services_of: list[str]                    # the services' names
    agents: dict[str, dict[str, Any]]
    services: dict[str, dict[str, Any]]
    wire: WireAnalysis | None                 # None: no capture, or its analysis failed
    wire_error: str | None
    analysis_failed: bool
    contacts: dict[str, Contact]
    signals: dict[str, float] = field(default_factory=dict)
    epoch0: float = 0.0
    steps: dict[tuple[str, int], dict[str, float]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)    # the run's, before its verdict
    step_failure: str | None = None
    location: str = ""                        # the result's (a failing step's) location
    capture_faults: list[str] = field(default_factory=list)
    blind: list[Blind] | None = None          # None: no capture
    audio: bool = False                       # the analysis decoded the wire audio
    dtls_scan: bool = False                   # ... and sampled the media for DTLS
    capture: str | None = None                # the capture file (absolute)
    srtp_keys: list[str] = field(default_factory=list)
    tls_keylogs: list[str] = field(default_factory=list)
    generator: tuple[int, int] | None = None
    parameters: dict[str, str] = field(default_factory=dict)
    folder: str = ""                          # the artifacts folder it was saved in
    # decoded wire audio of this process's analysis (never saved)
    wire_audio: dict | None = field(default=None, repr=False)
    # read back from evidence.json, where the run's secrets are masked (***)
    saved: bool = False

    def to_dict(self) -> dict[str, Any]:
        return jsonable({
            "kind": KIND, "version": VERSION,
            "scenario": {"name": self.scenario_name, "file": self.scenario_file,
                         "agents": [list(a) for a in self.agents_of],
                         "services": list(self.services_of),
                         "parameters": dict(self.parameters)},
            "generator": list(self.generator) if self.generator else None,
            "agents": self.agents, "services": self.services,
            "wire": self.wire.to_dict() if self.wire is not None else None,
            "wire_error": self.wire_error,
            "analysis_failed": self.analysis_failed,
            "contacts": {n: {**asdict(c), "class": f"{type(c).__module__}:{type(c).__name__}"}
                         for n, c in self.contacts.items()},
            "signals": self.signals, "epoch0": self.epoch0,
            "steps": [[agent, index, times] for (agent, index), times in self.steps.items()],
            "warnings": self.warnings, "step_failure": self.step_failure,
            "location": self.location, "capture_faults": self.capture_faults,
            "blind": None if self.blind is None else [
                {"channel": b.channel, "parties": list(b.parties), "why": b.why}
                for b in self.blind],
            "analysis": {"audio": self.audio, "dtls_scan": self.dtls_scan},
            "capture": self.capture, "srtp_keys": self.srtp_keys,
            "tls_keylogs": self.tls_keylogs, "folder": self.folder,
        })


def save(evidence: Evidence, folder: Path) -> Path:
    """Write ``folder/evidence.json`` atomically; ReportWriteError when it cannot."""
    evidence.folder = str(folder)
    text = json.dumps(evidence.to_dict(), separators=(",", ":"), allow_nan=True)  # (jq reads it)
    return write_text_atomically(folder / FILE_NAME, "evidence", text + "\n")


def load(folder: Path) -> Evidence:
    """The evidence saved in an artifacts folder. UsageError (exit 2) naming the
    folder when there is none, it is not sipscen's, or another version wrote it."""
    path = Path(folder) / FILE_NAME
    if not Path(folder).is_dir():
        raise UsageError(f"{folder}: no such artifacts folder")
    if not path.is_file():
        raise UsageError(f"{folder}: no {FILE_NAME} (not the artifacts folder of a scenario "
                         "run, or the run ended before its verdict)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: not readable evidence: {exc}") from None
    if not isinstance(data, dict) or data.get("kind") != KIND:
        raise UsageError(f"{path}: not sipscen evidence (no \"kind\": \"{KIND}\")")
    if data.get("version") != VERSION:
        raise UsageError(f"{path}: evidence version {data.get('version')!r}, this sipscen "
                         f"reads version {VERSION}: run the scenario again")
    try:
        return _from_dict(data, Path(folder))
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"{path}: malformed evidence: {exc!r}") from None


def _from_dict(data: dict[str, Any], folder: Path) -> Evidence:
    saved_in = str(data.get("folder") or "")
    if saved_in and saved_in != str(folder.resolve()):
        data = _moved(data, saved_in, str(folder.resolve()))   # the folder was moved
    sc = data["scenario"]
    analysis = data.get("analysis") or {}
    blind = data.get("blind")
    generator = data.get("generator")
    return Evidence(
        scenario_name=str(sc["name"]), scenario_file=str(sc["file"]),
        agents_of=[(str(n), str(t)) for n, t in sc["agents"]],
        services_of=[str(s) for s in sc["services"]],
        parameters=dict(sc.get("parameters") or {}),
        agents=dict(data["agents"]), services=dict(data["services"]),
        wire=WireAnalysis.from_dict(data["wire"]) if isinstance(data.get("wire"), dict) else None,
        wire_error=data.get("wire_error"),
        analysis_failed=bool(data.get("analysis_failed")),
        contacts={n: _contact(c) for n, c in data["contacts"].items()},
        signals={str(k): float(v) for k, v in (data.get("signals") or {}).items()},
        epoch0=float(data.get("epoch0") or 0.0),
        steps={(str(a), int(i)): dict(t) for a, i, t in data.get("steps") or []},
        warnings=list(data.get("warnings") or []), step_failure=data.get("step_failure"),
        location=str(data.get("location") or ""),
        capture_faults=list(data.get("capture_faults") or []),
        blind=None if blind is None else [
            Blind(str(b["channel"]), tuple(b["parties"]), str(b["why"])) for b in blind],
        audio=bool(analysis.get("audio")), dtls_scan=bool(analysis.get("dtls_scan")),
        capture=data.get("capture"), srtp_keys=list(data.get("srtp_keys") or []),
        tls_keylogs=list(data.get("tls_keylogs") or []),
        generator=tuple(generator) if generator else None,
        folder=str(folder.resolve()), saved=True)


def _contact(d: dict[str, Any]) -> Contact:
    """A contact as it was planned: of its own class (a browser's BrowserContact, say)
    when that is a sipscen Contact, else a Contact of the fields it knows."""
    d = dict(d)
    cls: type = Contact
    module, _, name = str(d.pop("class", "")).partition(":")
    if module.startswith("sipscen.") and name:
        try:
            found = getattr(importlib.import_module(module), name)
            if isinstance(found, type) and issubclass(found, Contact):
                cls = found
        except (ImportError, AttributeError):
            pass
    known = {f.name for f in dataclasses.fields(cls)}
    if d.get("media_ports") is not None:
        d["media_ports"] = tuple(d["media_ports"])
    return cls(**{k: v for k, v in d.items() if k in known})


def _moved(obj: Any, old: str, new: str) -> Any:
    """Paths into the folder where the evidence was saved, now into where it is."""
    if isinstance(obj, str):
        return new + obj[len(old):] if obj.startswith(old) else obj
    if isinstance(obj, dict):
        return {k: _moved(v, old, new) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_moved(v, old, new) for v in obj]
    return obj

