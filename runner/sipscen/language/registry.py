"""The registries of the scenario language: step kinds, wait events, expectation
families and agent types. Each concept is one record, declared by the module
that owns it and registered here by name; everything else (the JSON Schema,
the load-time checks, the timeline interpreter, the checks, the reference
docs) reads these records and nothing else.

A record is plain data plus callables:

``StepKind``      name, schema fragment (the step's value), ``check`` (load-time:
                  ``check(lc, params)`` with a :class:`LoadCheck`), ``scripted``
                  (seconds the step itself asks to spend), ``run`` (the handler:
                  ``run(timeline, params)``), a one-line doc and a YAML example.
``WaitEvent``     name, the wait keys it owns (schema fragments), ``check``,
                  ``run(timeline, params, timeout)``, doc, example.
``Expectation``   name, schema fragment, ``check`` (load time), ``evaluate``
                  (``module:function`` taking (Expectation, CheckContext)),
                  ``needs`` (key -> fact capability an agent type must have), and
                  what its verdict rests on and needs prepared: ``evidence`` (AGENT or
                  WIRE, for results that do not say), ``services_too`` (parties may be
                  services), ``needs_audio`` / ``needs_dtls_scan`` (a bool, or params -> bool: decode
                  the wire audio, scan the media for DTLS), ``merged`` (judged once on
                  the sum of a distributed load's generators), ``mutate``
                  (``module:function`` making the falsified copies ``--mutate``
                  judges, checks/mutants.py).
``AgentType``     name, ``module:Class``, schema fragment of its own keys, the
                  step kinds and wait events it carries out, its fact capabilities,
                  optionally ``check_step`` (LoadCheck, kind, params): the step
                  parameters it cannot carry out, refused at load time; and
                  ``check_config``: the check of its keys its agent runs at plan
                  time, run at validation too.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping
from importlib.metadata import entry_points
import pkgutil
import sys

from sipscen.language import steps as step_package

StepCheck = Callable[["Any", dict], None]


@dataclass(frozen=True)
class StepKind:
    name: str
    schema: Mapping[str, Any]
    run: Callable[..., None]
    doc: str
    example: str
    check: Callable[..., None] | None = None
    scripted: Callable[[Mapping[str, Any]], float] | None = None
    # the timeline alone carries it out (the board, a pause): every agent type has it
    generic: bool = False


@dataclass(frozen=True)
class WaitEvent:
    name: str
    run: Callable[..., None]
    doc: str
    example: str
    keys: Mapping[str, Any] = field(default_factory=dict)   # wait keys this event owns
    check: Callable[..., None] | None = None


@dataclass(frozen=True)
class ExpectationFamily:
    name: str
    schema: Mapping[str, Any]
    evaluate: str                 # "module:function" (imported when checks run)
    doc: str
    example: str
    check: Callable[..., None] | None = None
    needs: Mapping[str, str] = field(default_factory=dict)   # param key -> fact capability
    services_too: bool = True     # from/to/between may name services (the SUT) too
    evidence: str = "agent"       # what its results rest on unless they say: agent | wire | ""
    # what it needs prepared, a constant or a function of its params (``needs_for``)
    needs_audio: bool | Callable[[Mapping[str, Any]], bool] = False      # decoded wire audio
    needs_dtls_scan: bool | Callable[[Mapping[str, Any]], bool] = False  # media DTLS scan
    merged: bool = False          # a distributed load judges it on the generators' sum
    # what its wire results read on the wire (capture/visibility.py channels: "sip" whole
    # signalling, "rtp" media headers, "payload" whole media packets); a capture whose
    # filter or snaplen hides one makes those results inconclusive
    wire_needs: frozenset[str] | Callable[[Mapping[str, Any]], frozenset[str]] | None = None
    # "module:function" (params, original results) -> (mutants, notes): falsified copies
    # that must fail on the same evidence (checks/mutants.py, `sipscen judge --mutate`);
    # None: the family has no mutator, which the mutation report says
    mutate: str | None = None

    def needs_for(self, what: str, params: Mapping[str, Any]) -> Any:
        """A declared need (``wire_needs``, ``needs_audio``, ``needs_dtls_scan``) for one
        expectation: the constant, or the function applied to its params."""
        need = getattr(self, what)
        return need(params) if callable(need) else need

    def function(self) -> Callable[..., Any]:
        module, _, name = self.evaluate.partition(":")
        return getattr(importlib.import_module(module), name)

    def mutator(self) -> Callable[..., Any] | None:
        if not self.mutate:
            return None
        module, _, name = self.mutate.partition(":")
        return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class AgentType:
    name: str
    implementation: str           # "module:Class", imported lazily (validate never loads pjsua2)
    schema_def: str               # the $defs name of its keys
    schema: Mapping[str, Any]
    steps: frozenset[str]
    events: frozenset[str]
    capabilities: frozenset[str]  # what its facts report: calls, dtmf, responses, load
    doc: str = ""
    extra_defs: Mapping[str, Any] = field(default_factory=dict)
    facts_record: str = "sipscen.agents.records:AgentRecord"   # "module:Class" of its facts
    # load-time refusal of step parameters it cannot carry out: (LoadCheck, kind, params)
    check_step: Callable[[Any, str, Mapping[str, Any]], None] | None = None
    noun: str = "agent"           # how messages name one: "a pjsua agent", "a service"
    # load-time refusal of agent keys it cannot carry out: (LoadCheck, agent mapping)
    check_agent: Callable[[Any, Mapping[str, Any]], None] | None = None
    # "module:function" (AgentSpec, scenario folder) -> None: the check of its keys its
    # agent runs at plan time (ScenarioError), run at validation too, so that validate
    # never says ok to what run refuses (imported lazily: validate never loads pjsua2)
    check_config: str | None = None
    # the codecs it can negotiate (names, any case); None: whatever its keys allow
    codecs: frozenset[str] | None = None

    def has_codec(self, codec: Any) -> bool:
        name = str(codec).split("/")[0].lower()
        return self.codecs is None or name in {c.lower() for c in self.codecs}

    @property
    def label(self) -> str:
        return f"a {self.name} {self.noun}".rstrip()

    def carries(self, kind: StepKind | None, name: str) -> bool:
        """Whether this agent type carries out step kind ``name``."""
        return name in self.steps or bool(kind is not None and kind.generic)

    def facts_record_class(self) -> type:
        module, _, name = self.facts_record.partition(":")
        return getattr(importlib.import_module(module), name)

    def config_checker(self) -> Callable[..., None] | None:
        if not self.check_config:
            return None
        module, _, name = self.check_config.partition(":")
        return getattr(importlib.import_module(module), name)

    def implementation_class(self) -> type:
        module, _, name = self.implementation.partition(":")
        return getattr(importlib.import_module(module), name)


STEPS: dict[str, StepKind] = {}
EVENTS: dict[str, WaitEvent] = {}
EXPECTATIONS: dict[str, ExpectationFamily] = {}
AGENT_TYPES: dict[str, AgentType] = {}
SERVICE_TYPE: dict[str, AgentType] = {}


def _origin(record: Any) -> str:
    """The module that owns a record: its handler's, or the one its evaluator names."""
    run = getattr(record, "run", None)
    if run is not None:
        return run.__module__
    target = getattr(record, "evaluate", None) or getattr(record, "implementation")
    return target.partition(":")[0]


def is_builtin(record: Any) -> bool:
    """Declared by sipscen itself, not by a plugin (the shipped schema and
    reference hold only these)."""
    return _origin(record).startswith("sipscen.")


def builtin(table: dict[str, Any], only: bool = True) -> dict[str, Any]:
    """``table`` without the plugins' records (with ``only``)."""
    return {k: v for k, v in table.items() if is_builtin(v)} if only else table


def _add(table: dict, record: Any) -> Any:
    """Register ``record`` by name. The same module registering again (it was
    re-imported, e.g. after pytester restored ``sys.modules``) replaces its own
    record; another module taking a name already owned is an error."""
    known = table.get(record.name)
    if known is not None and _origin(known) != _origin(record):
        raise ValueError(f"{record.name!r} is registered twice "
                         f"({_origin(known)} and {_origin(record)})")
    table[record.name] = record
    _REGISTERED_BY[record.name, id(table)] = sys._getframe(2).f_globals.get("__name__", "")
    return record


_REGISTERED_BY: dict[tuple[str, int], str] = {}    # (name, table) -> the registering module


def _in_load_order(table: dict, modules: list[str]) -> None:
    """Reorder ``table`` as if ``modules`` had been imported in this order from
    nothing: the schema and the reference do not depend on what some other import
    happened to load first. Records of modules not listed keep their order, after."""
    rank = {m: i for i, m in enumerate(modules)}
    items = sorted(table.items(), key=lambda kv: rank.get(
        _REGISTERED_BY.get((kv[0], id(table)), ""), len(rank)))
    table.clear()
    table.update(items)


def register_step(kind: StepKind) -> StepKind:
    return _add(STEPS, kind)


def register_event(event: WaitEvent) -> WaitEvent:
    return _add(EVENTS, event)


def register_expectation(family: ExpectationFamily) -> ExpectationFamily:
    return _add(EXPECTATIONS, family)


def register_agent_type(agent_type: AgentType) -> AgentType:
    return _add(AGENT_TYPES, agent_type)


def register_service_type(record: AgentType) -> AgentType:
    """What a service's steps may be (one record, not selectable by ``type:``)."""
    SERVICE_TYPE[record.name] = record
    return record


def service_type() -> AgentType:
    load()
    return SERVICE_TYPE["service"]


# The built-in language: modules that register themselves on import. Every module
# of ``sipscen.language.steps`` is a step kind (found, not listed). An installed
# package adds to the language the same way: its module, named in the entry-point
# group ``sipscen.language`` (docs/EXTENDING.md), registers its records on import.
BUILTINS = (
    "sipscen.language.waits", "sipscen.language.waits_tone",
    "sipscen.checks.call", "sipscen.checks.codec", "sipscen.checks.srtp", "sipscen.checks.dtmf",
    "sipscen.checks.response", "sipscen.checks.load", "sipscen.checks.sip", "sipscen.checks.incoming", "sipscen.checks.ice",
    "sipscen.checks.registration", "sipscen.checks.transport", "sipscen.checks.log",
    "sipscen.checks.leg", "sipscen.checks.media", "sipscen.checks.audio", "sipscen.checks.rtp",
    "sipscen.agents.pjsua.language", "sipscen.agents.sipp.language",
    "sipscen.agents.baresip.language", "sipscen.agents.browser.language",
    "sipscen.language.service_language",
)
ENTRY_POINT_GROUP = "sipscen.language"
# Step kinds in this order first (the schema and the reference list them so);
# any other module of the package follows, alphabetically.
STEP_ORDER = ("call", "answer", "hangup", "cancel", "sleep", "signal", "dtmf", "play",
              "record", "stop_record", "wait", "hold", "unhold", "reinvite", "update", "info",
              "transfer", "message", "request", "register", "unregister", "repeat")
_loaded = False
# plugins that could not be loaded: (entry point "name = module", why); a scenario
# that uses what they would have added is refused naming them (scenario/semantic.py)
PLUGIN_ERRORS: list[tuple[str, str]] = []
PLUGINS: list[str] = []      # "name = module" of every plugin loaded


def load() -> None:
    """Import every built-in module of the language, then every plugin (once)."""
    global _loaded
    if _loaded:
        return

    found = sorted(m.name for m in pkgutil.iter_modules(step_package.__path__))
    ordered = [n for n in STEP_ORDER if n in found] + [n for n in found if n not in STEP_ORDER]
    for name in ordered:
        importlib.import_module(f"sipscen.language.steps.{name}")
    for module in BUILTINS:
        importlib.import_module(module)
    order = [f"sipscen.language.steps.{name}" for name in ordered] + list(BUILTINS)
    for table in (STEPS, EVENTS, EXPECTATIONS, AGENT_TYPES):
        _in_load_order(table, order)
    _loaded = True
    _load_plugins()


def _load_plugins() -> None:
    """Import the modules of the ``sipscen.language`` entry points. A plugin that
    fails (an import error, a name another module owns) is recorded in
    ``PLUGIN_ERRORS``, never fatal: the built-in language still works."""
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        label = f"{ep.name} = {ep.value}"
        try:
            ep.load()
        except Exception as exc:  # noqa: BLE001 - a broken plugin is reported, not fatal
            PLUGIN_ERRORS.append((label, f"{type(exc).__name__}: {exc}"))
        else:
            PLUGINS.append(label)


def steps() -> dict[str, StepKind]:
    load()
    return STEPS


def events() -> dict[str, WaitEvent]:
    load()
    return EVENTS


def expectations() -> dict[str, ExpectationFamily]:
    load()
    return EXPECTATIONS


def agent_types() -> dict[str, AgentType]:
    load()
    return AGENT_TYPES
