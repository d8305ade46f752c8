"""pytest plugin: scenario files collected and run as pytest items.

Installed with the package (``pytest11`` entry point ``sipscen``). pytest
collects files named ``*.sipscen.yaml`` / ``*.sipscen.yml``; other patterns can
be added with the ini option ``sipscen_globs`` (e.g.
``pytest -o sipscen_globs='*.yaml' examples/``: then only YAML files whose top
level has an ``agents:`` key are taken, so shared fragments and SUT configs are
left alone). Each scenario of a file (one per ``parametrize:`` set) is one
item, run through :func:`sipscen.engine.run.run_scenario`.

A failing item shows its failed checks with expected/actual and the scenario
file's FILE:LINE:COL, not a Python traceback; an invalid file is an item that
fails with its ``FILE:LINE:COL: message``. Tags become markers (``-m srtp``),
and artifact paths, tags and the status go into ``user_properties`` (pytest's
own ``--junitxml`` writes them as properties).

Options: ``--sipscen-var NAME=VALUE`` (repeatable), ``--sipscen-artifacts DIR``
(default ``sipscen-artifacts``), ``--sipscen-timeout SECONDS``.
"""
from __future__ import annotations

import fnmatch
import re
from pathlib import Path
from typing import Any, Iterator

import pytest

from sipscen.core.results import ERROR, PASSED, ScenarioResult
from sipscen.core.errors import SipscenError
from sipscen.core.redaction import redact_text
from sipscen.report.text import check_lines, duration_text
from sipscen.report.views import artifacts_folder

DEFAULT_GLOBS = ["*.sipscen.yaml", "*.sipscen.yml"]
_MARKER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sipscen", "sipscen scenario files")
    group.addoption("--sipscen-var", action="append", default=[], metavar="NAME=VALUE",
                    help="a ${NAME} variable for scenario files (repeatable)")
    group.addoption("--sipscen-artifacts", default=None, metavar="DIR",
                    help="where each scenario's artifacts folder goes (default: sipscen-artifacts)")
    group.addoption("--sipscen-timeout", type=float, default=None, metavar="SECONDS",
                    help="override every scenario's overall timeout")
    group.addoption("--sipscen-mutate", action="store_true",
                    help="also judge falsified copies of every expectation on the run's "
                         "evidence: a copy that still passes fails the item (docs/JUDGE.md)")
    group.addoption("--sipscen-exemptions", default=None, metavar="FILE",
                    help="survivors of --sipscen-mutate true by design, with their reasons")
    parser.addini("sipscen_globs", type="args", default=list(DEFAULT_GLOBS),
                  help="file name patterns collected as sipscen scenarios "
                       "(default: *.sipscen.yaml *.sipscen.yml)")


def _variables(config: pytest.Config) -> dict[str, str]:
    variables = {}
    for item in config.getoption("--sipscen-var") or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise pytest.UsageError(f"--sipscen-var expects NAME=VALUE, got {item!r}")
        variables[name] = value
    return variables


def _is_collected(path: Path, globs: list[str]) -> bool:
    for pattern in globs:
        if fnmatch.fnmatch(path.name, pattern):
            if pattern in DEFAULT_GLOBS:
                return True
            from sipscen.scenario.discover import is_scenario_file  # lazy: the plugin loads in every pytest session; sipscen's own code only when used
            return is_scenario_file(path)
    return False


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if _is_collected(file_path, parent.config.getini("sipscen_globs")):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFailed(Exception):
    """Raised by an item whose scenario did not pass; carries the result."""

    def __init__(self, result: ScenarioResult, secrets: list[str]):
        super().__init__(result.status)
        self.result = result
        self.secrets = secrets


class InvalidScenario(Exception):
    """A scenario file that does not load (schema, unknown key, unknown agent)."""


class VacuousChecks(Exception):
    """--sipscen-mutate: a passing scenario with an expectation that cannot fail here."""

    def __init__(self, text: str):
        super().__init__(text)
        self.text = text


class ScenarioFile(pytest.File):
    """One scenario file: one item per scenario (per parametrize set)."""

    def collect(self) -> Iterator[pytest.Item]:
        from sipscen.scenario import load_scenarios  # lazy: the plugin loads in every pytest session; sipscen's own code only when used

        try:
            scenarios = load_scenarios(self.path, _variables(self.config))
        except SipscenError as exc:
            yield ScenarioItem.from_parent(self, name=self.path.name, scenario=None, problem=str(exc))
            return
        names: dict[str, int] = {}
        for scenario in scenarios:
            count = names[scenario.name] = names.get(scenario.name, 0) + 1
            name = scenario.name if count == 1 else f"{scenario.name}[{count}]"
            yield ScenarioItem.from_parent(self, name=name, scenario=scenario, problem=None)


class ScenarioItem(pytest.Item):
    """One scenario run by the engine; failures are reported as checks, not tracebacks."""

    def __init__(self, *, scenario: Any, problem: str | None, **kwargs: Any):
        super().__init__(**kwargs)
        self.scenario = scenario
        self.problem = problem
        self.result: ScenarioResult | None = None
        for tag in getattr(scenario, "tags", ()) or ():
            if _MARKER_NAME.match(tag):
                self.config.addinivalue_line("markers", f"{tag}: sipscen scenario tag")
                self.add_marker(tag)
            self.keywords[tag] = True

    @property
    def secrets(self) -> list[str]:
        return sorted(getattr(self.scenario, "secrets", ()) or ())

    def runtest(self) -> None:
        if self.problem is not None:
            raise InvalidScenario(self.problem)
        from sipscen.engine.run import RunOptions, run_scenario  # lazy: the plugin loads in every pytest session; sipscen's own code only when used

        artifacts = self.config.getoption("--sipscen-artifacts") or "sipscen-artifacts"
        root = Path(artifacts)
        if not root.is_absolute():
            root = Path(self.config.invocation_params.dir) / root
        options = RunOptions(artifacts_root=root, timeout=self.config.getoption("--sipscen-timeout"))
        result = run_scenario(self.scenario, options)
        if not result.secrets:
            result.secrets = self.secrets
        self.result = result
        self.user_properties.append(("sipscen_status", result.status))
        if result.tags:
            self.user_properties.append(("sipscen_tags", ",".join(result.tags)))
        for label, path in sorted(result.artifacts.items()):
            self.user_properties.append((f"artifact.{label}", redact_text(path, self.secrets)))
        if result.status != PASSED:
            raise ScenarioFailed(result, self.secrets)
        if self.config.getoption("--sipscen-mutate"):
            self._mutate(result)

    def _mutate(self, result: ScenarioResult) -> None:
        """Every expectation's mutants judged on the evidence the run saved."""
        from sipscen.engine.judge import judge_folder  # lazy: the plugin loads in every pytest session; sipscen's own code only when used
        from sipscen.engine.mutation import load_exemptions, mutate_scenario  # lazy: the plugin loads in every pytest session; sipscen's own code only when used
        from sipscen.report.mutation import lines  # lazy: the plugin loads in every pytest session; sipscen's own code only when used

        folder = Path(result.artifacts.get("dir") or "")
        exemptions = self.config.getoption("--sipscen-exemptions")
        if exemptions and not Path(exemptions).is_absolute():
            exemptions = Path(self.config.invocation_params.dir) / exemptions
        _, scenario, ev = judge_folder(folder, self.path,
                                       variables=_variables(self.config))
        report = mutate_scenario(scenario, ev, load_exemptions(
            Path(exemptions) if exemptions else None))
        self.user_properties.append(("sipscen_mutation", f"{report.killed}/{report.total}"))
        if report.failing:
            raise VacuousChecks("\n".join(lines([report])))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        exc = excinfo.value
        if isinstance(exc, ScenarioFailed):
            return failure_text(exc.result, exc.secrets)
        if isinstance(exc, VacuousChecks):
            return redact_text(exc.text, self.secrets)
        if isinstance(exc, InvalidScenario):
            return f"invalid scenario file: {redact_text(str(exc), self.secrets)}"
        if isinstance(exc, SipscenError):
            return f"sipscen: {redact_text(str(exc), self.secrets)}"
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        line = None
        location = getattr(self.scenario, "location", None)
        if location is not None and getattr(location, "line", None):
            line = int(location.line) - 1
        return self.path, line, f"sipscen scenario: {self.name}"


def failure_text(result: ScenarioResult, secrets: list[str]) -> str:
    """What pytest prints for a scenario that did not pass (no traceback)."""
    word = "ERROR" if result.status == ERROR else "FAILED"
    lines = [f"scenario {result.name} {word} after {duration_text(result.duration)} "
             f"({result.location or result.file})"]
    if result.error:
        lines.append(f"  error: {result.error}")
    failed = [c for c in result.checks if c.status != PASSED]
    if failed:
        lines.append(f"  {len(failed)} of {len(result.checks)} checks did not pass:")
        for check in failed:
            first, *rest = check_lines(check)        # tables of figures under the line
            lines.append(f"    [{check.status.upper()}] {first}")
            lines += [f"    {line}" for line in rest]
    folder = artifacts_folder(result)
    if folder:
        lines.append(f"  artifacts: {folder}")
    return redact_text("\n".join(lines), secrets)
