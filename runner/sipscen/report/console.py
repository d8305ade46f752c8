"""The console view (rich): live progress while running, then the verdicts.

- :class:`LiveProgress` is an :class:`~sipscen.core.events.EventBoard`
  listener: ``board.add_listener(LiveProgress(console).bind(scenario.name))``.
  It prints one line per event (scenario start/end, call states, media, DTMF
  received, steps, signals). It only prints lines (no live widgets), so the
  output is the same in a terminal and in a CI log.
- :func:`render_results` prints, per scenario, a status line, a table of every
  check (expected, actual, the expectation's FILE:LINE; failed rows
  highlighted), the error message, the artifacts folder; then a summary line.

On a non-terminal (CI logs, pipes) rich emits no colour codes and the tables
use ASCII borders. Every text is redacted and escaped (no rich markup from
user data).
"""
from __future__ import annotations

import io
import threading
from typing import Any, Iterable

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from sipscen.core.events import Event
from sipscen.core.results import ERROR, FAILED, NOT_RUN, PASSED, ScenarioResult, summarise
from sipscen.core.redaction import redact_text, secrets_of
from sipscen.report import values
from sipscen.report.text import duration_text, terminal_safe
from sipscen.report.views import artifacts_folder

STATUS_STYLE = {PASSED: "bold green", FAILED: "bold red", ERROR: "bold magenta",
                NOT_RUN: "bold yellow"}
STATUS_WORD = {PASSED: "PASS", FAILED: "FAIL", ERROR: "ERROR", NOT_RUN: "NOT RUN"}
CI_MIN_WIDTH = 120


def make_console(stream: Any = None, no_color: bool = False) -> Console:
    """A Console suited to sipscen output (no automatic highlighting of numbers/paths)."""
    return Console(file=stream, highlight=False, no_color=no_color, soft_wrap=False)


def shown(value: Any, secrets: Iterable[str] | None, one_line: bool = False) -> str:
    """User or wire text as the console prints it: secrets masked, then every
    control character escaped (report/text.py terminal_safe)."""
    return terminal_safe(redact_text(str(value), secrets), one_line)


def _status_text(status: str) -> Text:
    return Text(STATUS_WORD.get(status, status.upper()), style=STATUS_STYLE.get(status, "bold"))


class LiveProgress:
    """A callable EventBoard listener printing live progress lines.

    ``bind(name, secrets)`` returns a listener for one scenario that prefixes its
    lines with the scenario name (useful when scenarios run in parallel); all
    bound listeners share the console and one lock, so lines never interleave.
    """

    def __init__(self, console: Console, scenario: str | None = None,
                 secrets: Iterable[str] | None = None, _lock: threading.Lock | None = None):
        self.console = console
        self.scenario = scenario
        self.secrets = list(secrets or ())
        self._lock = _lock or threading.Lock()

    def bind(self, scenario: str, secrets: Iterable[str] | None = None) -> "LiveProgress":
        return LiveProgress(self.console, scenario, [*self.secrets, *(secrets or ())], self._lock)

    def __call__(self, event: Event) -> None:
        line = self.format(event)
        if line is None:
            return
        with self._lock:
            self.console.print(line, highlight=False, soft_wrap=True)

    # -- formatting ---------------------------------------------------------------
    def format(self, event: Event) -> Text | None:
        """The progress line for ``event`` (None for events not worth a line)."""
        data = dict(event.data or {})
        body = self._describe(event.kind, data)
        if body is None:
            return None
        text = Text()
        text.append(f"{event.t:8.3f}s ", style="dim")
        if self.scenario:
            text.append(f"[{shown(self.scenario, self.secrets, one_line=True)}] ", style="cyan")
        text.append(f"{self._r(event.agent):<8} ", style="bold")
        text.append_text(body)
        return text

    def _r(self, value: Any) -> str:
        return shown(value, self.secrets)

    def _describe(self, kind: str, data: dict[str, Any]) -> Text | None:
        r = self._r
        if kind.startswith("scenario"):
            status = str(data.get("status") or data.get("state") or kind.split("_")[-1])
            word = {"start": "started", "begin": "started", "end": "finished"}.get(status, status)
            line = Text(f"scenario {r(data.get('name') or self.scenario or '')} ")
            line.append(r(word), style=STATUS_STYLE.get(status, "bold blue"))
            if data.get("file"):
                line.append(f" ({r(data['file'])})", style="dim")
            if data.get("message") or data.get("error"):
                line.append(f" - {r(data.get('message') or data.get('error'))}")
            return line
        if kind == "planned":
            contacts = data.get("contacts") or {}
            return Text("planned " + ", ".join(f"{r(n)}={r(u)}" for n, u in contacts.items()),
                        style="dim")
        if kind == "capture_started":
            return Text(f"capture started -> {r(data.get('path', ''))}", style="dim")
        if kind in ("agents_ready", "services_ready"):
            names = ", ".join(r(n) for n in data.get("names") or [])
            return Text(f"{kind.split('_')[0]} ready: {names}", style="dim")
        if kind == "failed":
            return Text(f"failed: {r(data.get('message', ''))}", style="bold red")
        if kind in ("finished", "stopped"):
            return Text(kind, style="dim")
        if kind == "call_state":
            line = Text("call ")
            line.append(r(data.get("state", "?")), style="yellow")
            code = data.get("code")
            if code not in (None, "", 0):
                line.append(f" {r(code)} {r(data.get('reason', '') or '')}".rstrip())
            return line
        if kind == "media":
            line = Text("media ")
            line.append(r(data.get("state", "?")), style="yellow")
            if data.get("codec"):
                line.append(f" codec={r(data['codec'])}")
            srtp = data.get("srtp")
            if srtp:
                suite = srtp.get("suite") if isinstance(srtp, dict) else srtp
                line.append(f" srtp={r(suite)}", style="green")
            return line
        if kind in ("dtmf", "dtmf_sent"):
            line = Text("DTMF sent " if kind == "dtmf_sent" else "DTMF received ")
            line.append(r(data.get("digit", "?")), style="bold cyan")
            if data.get("method"):
                line.append(f" ({r(data['method'])})")
            return line
        if kind == "signal":
            return Text(f"signal {r(data.get('name', data.get('value', '?')))}", style="blue")
        if kind == "step":
            status = str(data.get("status", ""))
            style = {"failed": "bold red", "done": "green", "ok": "green"}.get(status, "")
            what = data.get("step") or data.get("action") or data.get("kind") or ""
            line = Text(f"step {r(data.get('index', '?'))} {r(what)} ")
            line.append(r(status), style=style)
            if data.get("message"):
                line.append(f" - {r(data['message'])}")
            return line
        # received headers are in the JSON report; the live line names them only
        extras = " ".join(f"{r(k)}={r(v)}" if k != "headers" else
                          f"headers=[{r(', '.join(map(str, v or {})))}]"
                          for k, v in data.items())
        return Text(f"{r(kind)} {extras}".rstrip())


INLINE_TABLE_CHARS = 44    # a value table wider than this is printed under the checks


def _value(value: Any, secrets: list[str], style: str, below: list, label: str) -> Text:
    """An expected/actual cell (report/values.py): one line of text, or a small table
    as aligned lines when it fits the cell; a wider one goes to ``below`` (printed
    under the checks table, full width) and the cell says so."""
    t = values.table(value)
    if t is None:
        return Text(shown(values.text(value, 2000), secrets), style=style)
    lines = t.lines()
    if max(map(len, lines), default=0) <= INLINE_TABLE_CHARS:
        return Text(shown("\n".join(lines), secrets), style=style)
    below.append((label, lines))
    return Text(f"(table {len(below)} below)", style=style or "dim")


def _check_table(result: ScenarioResult, secrets: list[str], ascii_only: bool,
                 below: list | None = None) -> Table:
    """The checks table; value tables too wide for a cell are added to ``below``."""
    below = [] if below is None else below
    table = Table(box=box.ASCII2 if ascii_only else box.SIMPLE_HEAD, show_edge=not ascii_only,
                  pad_edge=False, expand=False)
    longest = max((len(c.location or "") for c in result.checks), default=0)
    table.add_column("", no_wrap=True)
    table.add_column("check", overflow="fold", ratio=2)
    table.add_column("expected", overflow="fold", ratio=2)
    table.add_column("actual", overflow="fold", ratio=2)
    table.add_column("where", no_wrap=True, min_width=min(longest, 60), overflow="ellipsis")
    for check in result.checks:
        failed = check.status != PASSED
        style = "red" if failed else ""
        name = Text(shown(check.name, secrets), style=style + (" bold" if failed else ""))
        if check.message and failed:
            name.append("\n" + shown(check.message, secrets), style="red")
        table.add_row(
            _status_text(check.status),
            name,
            _value(check.expected, secrets, style, below, f"{check.name}, expected"),
            _value(check.actual, secrets, "bold red" if failed else "", below,
                   f"{check.name}, actual"),
            Text(shown(check.location or "", secrets), style="red" if failed else "dim"),
        )
    return table


def _print_wide(console: Console, renderable: Any, width: int) -> None:
    """Render at ``width`` columns even if ``console`` is narrower (CI logs default to 80)."""
    if width <= console.width:
        console.print(renderable)
        return
    wide = Console(file=io.StringIO(), width=width, no_color=True, highlight=False,
                   force_terminal=False, color_system=None)
    wide.print(renderable)
    console.out(wide.file.getvalue().rstrip("\n"), highlight=False)


def render_result(result: ScenarioResult, console: Console,
                  secrets: Iterable[str] | None = None, show_passed: bool = True) -> None:
    """One scenario: status line, checks table, error, artifacts folder.

    ``show_passed=False`` prints only the status line of a passed scenario (long suites).
    """
    masked = secrets_of([result], secrets)
    ascii_only = not console.is_terminal
    head = Text()
    head.append_text(_status_text(result.status))
    if result.no_checks and result.status == PASSED:
        head.append(" (no checks)", style="bold yellow")
    head.append(f" {shown(result.name, masked, one_line=True)}", style="bold")
    head.append(f"  ({duration_text(result.duration)})  ", style="dim")
    head.append(shown(result.location or result.file or "", masked), style="dim")
    console.print(head, highlight=False, soft_wrap=True)
    if result.status == PASSED and not show_passed:
        return
    if result.error:
        console.print(Text("  error: " + shown(result.error, masked),
                           style=STATUS_STYLE.get(result.status, "red")), soft_wrap=True)
    if result.checks:
        below: list = []
        table = _check_table(result, masked, ascii_only, below)
        if ascii_only:
            _print_wide(console, table, max(console.width, CI_MIN_WIDTH))
        else:
            console.print(table)
        for number, (label, lines) in enumerate(below, 1):
            console.print(Text(f"  table {number}: " + shown(label, masked, one_line=True),
                               style="dim"), soft_wrap=True)
            console.print(Text("\n".join("    " + shown(line, masked) for line in lines)),
                          soft_wrap=True, highlight=False)
    elif result.status not in (ERROR, NOT_RUN) and not result.no_checks:
        console.print(Text("  (no checks)", style="dim"))
    for warning in result.warnings or []:
        console.print(Text("  warning: " + shown(warning, masked), style="yellow"),
                      soft_wrap=True)
    folder = artifacts_folder(result)
    if folder:
        console.print(Text("  artifacts: " + shown(folder, masked), style="dim"),
                      soft_wrap=True)


def summary_text(results: list[ScenarioResult]) -> Text:
    """'3 scenarios: 1 passed, 1 failed, 1 error in 4.21s' styled by the overall status."""
    s = summarise(results)
    text = Text()
    text.append_text(_status_text(s["status"]))
    text.append(f" {s['total']} scenario{'s' if s['total'] != 1 else ''}: ")
    text.append(f"{s[PASSED]} passed", style="green" if s[PASSED] else "")
    if s.get("no_checks"):
        text.append(f" ({s['no_checks']} with no checks)", style="yellow")
    text.append(", ")
    text.append(f"{s[FAILED]} failed", style="red" if s[FAILED] else "")
    text.append(", ")
    text.append(f"{s[ERROR]} error", style="magenta" if s[ERROR] else "")
    if s[NOT_RUN]:
        text.append(f", {s[NOT_RUN]} not run", style="yellow")
    text.append(f" in {duration_text(s['wall_time'])}")
    if s["duration"] > s["wall_time"] + 0.5:      # parallel: say how much work that was
        text.append(f" (scenarios' own time {duration_text(s['duration'])})")
    return text


def render_results(results: Iterable[ScenarioResult], console: Console,
                   secrets: Iterable[str] | None = None, show_passed: bool = True) -> None:
    """Every scenario's verdict and checks, then the summary line.

    ``show_passed=False``: passed scenarios get their status line only.
    """
    results = list(results)
    for result in results:
        render_result(result, console, secrets, show_passed)
        if result.status != PASSED or show_passed:
            console.print()
    console.print(summary_text(results), highlight=False)
