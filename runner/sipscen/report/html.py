"""The HTML report: ONE self-contained file (inline CSS/JS/SVG/images, nothing fetched).

Suite summary; per scenario every check with expected/actual (for people:
report/values.py), next to an audio check the spectrogram and a player of the
recording it judged (html_heard.py), the load's time series as charts
(html_charts.py), the SIP ladder of the captured call flow (click a message
to read it whole), the RTP streams, a DTMF timeline, the agents' facts and
links to the artifacts relative to the report's folder.

The page is rendered from Jinja2 templates (``report/templates/``) with
autoescaping always on: this module only builds plain data (the "views"),
never markup, and no value is ever marked safe. Raw SIP from a hostile SUT
lands in this page, so every text also loses what a page should not carry
(control characters, lone surrogates, bidi overrides become visible escapes:
``_page_text``). Secrets are masked before anything is rendered (the results
are redacted through the JSON view), and a last pass masks any secret (raw or
escaped) left in the page.
"""
from __future__ import annotations

import json
import os
import re
from datetime import datetime, timezone
from functools import lru_cache
from html import escape
from pathlib import Path
from typing import Any, Iterable

import jinja2
from markupsafe import Markup, escape as markup_escape

from sipscen.agents.records import record_of
from sipscen.analysis.numbers import wire_int
from sipscen.core.results import PASSED, ScenarioResult, summarise
from sipscen.core.redaction import redact, redact_text, secrets_of
from sipscen.report import values
from sipscen.report.html_ladder import ladder_view
from sipscen.report.json_report import results_from_json_dict, to_json_dict
from sipscen.report.text import duration_text
from sipscen.report.views import (address_labels, artifact_href, dtmf_timeline, label_for,
                                  rtp_streams, wire_calls, wire_offset)
from sipscen.core.atomic import write_text_atomically

STATIC_PAYLOAD_TYPES = {0: "PCMU", 3: "GSM", 4: "G723", 8: "PCMA", 9: "G722", 18: "G729"}
_RTPMAP = re.compile(r"^a=rtpmap:(\S+) ([^/\s]+)", re.M)
VALUE_CHARS = 2000
MAX_STREAM_ROWS = 300      # a load run's thousands of streams: the first ones, and how many
# What a page should not carry as it is: C0 controls but tab, newline and CR (raw
# SIP ends its lines with CRLF), DEL, C1 controls, lone surrogates (no encoding
# can write them), and the bidirectional overrides (they reorder what a line seems
# to say). Each becomes a visible escape (\x1b, \ud800, \u202e).
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff"
                     "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufffe\uffff]")


def _visible(m: re.Match) -> str:
    point = ord(m.group(0))
    return f"\\x{point:02x}" if point < 0x100 else f"\\u{point:04x}"


def _page_text(value: Any) -> Any:
    """Jinja's ``finalize``: None prints nothing; text loses unsafe characters
    (before autoescaping, which then escapes what markup could see)."""
    if value is None:
        return ""
    if isinstance(value, Markup):          # a macro's output: its values were cleaned
        return value
    if isinstance(value, str) and not (value.isascii() and value.isprintable()):
        return _UNSAFE.sub(_visible, value)
    return value


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The report's template environment: package templates, autoescape always on."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("sipscen.report", "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        finalize=_page_text, undefined=jinja2.StrictUndefined,
        trim_blocks=False, lstrip_blocks=False, keep_trailing_newline=True)


def _slug(text: str, index: int) -> str:
    return f"s{index}-" + (re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")[:40] or "scenario")


def payload_names(result: ScenarioResult) -> dict[int, str]:
    """Payload type -> codec name, from the agents' SDP (dynamic types) and the static table."""
    names = dict(STATIC_PAYLOAD_TYPES)
    for facts in (result.agents or {}).values():
        for call in (facts.get("calls") or []) if isinstance(facts, dict) else []:
            for sdp in (call.get("local_sdp"), call.get("remote_sdp")):
                for pt, name in _RTPMAP.findall(sdp or ""):
                    number = wire_int(pt, 0, 127)      # the remote SDP is wire data
                    if number is not None:
                        names[number] = name
    return names


# ------------------------------------------------------------------ views (plain data)
def value_view(value: Any) -> dict[str, Any]:
    """An expected/actual value for the template: a small table, or one line of text."""
    return {"table": values.table(value), "text": values.text(value, VALUE_CHARS)}


def _summary_view(results: list[ScenarioResult], ids: list[str]) -> dict[str, Any]:
    s = summarise(results)
    rows = [{"sid": ids[i], "name": r.name, "file": r.file, "status": r.status,
             "no_checks_pass": r.status == PASSED and r.no_checks,
             "duration": duration_text(r.duration),
             "checks_passed": sum(1 for c in r.checks if c.status == PASSED),
             "checks_total": len(r.checks), "tags": list(r.tags)}
            for i, r in enumerate(results)]
    return {**s, "duration": duration_text(s["duration"]), "rows": rows}


def _check_views(result: ScenarioResult, base_dir: Path, budget) -> list[dict[str, Any]]:
    from sipscen.report.html_heard import heard_view  # lazy: loads numpy
    return [{"status": c.status, "name": c.name, "expected": value_view(c.expected),
             "actual": value_view(c.actual), "location": c.location, "message": c.message,
             "heard": heard_view(result, c, base_dir, budget)}
            for c in result.checks]


def _stream_views(result: ScenarioResult) -> list[dict[str, Any]]:
    streams = rtp_streams(result)
    if not streams:
        return []
    names, labels = payload_names(result), address_labels(result)
    rows = []
    for s in streams[:MAX_STREAM_ROWS]:
        pts = ", ".join(f"{pt} ({names[pt]})" if pt in names else str(pt)
                        for pt in s.get("payload_types") or [])
        srtp = s.get("srtp")
        if isinstance(srtp, dict):
            auth = "auth failed" if srtp.get("auth_failed") else (
                "authenticated" if srtp.get("authenticated") else "not authenticated")
            srtp_text = f"{srtp.get('suite') or 'SRTP'} ({auth}, keys: {srtp.get('key_source') or '?'})"
        else:
            srtp_text = "no (cleartext RTP)"
        rows.append({"ssrc": s.get("ssrc"), "src": label_for(s.get("src"), labels),
                     "dst": label_for(s.get("dst"), labels), "payload_types": pts,
                     "packets": s.get("packets"), "lost": s.get("lost"),
                     "jitter_ms": s.get("jitter_ms"), "srtp": srtp_text})
    return rows


def _t(value: Any) -> str:
    return f"{value:.3f}s" if isinstance(value, (int, float)) else "-"


def _dtmf_view(result: ScenarioResult) -> dict[str, Any] | None:
    rows = dtmf_timeline(result)
    if not rows:
        return None
    table = [{**r, "time": _t(r.get("time"))} for r in rows]
    times = [r["time"] for r in rows if isinstance(r.get("time"), (int, float))]
    strip = None
    if times:
        t_min, span = min(times), max(max(times) - min(times), 1e-3)
        left, width, lane = 90, 860, 34
        y_of = {"sent": 22, "wire": 22 + lane, "received": 22 + 2 * lane}
        dots = []
        for r in rows:
            if r.get("where") not in y_of or not isinstance(r.get("time"), (int, float)):
                continue
            dots.append({"where": r["where"], "x": f"{left + (r['time'] - t_min) / span * width:.1f}",
                         "y": y_of[r["where"]], "digit": r.get("digit"),
                         "title": f"{r['time']:.3f}s {r['where']} {r.get('agent')} "
                                  f"{r.get('method') or ''}"})
        strip = {"width": left + width + 30, "height": 22 + 3 * lane, "left": left,
                 "right": left + width, "dots": dots,
                 "lanes": [{"where": w, "y": y} for w, y in y_of.items()]}
    return {"rows": table, "strip": strip}


def _agent_views(result: ScenarioResult) -> list[dict[str, Any]]:
    rows = []
    for name, facts in (result.agents or {}).items():
        facts = facts if isinstance(facts, dict) else {"value": facts}
        record = record_of(facts)
        rows.append({"name": name, "type": facts.get("type"), "uri": facts.get("uri"),
                     "calls": record.summary() if record is not None else [],
                     "facts": json.dumps(facts, indent=2, default=str)})
    return rows


def safe_href(href: str) -> str:
    """A link the page may carry: a relative path or a file URI, never another scheme
    (an artifact named ``javascript:...`` stays a relative path)."""
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", href) and not href.startswith("file:"):
        return "./" + href
    return href


def _artifact_views(result: ScenarioResult, base_dir: Path) -> list[dict[str, Any]]:
    return [{"label": label, "path": path, "href": safe_href(artifact_href(path, base_dir))}
            for label, path in sorted((result.artifacts or {}).items())]


def _scenario_view(result: ScenarioResult, sid: str, base_dir: Path,
                   load: Any = None, budget: Any = None) -> dict[str, Any]:
    from sipscen.report.html_charts import load_charts, load_tables  # lazy: loads numpy
    return {
        "sid": sid, "name": result.name, "status": result.status,
        "no_checks_pass": result.status == PASSED and result.no_checks,
        "duration": duration_text(result.duration), "location": result.location or result.file,
        "description": result.description, "tags": list(result.tags), "error": result.error,
        "warnings": list(result.warnings or []), "checks": _check_views(result, base_dir, budget),
        "charts": load_charts(load, result.checks), "load_tables": load_tables(load),
        "ladder": ladder_view(wire_calls(result), address_labels(result), sid, wire_offset(result)),
        "streams": _stream_views(result), "streams_total": len(rtp_streams(result)),
        "dtmf": _dtmf_view(result),
        "agents": _agent_views(result), "artifacts": _artifact_views(result, base_dir),
    }


def render_html(results: Iterable[ScenarioResult], base_dir: str | os.PathLike = ".",
                secrets: Iterable[str] | None = None) -> str:
    """The whole report page as a string; artifact links are relative to ``base_dir``."""
    results = list(results)
    masked = secrets_of(results, secrets)
    data = to_json_dict(results, masked)
    safe = results_from_json_dict(data)                          # redacted copies
    # the load time series, read from the JSON (the copies need not carry it)
    loads = [s.get("load") or redact(getattr(r, "load", None), masked)
             for s, r in zip(data["scenarios"], results)]
    ids = [_slug(r.name, i) for i, r in enumerate(safe)]
    # what broke comes first: failed, then errored, then passed scenarios (run order within)
    rank = {"failed": 0, "error": 1, "not_run": 3}
    order = sorted(range(len(safe)), key=lambda i: (rank.get(safe[i].status, 2), i))
    from sipscen.report.html_heard import Budget  # lazy: loads numpy, which only this path needs
    budget = Budget()          # WAVs inlined in this page, what broke first
    page = environment().get_template("report.html.j2").render(
        generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
        summary=_summary_view(safe, ids),
        scenarios=[_scenario_view(safe[i], ids[i], Path(base_dir), loads[i], budget)
                   for i in order])
    forms = {s for m in masked for s in (m, escape(m, quote=True), str(markup_escape(m)))}
    return redact_text(page, sorted(forms, key=len, reverse=True))


def write_html(results: Iterable[ScenarioResult], path: str | os.PathLike,
               secrets: Iterable[str] | None = None) -> Path:
    """Write the self-contained HTML report to ``path`` and return the path."""

    target = Path(path)
    return write_text_atomically(target, "HTML", render_html(results, target.parent, secrets))
