"""``${...}`` substitution in scenario strings.

At load time (:func:`substitute`), in every string value of the file (keys
and the ``variables:``, ``parametrize:`` and ``include:`` sections excepted):

* ``${NAME}``: the first of the given variables (``--var NAME=VALUE`` and
  parameter sets), the environment, the file's ``variables:`` defaults;
* ``${env:NAME}``: the environment only; the value is a secret (recorded in
  ``Scenario.secrets`` so reports redact it);
* ``${file_dir}``: the folder of the file the value is written in (for an
  included piece, the piece's own folder: its paths work from any includer);
* ``$${`` is a literal ``${``;
* an undefined variable is a ScenarioError at the string's location;
* inside a ``repeat`` step's block its variable (``${i}``, or its ``var``) is
  left for ``scenario/repeats.py``, which numbers each iteration's copy.

Left for plan time (:func:`resolve_references`, called by the engine once the
ports are known): ``${AGENT.uri|host|port|hostport|user}`` (an agent or a
service) and ``${scenario_dir}``. A string holding such a reference (or an
escaped one, ``$${bob.uri}``) keeps its ``$${`` escapes until then, so the
engine's pass unescapes them and an escaped reference stays literal.

Values are strings. A string that is exactly one ``${NAME}`` and lands where
the schema wants an integer, number or boolean is converted afterwards
(``schema.coerce_substituted``), so ``port: ${SIP_PORT}`` works.
"""
from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from sipscen.core.errors import Location, ScenarioError
from sipscen.scenario.marks import MarkedMap, MarkedSeq, format_path
from sipscen.scenario.repeats import loop_var
from sipscen.scenario.unicode_text import surrogate_problem, visible

REFERENCE_ATTRS = ("uri", "host", "port", "hostport", "user", "media_min", "media_max", "files",
                   "ws_port", "wss_port")
SCENARIO_DIR = "scenario_dir"
FILE_DIR = "file_dir"        # the folder of the file the value is written in (an included piece's own)
NOT_SUBSTITUTED = ("variables", "parametrize", "include")

_TOKEN = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_REF = re.compile(r"([A-Za-z][A-Za-z0-9_-]*)\.([A-Za-z_]+)")
# a plan-time reference, escaped or not: strings holding one keep their `$${` escapes
_DEFERRED = re.compile(r"\$\{(?:" + SCENARIO_DIR + r"|[A-Za-z][A-Za-z0-9_-]*\.(?:"
                       + "|".join(REFERENCE_ATTRS) + r"))\}")


@dataclass
class Substitution:
    """What :func:`substitute` did to a tree."""

    secrets: set[str] = field(default_factory=set)
    env_names: set[str] = field(default_factory=set)    # every ${env:NAME} used
    whole: set[tuple] = field(default_factory=set)      # paths that were exactly "${NAME}"
    references: list[tuple[str, str, Location | None, str]] = field(default_factory=list)
    errors: list[ScenarioError] = field(default_factory=list)   # (name, attr, loc, path)


def variable_text(value: Any) -> str:
    """A default or parameter value as the string it substitutes to."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def substitute(tree: MarkedMap, given: Mapping[str, str] | None = None,
               environ: Mapping[str, str] | None = None) -> Substitution:
    """Replace ``${...}`` in every string value of ``tree``, in place."""
    environ = os.environ if environ is None else environ
    given = dict(given or {})
    defaults_node = tree.get("variables")
    defaults = _Defaults(defaults_node if isinstance(defaults_node, dict) else {})
    result = Substitution()
    scope = _Scope(given, environ, defaults, result)
    seen: set[int] = set()

    def walk(node: Any, path: tuple) -> None:
        if id(node) in seen:      # shared by a YAML alias: substitute once
            return
        if isinstance(node, dict):
            seen.add(id(node))
            # a repeat's block: its variable (${i}) numbers the iterations (repeats.py)
            var = loop_var(node) if path and path[-1] == "repeat" else None
            for key in list(node):
                if isinstance(key, str) and not key.isascii():
                    unicode_check(key, path + (key,), node.key_mark(key)
                                  if isinstance(node, MarkedMap) else None)
                if not path and key in NOT_SUBSTITUTED:
                    continue
                loc = node.value_mark(key) if isinstance(node, MarkedMap) else None
                if var is not None and key == "steps":
                    scope.loops.append(var)
                    try:
                        node[key] = visit(node[key], path + (key,), loc)
                    finally:
                        scope.loops.pop()
                    continue
                node[key] = visit(node[key], path + (key,), loc)
        elif isinstance(node, list):
            seen.add(id(node))
            for i, item in enumerate(node):
                loc = node.item_mark(i) if isinstance(node, MarkedSeq) else None
                node[i] = visit(item, path + (i,), loc)

    def visit(value: Any, path: tuple, loc: Location | None) -> Any:
        if isinstance(value, str):
            value = scope.expand(value, path, loc)
            if not value.isascii():
                unicode_check(value, path, loc)
            return value
        walk(value, path)
        return value

    def unicode_check(text: str, path: tuple, loc: Location | None) -> None:
        problem = surrogate_problem(text)
        if problem:
            result.errors.append(ScenarioError(problem, loc, visible(format_path(path))))

    for name, value in given.items():      # a parameter set's values name the scenario
        problem = surrogate_problem(str(name)) or surrogate_problem(str(value))
        if problem:
            where = "parametrize" if "parametrize" in tree else ""
            loc = tree.value_mark("parametrize") if where and isinstance(tree, MarkedMap) \
                else getattr(tree, "mark", None)
            result.errors.append(ScenarioError(f"variable {visible(str(name))}: {problem}",
                                               loc, where))
    walk(tree, ())
    return result


class SecretStandIns(Mapping[str, str]):
    """An environment for loading scenarios where their secrets will be given
    later (a Kubernetes Job's Secret): ``${NAME}`` reads ``environ`` as usual, and
    every ``${env:NAME}`` becomes a stand-in value, whether NAME is set here or
    not, so no secret's value is ever read (``Scenario.env_names`` lists them)."""

    STAND_IN = "sipscen-secret-stand-in"

    def __init__(self, environ: Mapping[str, str]):
        self.environ = environ

    def __getitem__(self, name: str) -> str:
        return self.environ[name]

    def __iter__(self):
        return iter(self.environ)

    def __len__(self) -> int:
        return len(self.environ)

    def secret_stand_in(self, name: str) -> str:
        return self.STAND_IN


class _Defaults(Mapping[str, str]):
    """The ``variables:`` defaults (plain values, as strings), read from the tree
    when asked: a huge ``variables:`` map is not copied for every parameter set."""

    _PLAIN = (str, int, float, bool)

    def __init__(self, node: Mapping[str, Any]):
        self.node = node

    def __getitem__(self, name: str) -> str:
        value = self.node[name]
        if not isinstance(value, self._PLAIN):
            raise KeyError(name)
        return variable_text(value)

    def __contains__(self, name: object) -> bool:
        return isinstance(self.node.get(name), self._PLAIN)

    def __iter__(self):
        return (k for k, v in self.node.items() if isinstance(v, self._PLAIN))

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _Scope:
    def __init__(self, given: Mapping[str, str], environ: Mapping[str, str],
                 defaults: Mapping[str, str], result: Substitution):
        self.given, self.environ, self.defaults, self.result = given, environ, defaults, result
        self.loops: list[str] = []      # the variables of the repeat blocks we are inside

    def lookup(self, name: str) -> str | None:
        for source in (self.given, self.environ, self.defaults):
            if name in source:
                return source[name]
        return None

    def expand(self, text: str, path: tuple, loc: Location | None) -> str:
        if "${" not in text:
            return text
        where = format_path(path)
        deferred = bool(_DEFERRED.search(text)) or any(
            re.search(r"\$\{\s*" + re.escape(v) + r"\s*\}", text) for v in self.loops)
        out: list[str] = []
        pos = 0
        whole = False
        for m in _TOKEN.finditer(text):
            out.append(text[pos:m.start()])
            pos = m.end()
            token = m.group(0)
            if token == "$${":
                out.append(token if deferred else "${")
                continue
            inner = m.group(1)
            if inner is None:
                self._fail("unterminated '${' (write '$${' for a literal '${')", loc, where)
                out.append(token)
                continue
            replacement = self._resolve(inner.strip(), token, loc, where)
            if replacement is None:
                out.append(token)
            else:
                out.append(replacement)
                whole = token == text and not inner.strip().startswith("env:")
        out.append(text[pos:])
        if whole:
            self.result.whole.add(path)
        return "".join(out)

    def _resolve(self, inner: str, token: str, loc: Location | None, where: str) -> str | None:
        """The replacement for one ``${inner}``, or None to leave it (or on error)."""
        if inner.startswith("env:"):
            name = inner[4:].strip()
            if not _NAME.fullmatch(name):
                self._fail(f"invalid environment variable name in '{token}'", loc, where)
                return None
            self.result.env_names.add(name)
            stand_in = getattr(self.environ, "secret_stand_in", None)
            if stand_in is not None:          # SecretStandIns: names wanted, never values
                return stand_in(name)
            if name not in self.environ:
                self._fail(f"environment variable '{name}' is not set", loc, where)
                return None
            value = self.environ[name]
            if value:
                self.result.secrets.add(value)
            return value
        if inner == SCENARIO_DIR or inner in self.loops:
            return None          # plan time, or a repeat's iteration (scenario/repeats.py)
        if inner == FILE_DIR:
            if loc is None or not loc.file:
                self._fail(f"'{token}' needs to know its file", loc, where)
                return None
            return str(Path(loc.file).resolve().parent)
        ref = _REF.fullmatch(inner)
        if ref:
            if ref.group(2) not in REFERENCE_ATTRS:
                self._fail(f"unknown attribute '{ref.group(2)}' in '{token}' — use "
                           + ", ".join(REFERENCE_ATTRS), loc, where)
            else:
                self.result.references.append((ref.group(1), ref.group(2), loc, where))
            return None
        if not _NAME.fullmatch(inner):
            self._fail(f"invalid variable reference '{token}'", loc, where)
            return None
        value = self.lookup(inner)
        if value is None:
            known = list(self.given) + list(self.defaults)
            close = difflib.get_close_matches(inner, known, n=1, cutoff=0.75)
            hint = (f" — did you mean '{close[0]}'?" if close else
                    f" (give it with --var {inner}=VALUE, in the environment, or under "
                    "variables:)")
            self._fail(f"undefined variable '{inner}'{hint}", loc, where)
        return value

    def _fail(self, message: str, loc: Location | None, where: str) -> None:
        self.result.errors.append(ScenarioError(message, loc, where))


_PLAN_TOKEN = re.compile(r"\$\$\{|\$\{([^}]*)\}")


def resolve_references(text: str, contacts: Mapping[str, Any], scenario_dir: Path, *,
                       location: Location | None = None, path: str = "") -> str:
    """Resolve ``${NAME.uri|host|port|hostport|user}`` and ``${scenario_dir}``.

    ``contacts`` maps agent/service names to ``sipscen.agents.base.Contact``.
    ``$${`` becomes a literal ``${``. An unknown name is a ScenarioError
    (at ``location``/``path`` when the caller knows them).
    """
    def replace(m: re.Match) -> str:
        if m.group(0) == "$${":
            return "${"
        inner = m.group(1).strip()
        if inner == SCENARIO_DIR:
            return str(scenario_dir)
        ref = _REF.fullmatch(inner)
        if not ref or ref.group(2) not in REFERENCE_ATTRS:
            return m.group(0)
        name, attr = ref.groups()
        if name not in contacts:
            known = ", ".join(sorted(contacts)) or "none"
            raise ScenarioError(f"unknown agent or service '{name}' in '{m.group(0)}' — "
                                f"known: {known}", location, path)
        return str(getattr(contacts[name], attr))

    return _PLAN_TOKEN.sub(replace, text)


def resolve_tree(value: Any, contacts: Mapping[str, Any], scenario_dir: Path) -> Any:
    """``resolve_references`` in every string of a tree of dicts and lists (an agent's
    spec, an expectation's parameters); other values as they are."""
    if isinstance(value, str):
        return resolve_references(value, contacts, scenario_dir) if "${" in value else value
    if isinstance(value, dict):
        return {k: resolve_tree(v, contacts, scenario_dir) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [resolve_tree(v, contacts, scenario_dir) for v in value]
    return value
