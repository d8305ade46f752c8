"""JUnit XML for CI (Jenkins, GitLab), valid against the Jenkins JUnit schema.

One ``<testsuite name="sipscen">``; one ``<testcase>`` per scenario
(``classname`` from the scenario file's path, ``name`` the scenario's name).

- a scenario whose checks failed -> one ``<failure>`` whose ``message`` names
  the first failed check with expected, actual and the expectation's
  FILE:LINE, and whose text lists every failed check (Jenkins and GitLab show
  only one failure element per test case, so all reasons go into that one);
- a scenario that errored (invalid file, broken tool) -> ``<error>``;
- ``<system-out>`` holds every check and the tails of the agent logs
  (bounded), read from the artifact paths;
- the schema allows ``<properties>`` only on the test suite, so tags and
  artifact paths are suite properties named ``<scenario>.tags`` and
  ``<scenario>.artifact.<label>``.

Every secret is masked.
"""
from __future__ import annotations

import os
import re
import socket
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from sipscen.core.results import ERROR, FAILED, NOT_RUN, ScenarioResult
from sipscen.core.redaction import redact_text, secrets_of
from sipscen.report.text import check_line, check_lines
from sipscen.report.views import log_artifacts, log_tail
from sipscen.core.atomic import write_atomically

SUITE_NAME = "sipscen"
LOG_TAIL_LINES = 40
LOG_TAIL_BYTES = 8192
_XML_INVALID = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SUFFIXES = (".sipscen.yaml", ".sipscen.yml", ".yaml", ".yml")


def classname_for(file: str) -> str:
    """'examples/demo.sipscen.yaml' -> 'examples.demo' (Jenkins splits package/class on dots)."""
    path = str(file or "scenario")
    try:
        if os.path.isabs(path):
            rel = os.path.relpath(path)
            if not rel.startswith(".."):
                path = rel
    except ValueError:
        pass
    for suffix in _SUFFIXES:
        if path.endswith(suffix):
            path = path[: -len(suffix)]
            break
    parts = [p.replace(".", "_") for p in Path(path).as_posix().split("/") if p not in ("", ".")]
    return ".".join(parts) or "scenario"


def _clean(text: Any, secrets: list[str]) -> str:
    return _XML_INVALID.sub("\ufffd", redact_text(str(text), secrets))


def _failure_message(result: ScenarioResult) -> str:
    failed = [c for c in result.checks if c.status == FAILED]
    if not failed:
        return result.error or "scenario failed"
    more = f" (and {len(failed) - 1} more failed checks)" if len(failed) > 1 else ""
    return check_line(failed[0]) + more


def _system_out(result: ScenarioResult) -> str:
    status = ("passed, no checks" if result.status == "passed" and result.no_checks
              else result.status)
    lines = [f"scenario: {result.name}", f"file: {result.location or result.file}",
             f"status: {status}  duration: {result.duration:.3f}s"]
    if result.tags:
        lines.append("tags: " + ", ".join(result.tags))
    if result.error:
        lines.append(f"error: {result.error}")
    lines += [f"warning: {w}" for w in result.warnings or []]
    lines.append("checks:")
    folder = (result.artifacts or {}).get("dir")
    for check in result.checks:
        lines.append(f"  [{check.status.upper()}] {check_line(check)}")
        if check.recording:             # the audio it judged (report/html_heard.py)
            where = f"{folder}/{check.recording}" if folder else check.recording
            lines.append(f"      heard: {where}")
    if not result.checks:
        lines.append("  (none evaluated)")
    if result.artifacts:
        lines.append("artifacts:")
        lines += [f"  {label}: {path}" for label, path in sorted(result.artifacts.items())]
    for label, path in log_artifacts(result).items():
        tail = log_tail(path, LOG_TAIL_LINES, LOG_TAIL_BYTES)
        if tail is not None:
            lines += ["", f"----- {label} (last {LOG_TAIL_LINES} lines of {path}) -----", tail]
    return "\n".join(lines) + "\n"


def _testcase(result: ScenarioResult, secrets: list[str]) -> ET.Element:
    case = ET.Element("testcase", {
        "classname": _clean(classname_for(result.file), secrets),
        "name": _clean(result.name or classname_for(result.file), secrets),
        "time": f"{float(result.duration or 0.0):.3f}",
    })
    if result.status == NOT_RUN:
        ET.SubElement(case, "skipped", {"message": _clean(result.error or "not run", secrets)})
        return case
    failed = [c for c in result.checks if c.status == FAILED]
    errored_checks = [c for c in result.checks if c.status == ERROR]
    if result.status == ERROR or errored_checks:
        reason = result.error or (check_line(errored_checks[0]) if errored_checks else "error")
        body = [f"at {result.location}" if result.location else ""]
        body += [f"check error: {check_line(c)}" for c in errored_checks]
        err = ET.SubElement(case, "error", {"type": "error", "message": _clean(reason, secrets)})
        err.text = _clean("\n".join([reason, *filter(None, body)]), secrets)
    if failed or (result.status == FAILED and not errored_checks):
        failure = ET.SubElement(case, "failure", {
            "type": "check" if failed else "step",
            "message": _clean(_failure_message(result), secrets)})
        body = [line for c in failed for line in check_lines(c)]
        if result.error:
            body.append(f"error: {result.error}")
        failure.text = _clean("\n".join(body) or _failure_message(result), secrets)
    out = ET.SubElement(case, "system-out")
    out.text = _clean(_system_out(result), secrets)
    return case


def _properties(results: list[ScenarioResult], secrets: list[str]) -> ET.Element | None:
    props = ET.Element("properties")
    for result in results:
        if result.tags:
            ET.SubElement(props, "property", {"name": _clean(f"{result.name}.tags", secrets),
                                              "value": _clean(",".join(result.tags), secrets)})
        for label, path in sorted((result.artifacts or {}).items()):
            ET.SubElement(props, "property", {
                "name": _clean(f"{result.name}.artifact.{label}", secrets),
                "value": _clean(path, secrets)})
    return props if len(props) else None


def junit_tree(results: Iterable[ScenarioResult],
               secrets: Iterable[str] | None = None) -> ET.ElementTree:
    """The JUnit document as an ElementTree (secrets masked)."""
    results = list(results)
    masked = secrets_of(results, secrets)
    cases = [_testcase(result, masked) for result in results]
    errors = sum(1 for c in cases if c.find("error") is not None)
    failures = sum(1 for c in cases if c.find("error") is None and c.find("failure") is not None)
    suite = ET.Element("testsuite", {
        "name": SUITE_NAME, "tests": str(len(results)),
        "failures": str(failures), "errors": str(errors),
        "skipped": str(sum(1 for c in cases if c.find("skipped") is not None)),
        "time": f"{sum(float(r.duration or 0.0) for r in results):.3f}",
        "timestamp": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"),
        "hostname": _clean(socket.gethostname(), masked),
    })
    props = _properties(results, masked)
    if props is not None:
        suite.append(props)
    suite.extend(cases)
    ET.indent(suite, space="  ")
    return ET.ElementTree(suite)


def write_junit(results: Iterable[ScenarioResult], path: str | os.PathLike,
                secrets: Iterable[str] | None = None) -> Path:
    """Write the JUnit XML report to ``path`` (folders created) and return the path."""

    tree = junit_tree(results, secrets)
    return write_atomically(path, "JUnit",
                            lambda f: tree.write(f, encoding="utf-8", xml_declaration=True))
