"""From a scenario file to the frozen model: load -> substitute -> validate -> check -> build.

Public entry points (re-exported by ``sipscen.scenario``):

* :func:`load_scenario` - one :class:`~sipscen.core.model.Scenario`, or the
  first ScenarioError;
* :func:`load_scenarios` - one Scenario per ``parametrize:`` set (or one);
* :func:`validate_file` - every ScenarioError of a file (``sipscen validate``).

Each stage stops the pipeline when it finds errors (a later stage would only
report consequences): YAML/includes, then variables, then the repeats written
out (``repeats.py``), then the schema (most specific error first), then the
semantic checks.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

from sipscen.core.errors import Location, ScenarioError
from sipscen.scenario.includes import expand_includes, parameter_sets_of
from sipscen.scenario.loader import load_yaml_file
from sipscen.scenario.marks import MarkedMap, copy_marked, format_path, locate, to_plain
from sipscen.core.model import (AgentSpec, CaptureSpec, Expectation, Scenario, ServiceSpec,
                                   Step, parse_duration)
from sipscen.scenario.schema import coerce_substituted, schema_errors
from sipscen.scenario.repeats import expand_repeats
from sipscen.scenario.semantic import SemanticChecker
from sipscen.scenario.semantic_config import capture_errors, config_errors
from sipscen.scenario.unicode_text import visible
from sipscen.scenario.variables import NOT_SUBSTITUTED, substitute
from sipscen.capture.tcpdump import size_bytes

DEFAULT_TIMEOUT = 60.0
ENDPOINT_DEFAULTS = {"address": "127.0.0.1", "port": "auto", "transport": "udp"}


def load_scenario(path: Path | str, variables: Mapping[str, str] | None = None, *,
                  environ: Mapping[str, str] | None = None) -> Scenario:
    """Load one scenario file; raise the first ScenarioError.

    A file with several ``parametrize:`` sets is an error here: use
    :func:`load_scenarios`.
    """
    scenarios = load_scenarios(path, variables, environ=environ)
    if len(scenarios) != 1:
        raise ScenarioError(f"the file is parametrized into {len(scenarios)} scenarios; "
                            "load it with load_scenarios()", scenarios[0].location,
                            "parametrize")
    return scenarios[0]


def load_scenarios(path: Path | str, variables: Mapping[str, str] | None = None, *,
                   environ: Mapping[str, str] | None = None) -> list[Scenario]:
    """Load a scenario file: one Scenario per parameter set; raise the first ScenarioError."""
    scenarios, errors = _compile_all(path, variables, environ)
    if errors:
        raise errors[0]
    return scenarios


def validate_file(path: Path | str, variables: Mapping[str, str] | None = None, *,
                  environ: Mapping[str, str] | None = None) -> list[ScenarioError]:
    """Every error of a scenario file (of its first failing stage); [] when valid."""
    return _compile_all(path, variables, environ)[1]


def compile_file(path: Path | str, variables: Mapping[str, str] | None = None, *,
                 environ: Mapping[str, str] | None = None
                 ) -> tuple[list[Scenario], list[ScenarioError]]:
    """(scenarios, []) or ([], every error of the first failing stage)."""
    return _compile_all(path, variables, environ)


def duplicate_names(scenarios: list[Scenario]) -> list[ScenarioError]:
    """A name given twice among ``scenarios`` (a folder): reports, ``-k`` and merged
    shards tell scenarios apart by name. Each repeat is an error at its name,
    naming the first."""
    first: dict[str, Scenario] = {}
    errors = []
    for scenario in scenarios:
        seen = first.setdefault(scenario.name, scenario)
        if seen is not scenario:
            where = seen.name_location or seen.location or seen.file
            errors.append(ScenarioError(f"duplicate scenario name '{scenario.name}' (also "
                                        f"{where})", scenario.name_location or
                                        scenario.location, "name"))
    return errors


def _compile_all(path: Path | str, variables: Mapping[str, str] | None,
                 environ: Mapping[str, str] | None) -> tuple[list[Scenario], list[ScenarioError]]:
    """The file is read and its includes merged once; each parameter set then
    works on its own copy of that tree, without the (possibly long)
    ``parametrize:`` section after the first set: linear in the number of sets."""
    environ = os.environ if environ is None else environ
    try:
        tree = load_yaml_file(path)
        if not isinstance(tree, MarkedMap):
            raise ScenarioError("a scenario file is a mapping (name:, agents:, ...)",
                                getattr(tree, "mark", None) or Location(str(path), 1, 1))
        sets = parameter_sets_of(tree)
        includes, errors = expand_includes(tree, Path(path))
    except ScenarioError as exc:
        return [], [exc]
    if errors:
        return [], errors
    without_sets = MarkedMap(tree)
    without_sets.share_marks(tree)
    without_sets.pop("parametrize", None)
    scenarios: list[Scenario] = []
    sets = sets or [{}]
    for index, params in enumerate(sets):
        source = tree if index == 0 else without_sets
        # the last set may change the tree itself; the sections no stage changes
        # (variables:, include:, parametrize:) are shared by every set's copy
        own = source if index == len(sets) - 1 else _copy_for_set(source)
        scenario, errors = _compile_tree(own, Path(path), includes, variables, environ, params)
        if errors:
            if params:
                note = visible(", ".join(f"{k}={v}" for k, v in params.items()))
                errors = [ScenarioError(f"{e.message} [with {note}]", e.location, e.path)
                          for e in errors]
            return [], errors
        scenarios.append(scenario)
    return scenarios, []


def _copy_for_set(tree: MarkedMap) -> MarkedMap:
    """A copy one parameter set may change (substitution, coercion, absolute file
    names); the sections left unsubstituted are shared, not copied."""
    own = MarkedMap()
    own.mark, own._marks = tree.mark, dict(tree._marks)
    memo: dict[int, Any] = {}       # a node shared by YAML aliases stays shared
    for key, value in tree.items():
        own[key] = value if key in NOT_SUBSTITUTED else copy_marked(value, memo)
    return own


def compile_scenario(path: Path | str, variables: Mapping[str, str] | None,
                     environ: Mapping[str, str], parameters: Mapping[str, str] | None = None,
                     ) -> tuple[Scenario | None, list[ScenarioError]]:
    """Run the whole pipeline for one variable set: (scenario, []) or (None, errors)."""
    try:
        tree = load_yaml_file(path)
        if not isinstance(tree, MarkedMap):
            raise ScenarioError("a scenario file is a mapping (name:, agents:, ...)",
                                getattr(tree, "mark", None) or Location(str(path), 1, 1))
        includes, errors = expand_includes(tree, Path(path))
    except ScenarioError as exc:
        return None, [exc]
    if errors:
        return None, errors
    return _compile_tree(tree, Path(path), includes, variables, environ, parameters)


def _compile_tree(tree: MarkedMap, path: Path, includes: tuple[Path, ...],
                  variables: Mapping[str, str] | None, environ: Mapping[str, str],
                  parameters: Mapping[str, str] | None) -> tuple[Scenario | None, list[ScenarioError]]:
    """Substitute, validate, check and build one tree (changed in place)."""
    parameters = dict(parameters or {})
    given = {**(variables or {}), **parameters}
    subst = substitute(tree, given, environ)
    # from here on a message may quote a substituted value: never show a secret
    secrets = set(subst.secrets) | _passwords(tree)
    if subst.errors:
        return None, redact_errors(subst.errors, secrets)
    if subst.whole:
        coerce_substituted(tree, subst.whole)
    errors = expand_repeats(tree)
    if errors:
        return None, redact_errors(errors, secrets)
    errors = schema_errors(tree)
    if errors:
        return None, redact_errors(errors, secrets)
    errors = SemanticChecker(tree, subst).run()
    if errors:
        return None, redact_errors(errors, secrets)
    scenario = build_model(tree, path, frozenset(secrets), parameters, includes,
                           env_names=frozenset(subst.env_names))
    errors = config_errors(scenario, tree) + capture_errors(scenario, tree)   # as run would
    if errors:
        return None, redact_errors(errors, secrets)
    return scenario, []


def build_model(tree: MarkedMap, path: Path, secrets: frozenset[str] = frozenset(),
                parameters: Mapping[str, str] | None = None,
                includes: tuple[Path, ...] = (), env_names: frozenset[str] = frozenset()
                ) -> Scenario:
    """The frozen Scenario of a validated, checked tree."""
    name = tree["name"]
    if parameters:
        name += "[" + ",".join(f"{k}={v}" for k, v in parameters.items()) + "]"
    agents = tuple(_agent(tree, n, node) for n, node in (tree.get("agents") or {}).items())
    services = tuple(ServiceSpec(name=n, config=_with_defaults(
                                     {k: v for k, v in node.items() if k != "steps"}),
                                 location=locate(tree, ["services", n], key=True),
                                 path=format_path(["services", n]),
                                 steps=_steps(tree, ["services", n], node))
                     for n, node in (tree.get("services") or {}).items())
    expectations = tuple(
        Expectation(kind=kind, params=_params(params), location=locate(tree, ["expect", i]),
                    path=format_path(["expect", i]))
        for i, item in enumerate(tree.get("expect") or [])
        for kind, params in item.items())
    return Scenario(
        name=name,
        file=path.resolve(),
        description=tree.get("description", ""),
        tags=tuple(tree.get("tags") or ()),
        timeout=parse_duration(tree.get("timeout", DEFAULT_TIMEOUT)),
        agents=agents,
        services=services,
        capture=_capture(tree.get("capture", True)),
        expectations=expectations,
        secrets=secrets,
        env_names=env_names,
        location=tree.mark,
        name_location=tree.value_mark("name") if isinstance(tree, MarkedMap) else None,
        parameters=dict(parameters or {}),
        includes=includes,
    )


REDACTED = "***"


def redact_errors(errors: list[ScenarioError], secrets: set[str] | frozenset[str]
                  ) -> list[ScenarioError]:
    """``errors`` with every secret in their messages (and paths) replaced by ``***``.

    A message may quote a value as written (``'hunter2'``) or as Python's repr
    escapes it (a quote or a backslash in the secret): both forms are masked,
    longest secret first so one containing another is masked whole.
    """
    forms: set[str] = set()
    for secret in secrets:
        if isinstance(secret, str) and secret:
            forms.add(secret)
            forms.add(repr(secret)[1:-1])
    if not forms:
        return errors
    ordered = sorted(forms, key=len, reverse=True)

    def scrub(text: str) -> str:
        for form in ordered:
            if form in text:
                text = text.replace(form, REDACTED)
        return text

    out = []
    for error in errors:
        message, path = scrub(error.message), scrub(error.path)
        if message == error.message and path == error.path:
            out.append(error)
        else:
            out.append(ScenarioError(message, error.location, path))
    return out


def _passwords(tree: MarkedMap) -> set[str]:
    """Account passwords are secrets however they were given (--var, or even literally).

    Runs before validation too (to redact error messages): any shape is accepted.
    """
    found = set()
    agents = tree.get("agents")
    for agent in (agents.values() if isinstance(agents, dict) else ()):
        account = agent.get("account") if isinstance(agent, dict) else None
        password = account.get("password") if isinstance(account, dict) else None
        if isinstance(password, str) and password:
            found.add(password)
    return found


def _agent(tree: MarkedMap, name: str, node: dict) -> AgentSpec:
    base = ["agents", name]
    config = _with_defaults({k: v for k, v in node.items() if k not in ("type", "steps")})
    return AgentSpec(name=name, type=node["type"], config=config, steps=_steps(tree, base, node),
                     location=locate(tree, base, key=True), path=format_path(base))


def _steps(tree: MarkedMap, base: list, node: dict) -> tuple[Step, ...]:
    """An agent's or a service's steps, each with where it is written."""
    return tuple(
        Step(kind=kind, params=_params(params), location=locate(tree, base + ["steps", i]),
             path=format_path(base + ["steps", i]))
        for i, step in enumerate(node.get("steps") or [])
        for kind, params in step.items())


def _with_defaults(node: dict) -> dict[str, Any]:
    config = to_plain(node)
    for key, value in ENDPOINT_DEFAULTS.items():
        config.setdefault(key, value)
    return config


def _params(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, dict):
        return to_plain(value)
    return {"value": to_plain(value)}


def _capture(value: Any) -> CaptureSpec:
    if isinstance(value, bool):
        return CaptureSpec(enabled=value)
    return CaptureSpec(enabled=value.get("enabled", True),
                       interface=value.get("interface", "lo"),
                       filter=value.get("filter"),
                       snaplen=value.get("snaplen", 0),
                       buffer=_size(value, "buffer"), rotate=_size(value, "rotate"))


def _size(value, key: str) -> int | None:
    """A capture size key in bytes (the schema checked its form)."""
    return size_bytes(value[key]) if value.get(key) is not None else None
