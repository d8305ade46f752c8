"""Readable rich tables for ``sipscen analyze`` (without ``--json``).

``render_analysis(analysis, console)`` prints a summary line, warnings, then
tables of calls, RTP streams and DTMF events.  It reads only the JSON
contract (``analysis.to_dict()``), so it also renders a saved analysis.
"""
from __future__ import annotations

from datetime import datetime, timezone
from itertools import islice
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from sipscen.report.text import terminal_safe


def _c(value: Any, style: str = "") -> Text:
    """A cell or line of capture text: no rich markup, no terminal control codes
    (a Call-ID or a request line is whatever the sender put on the wire)."""
    return Text(terminal_safe("-" if value is None else str(value)), style=style)


def _t(value: Any) -> str:
    """Capture time as UTC ``HH:MM:SS.mmm`` (seconds for small, relative times)."""
    if not isinstance(value, (int, float)):
        return "-"
    if value < 86400 * 365:
        return f"{value:.3f}"
    try:
        stamp = datetime.fromtimestamp(value, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):   # beyond time_t or the year 9999 (a pcapng's
        return f"{value:.3f}"                      # if_tsresol / if_tsoffset can say so)
    return stamp.strftime("%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}"


# A capture of a load test holds tens of thousands of calls: the console shows
# the first rows of each table and says how many more the JSON holds.
MAX_ROWS = 200


def _more(console: Console, shown: int, total: int, what: str) -> None:
    if total > shown:
        console.print(Text(f"... {total - shown} more {what} not shown (sipscen analyze --json "
                           "lists them all)", style="dim"))


def render_analysis(analysis, console: Console) -> None:
    if hasattr(analysis, "iter_calls"):     # an Analysis: build only the rows shown
        data = {"packets": analysis.packets, "warnings": analysis.warnings, "dtmf": analysis.dtmf}
        calls = list(islice(analysis.iter_calls(), MAX_ROWS))
        streams = list(islice(analysis.iter_streams(), MAX_ROWS))
        n_calls, n_streams = analysis.call_count, analysis.stream_count
    else:                                   # a saved `--json` document
        data = dict(analysis)
        calls, streams = data.get("calls", []), data.get("rtp_streams", [])
        n_calls, n_streams = len(calls), len(streams)
        calls, streams = calls[:MAX_ROWS], streams[:MAX_ROWS]
    dtmf = data.get("dtmf", [])
    path = getattr(analysis, "path", "")
    head = Text.assemble((terminal_safe(f"{path}  ") if path else "", "bold"),
                         f"{data.get('packets', 0)} packets, {n_calls} calls, "
                         f"{n_streams} RTP streams, {len(dtmf)} DTMF events")
    console.print(head)
    for w in data.get("warnings", []):
        console.print(_c(f"warning: {w}", style="yellow"))

    if calls:
        table = Table(title="SIP calls", title_justify="left", show_lines=False)
        for col in ("Call-ID", "start (UTC)", "messages", "status", "ladder"):
            table.add_column(col, overflow="fold", no_wrap=col == "start (UTC)")
        for c in calls:
            msgs = c.get("messages", [])
            ladder = ", ".join(m.get("summary", "").split(" sip")[0] for m in msgs[:12])
            if len(msgs) > 12:
                ladder += f", ... (+{len(msgs) - 12})"
            status = c.get("status")
            table.add_row(_c(c.get("call_id")), _t(c.get("start")), str(len(msgs)),
                          _c(status), _c(ladder))
        console.print(table)
        _more(console, len(calls), n_calls, "calls")

    if streams:
        table = Table(title="RTP streams", title_justify="left")
        for col in ("SSRC", "source", "destination", "PT", "packets", "lost", "jitter ms", "SRTP", "call"):
            table.add_column(col, overflow="fold", no_wrap=col in ("SSRC", "packets", "lost"))
        for s in streams:
            srtp = s.get("srtp")
            if srtp is None:
                sec = Text("plain RTP", style="red" if any(x.get("srtp") for x in streams) else "")
            elif srtp.get("authenticated") and not srtp.get("auth_failed"):
                sec = _c(f"{srtp.get('suite')} ({srtp.get('authenticated')} auth, {srtp.get('key_source')} key)",
                         style="green")
            else:
                sec = _c(f"{srtp.get('suite') or 'SRTP?'}: {srtp.get('authenticated', 0)} auth, "
                         f"{srtp.get('auth_failed', 0)} failed", style="red")
            codecs = s.get("codecs") or {}
            pts = ", ".join(f"{pt} {codecs.get(str(pt), '')}".strip() for pt in s.get("payload_types", []))
            table.add_row(_c(s.get("ssrc", "")), _c(s.get("src", "")), _c(s.get("dst", "")), _c(pts),
                          str(s.get("packets")), str(s.get("lost")), f"{s.get('jitter_ms', 0):.2f}",
                          sec, _c(s.get("call_id") or "-"))
        console.print(table)
        _more(console, len(streams), n_streams, "RTP streams")

    if dtmf:
        table = Table(title=_c(f"DTMF: {''.join(str(d.get('digit')) for d in dtmf)}"),
                      title_justify="left")
        for col in ("time (UTC)", "digit", "method", "ms", "volume", "PT", "SSRC", "source -> destination"):
            table.add_column(col, overflow="fold", no_wrap=col in ("time (UTC)", "SSRC", "method"))
        for d in dtmf[:MAX_ROWS]:
            table.add_row(_t(d.get("time")), _c(d.get("digit"), style="bold"), _c(d.get("method", "")),
                          "-" if d.get("duration_ms") is None else str(d.get("duration_ms")),
                          "-" if d.get("volume") is None else str(d.get("volume")),
                          "-" if d.get("payload_type") is None else str(d.get("payload_type")),
                          _c(d.get("ssrc") or "-"), _c(f"{d.get('src')} -> {d.get('dst')}"))
        console.print(table)
        _more(console, min(len(dtmf), MAX_ROWS), len(dtmf), "DTMF events")
    elif not calls and not streams:
        console.print("nothing SIP or RTP found in this capture")
