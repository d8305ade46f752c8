"""The machine-readable report: ``{"scenarios": [...], "summary": {...}}``.

Per scenario: status, duration, every check (name, status, expected, actual,
message, location), the negotiated codecs, SRTP suites, DTMF seen at each
agent and on the wire (derived in :mod:`sipscen.report.views`), artifact paths,
plus the raw agent facts and capture analysis so a report can be re-rendered
or merged later (:func:`results_from_json_dict`). Secrets are masked.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable

from sipscen.core.results import CheckResult, ScenarioResult, jsonable, summarise
from sipscen.core.redaction import redact, secrets_of
from sipscen.report.views import codec_view, dtmf_view, srtp_view
from sipscen.core.atomic import write_text_atomically

FORMAT_VERSION = 1


def scenario_dict(result: ScenarioResult) -> dict[str, Any]:
    """One scenario as the JSON report shows it (before redaction)."""
    return {
        "name": result.name,
        "file": result.file,
        "status": result.status,
        # passed without a single check (no expect:): a warning says so
        "no_checks": bool(result.no_checks),
        "duration": round(float(result.duration or 0.0), 3),
        "description": result.description,
        "tags": list(result.tags or []),
        "location": result.location,
        "error": result.error,
        "warnings": list(result.warnings or []),
        "checks": [c.to_dict() for c in result.checks],
        "codecs": codec_view(result),
        "srtp": srtp_view(result),
        "dtmf": dtmf_view(result),
        "artifacts": dict(result.artifacts or {}),
        "agents": result.agents or {},
        **({"services": result.services} if getattr(result, "services", None) else {}),
        "wire": result.wire or {},
        "events": list(result.events or []),
        "scripted_wait": result.scripted_wait,
        "exit_status": getattr(result, "exit_status", None),
        "order": getattr(result, "order", 0),
        "started_at": result.started_at,
        **({"distributed": result.distributed} if result.distributed else {}),
        # per load agent: media figures per call and the time series (docs/LOAD.md)
        "load": getattr(result, "load", None) or {},
    }


def to_json_dict(results: Iterable[ScenarioResult],
                 secrets: Iterable[str] | None = None) -> dict[str, Any]:
    """The whole report as plain JSON-able data, every secret replaced by ``***``."""
    results = list(results)
    data = {
        "format": FORMAT_VERSION,
        "scenarios": [scenario_dict(r) for r in results],
        "summary": summarise(results),
    }
    return redact(jsonable(data), secrets_of(results, secrets))


def write_json(results: Iterable[ScenarioResult], path: str | os.PathLike,
               secrets: Iterable[str] | None = None) -> Path:
    """Write the JSON report to ``path`` (folders created) and return the path."""

    data = to_json_dict(results, secrets)
    return write_text_atomically(path, "JSON",
                                 json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def results_from_json_dict(data: dict[str, Any]) -> list[ScenarioResult]:
    """Rebuild :class:`ScenarioResult` objects from a JSON report (for merging shards).

    Secrets were masked when the report was written and stay masked.
    """
    results = []
    for s in data.get("scenarios") or []:
        checks = [CheckResult(**{k: c.get(k) for k in
                                 ("name", "status", "expected", "actual", "message", "location",
                                  "evidence", "recording")
                                 if k in c}) for c in s.get("checks") or []]
        results.append(ScenarioResult(
            name=s.get("name", ""), file=s.get("file", ""), status=s.get("status", "error"),
            duration=float(s.get("duration") or 0.0), checks=checks, error=s.get("error"),
            agents=s.get("agents") or {}, services=s.get("services") or {},
            wire=s.get("wire") or {},
            artifacts=s.get("artifacts") or {}, events=s.get("events") or [],
            tags=list(s.get("tags") or []), description=s.get("description") or "",
            location=s.get("location") or "", scripted_wait=float(s.get("scripted_wait") or 0.0),
            exit_status=s.get("exit_status"), order=int(s.get("order") or 0),
            started_at=float(s.get("started_at") or 0.0),
            warnings=list(s.get("warnings") or []),
            distributed=s.get("distributed") or None, no_checks=bool(s.get("no_checks")),
            load=s.get("load") or {},
        ))
    return results

