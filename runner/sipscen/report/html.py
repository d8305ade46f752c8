"""The HTML report: ONE self-contained file (inline CSS/JS/SVG, nothing fetched).

Suite summary; per scenario every check with expected/actual, the SIP ladder
of the captured call flow (click a message to read it whole), the RTP streams
(payload types with codec names, packets, loss, jitter, SRTP), a DTMF
timeline (sent by agents, on the wire, received), the agents' facts and links
to the artifacts relative to the report's folder.

Secrets are masked before anything is rendered (the results are redacted
through the JSON view), every text is HTML-escaped, and a last pass masks any
secret (raw or escaped) left in the page.
"""
from __future__ import annotations

import json
import os
import re
from datetime import datetime, timezone
from html import escape
from pathlib import Path
from typing import Any, Iterable

from sipscen.agents.records import record_of
from sipscen.analysis.numbers import wire_int
from sipscen.core.results import PASSED, ScenarioResult, summarise
from sipscen.report.html_assets import CSS, JS
from sipscen.report.html_ladder import ladder_svg
from sipscen.report.json_report import results_from_json_dict, to_json_dict
from sipscen.core.redaction import redact_text, secrets_of
from sipscen.report.text import duration_text, show
from sipscen.report.views import (address_labels, artifact_href, dtmf_timeline, label_for,
                                 rtp_streams, wire_calls, wire_offset)

STATIC_PAYLOAD_TYPES = {0: "PCMU", 3: "GSM", 4: "G723", 8: "PCMA", 9: "G722", 18: "G729"}
_RTPMAP = re.compile(r"^a=rtpmap:(\S+) ([^/\s]+)", re.M)


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


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


def _badge(result: ScenarioResult) -> str:
    """The status badge; a pass without a single check says so."""
    if result.status == PASSED and result.no_checks:
        return '<span class="badge passed nochecks">passed, no checks</span>'
    return f'<span class="badge {_e(result.status)}">{_e(result.status)}</span>'


def _summary_section(results: list[ScenarioResult], ids: list[str]) -> str:
    s = summarise(results)
    rows = "".join(
        f'<tr><td>{_badge(r)}</td>'
        f'<td><a href="#{ids[i]}">{_e(r.name)}</a></td><td class="mono">{_e(r.file)}</td>'
        f'<td class="num">{_e(duration_text(r.duration))}</td>'
        f'<td class="num">{sum(1 for c in r.checks if c.status == PASSED)}/{len(r.checks)}</td>'
        f'<td>{_e(", ".join(r.tags))}</td></tr>'
        for i, r in enumerate(results))
    return (f'<h2 id="summary">Summary <span class="badge {_e(s["status"])}">{_e(s["status"])}</span></h2>'
            f'<p class="counts"><span>{s["total"]} scenarios</span>'
            f'<span class="passed">{s["passed"]} passed</span>'
            + (f'<span class="nochecks">{s["no_checks"]} with no checks</span>'
               if s.get("no_checks") else "") +
            f'<span class="failed">{s["failed"]} failed</span>'
            f'<span class="error">{s["error"]} error</span>'
            + (f'<span class="muted">{s["not_run"]} not run</span>' if s["not_run"] else "") +
            f'<span class="muted">{_e(duration_text(s["duration"]))} in total</span></p>'
            '<table class="summary"><tr><th>status</th><th>scenario</th><th>file</th><th>duration</th>'
            f'<th>checks passed</th><th>tags</th></tr>{rows}</table>')


def _checks_section(result: ScenarioResult) -> str:
    if not result.checks:
        return '<p class="muted">No checks were evaluated.</p>'
    rows = "".join(
        f'<tr class="check {_e(c.status)}"><td><span class="badge {_e(c.status)}">{_e(c.status)}</span></td>'
        f'<td>{_e(c.name)}</td><td class="mono expected">{_e(show(c.expected, 2000))}</td>'
        f'<td class="mono actual">{_e(show(c.actual, 2000))}</td>'
        f'<td class="mono">{_e(c.location)}</td><td>{_e(c.message)}</td></tr>'
        for c in result.checks)
    return ('<h3>Checks</h3><table class="checks"><tr><th>status</th><th>check</th><th>expected</th>'
            f'<th>actual</th><th>where</th><th>message</th></tr>{rows}</table>')


def _ladder_section(result: ScenarioResult, sid: str) -> str:
    svg, raws, count = ladder_svg(wire_calls(result), address_labels(result), sid,
                                  wire_offset(result))
    if not count:
        return '<h3>Call flow</h3><p class="muted">No SIP messages in the capture.</p>'
    return (f'<h3>Call flow <span class="muted">({count} SIP messages; click one to see it whole)</span></h3>'
            f'<div class="ladder-wrap">{svg}</div>'
            f'<div class="raw-panel"><pre>Click a message in the ladder to see it here.</pre></div>'
            f'<div class="raw-store">{raws}</div>')


def _streams_section(result: ScenarioResult) -> str:
    streams = rtp_streams(result)
    if not streams:
        return ""
    names, labels = payload_names(result), address_labels(result)
    rows = []
    for s in streams:
        pts = ", ".join(f"{pt} ({names[pt]})" if pt in names else str(pt)
                        for pt in s.get("payload_types") or [])
        srtp = s.get("srtp")
        if isinstance(srtp, dict):
            auth = "auth failed" if srtp.get("auth_failed") else (
                "authenticated" if srtp.get("authenticated") else "not authenticated")
            srtp_text = f"{srtp.get('suite') or 'SRTP'} ({auth}, keys: {srtp.get('key_source') or '?'})"
        else:
            srtp_text = "no (cleartext RTP)"
        rows.append(f'<tr><td class="mono">{_e(s.get("ssrc"))}</td><td>{_e(label_for(s.get("src"), labels))}</td>'
                    f'<td>{_e(label_for(s.get("dst"), labels))}</td><td>{_e(pts)}</td>'
                    f'<td class="num">{_e(s.get("packets"))}</td><td class="num">{_e(s.get("lost"))}</td>'
                    f'<td class="num">{_e(s.get("jitter_ms"))}</td><td>{_e(srtp_text)}</td></tr>')
    return ('<h3>RTP streams</h3><table class="streams"><tr><th>SSRC</th><th>from</th><th>to</th>'
            '<th>payload types</th><th>packets</th><th>lost</th><th>jitter (ms)</th><th>SRTP</th></tr>'
            + "".join(rows) + "</table>")


def _dtmf_strip(rows: list[dict[str, Any]]) -> str:
    times = [r["time"] for r in rows if isinstance(r.get("time"), (int, float))]
    if not times:
        return ""
    t_min, t_max = min(times), max(times)
    span = max(t_max - t_min, 1e-3)
    left, width, lane = 90, 860, 34
    y_of = {"sent": 22, "wire": 22 + lane, "received": 22 + 2 * lane}
    parts = [f'<svg class="dtmf-strip" width="{left + width + 30}" '
             f'height="{22 + 3 * lane}">']
    for where, y in y_of.items():
        parts.append(f'<text class="row-label" x="4" y="{y + 4}">{where}</text>'
                     f'<line x1="{left}" y1="{y}" x2="{left + width}" y2="{y}" stroke="#d0d7de"/>')
    for r in rows:
        if r.get("where") not in y_of or not isinstance(r.get("time"), (int, float)):
            continue
        x = left + (r["time"] - t_min) / span * width
        y = y_of[r["where"]]
        title = f"{r['time']:.3f}s {r['where']} {r.get('agent')} {r.get('method') or ''}"
        parts.append(f'<g class="{_e(r["where"])}"><title>{_e(title)}</title>'
                     f'<circle cx="{x:.1f}" cy="{y}" r="11"/>'
                     f'<text x="{x:.1f}" y="{y + 5}">{_e(r.get("digit"))}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def _dtmf_section(result: ScenarioResult) -> str:
    rows = dtmf_timeline(result)
    if not rows:
        return ""
    table = "".join(
        f'<tr class="dtmf {_e(r["where"])}"><td class="num">{_e(_t(r.get("time")))}</td>'
        f'<td>{_e(r["where"])}</td><td>{_e(r.get("agent"))}</td><td class="mono">{_e(r.get("digit"))}</td>'
        f'<td>{_e(r.get("method"))}</td><td class="num">{_e(r.get("duration_ms"))}</td></tr>'
        for r in rows)
    return ('<h3>DTMF timeline</h3>' + _dtmf_strip(rows) +
            f'<details{" open" if len(rows) <= 12 else ""}><summary>{len(rows)} DTMF events</summary>'
            '<table class="dtmf"><tr><th>time</th><th>where</th><th>agent / path</th><th>digit</th>'
            f'<th>method</th><th>duration (ms)</th></tr>{table}</table></details>')


def _t(value: Any) -> str:
    return f"{value:.3f}s" if isinstance(value, (int, float)) else "-"


def _agents_section(result: ScenarioResult) -> str:
    if not result.agents:
        return ""
    rows = []
    for name, facts in result.agents.items():
        facts = facts if isinstance(facts, dict) else {"value": facts}
        record = record_of(facts)
        calls = record.summary() if record is not None else []
        rows.append(f'<tr><td>{_e(name)}</td><td>{_e(facts.get("type"))}</td><td class="mono">{_e(facts.get("uri"))}</td>'
                    f'<td>{"<br>".join(_e(c) for c in calls) or "-"}</td>'
                    f'<td><details><summary>all facts</summary><pre>'
                    f'{_e(json.dumps(facts, indent=2, default=str))}</pre></details></td></tr>')
    return ('<h3>Agents</h3><table class="agents"><tr><th>agent</th><th>type</th><th>uri</th>'
            '<th>calls / stats</th><th>facts</th></tr>' + "".join(rows) + "</table>")


def _artifacts_section(result: ScenarioResult, base_dir: Path) -> str:
    if not result.artifacts:
        return ""
    items = "".join(f'<li><a href="{_e(artifact_href(path, base_dir))}">{_e(label)}</a> '
                    f'<span class="muted mono">{_e(path)}</span></li>'
                    for label, path in sorted(result.artifacts.items()))
    return f'<h3>Artifacts</h3><ul class="artifacts">{items}</ul>'


def _scenario_section(result: ScenarioResult, sid: str, base_dir: Path) -> str:
    head = (f'<section class="scenario {_e(result.status)}" id="{sid}">'
            f'<h2>{_badge(result)} {_e(result.name)}'
            f' <span class="muted">({_e(duration_text(result.duration))})</span></h2>'
            f'<p class="mono muted">{_e(result.location or result.file)}</p>')
    if result.description:
        head += f"<p>{_e(result.description)}</p>"
    if result.tags:
        head += f'<p class="muted">tags: {_e(", ".join(result.tags))}</p>'
    if result.error:
        head += f'<div class="errorbox">{_e(result.error)}</div>'
    for warning in result.warnings or []:
        head += f'<div class="warnbox">warning: {_e(warning)}</div>'
    return (head + _checks_section(result) + _ladder_section(result, sid) + _streams_section(result)
            + _dtmf_section(result) + _agents_section(result) + _artifacts_section(result, base_dir)
            + "</section>")


def render_html(results: Iterable[ScenarioResult], base_dir: str | os.PathLike = ".",
                secrets: Iterable[str] | None = None) -> str:
    """The whole report page as a string; artifact links are relative to ``base_dir``."""
    results = list(results)
    masked = secrets_of(results, secrets)
    safe = results_from_json_dict(to_json_dict(results, masked))   # redacted copies
    ids = [_slug(r.name, i) for i, r in enumerate(safe)]
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    # what broke comes first: failed, then errored, then passed scenarios (run order within)
    rank = {"failed": 0, "error": 1, "not_run": 3}
    order = sorted(range(len(safe)), key=lambda i: (rank.get(safe[i].status, 2), i))
    body = "".join(_scenario_section(safe[i], ids[i], Path(base_dir)) for i in order)
    page = ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">"
            f'<title>sipscen report</title><style>{CSS}</style></head><body>'
            f'<header class="top"><h1>sipscen report</h1><div class="meta">generated {generated} - '
            f'{len(safe)} scenarios</div></header><main>'
            f'{_summary_section(safe, ids)}{body}</main><script>{JS}</script></body></html>\n')
    return redact_text(page, [*masked, *(escape(s, quote=True) for s in masked)])


def write_html(results: Iterable[ScenarioResult], path: str | os.PathLike,
               secrets: Iterable[str] | None = None) -> Path:
    """Write the self-contained HTML report to ``path`` and return the path."""
    from sipscen.report.atomic import write_text_atomically

    target = Path(path)
    return write_text_atomically(target, "HTML", render_html(results, target.parent, secrets))
