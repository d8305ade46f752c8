"""Checks the schema cannot express, on a tree that passed the schema.

* references: ``call.to``, ``wait.agent``, expectations' ``from``/``to``/
  ``between``/``agent``, an account ``registrar`` or a SIPp ``target`` that is
  a bare name, and ``${NAME.uri}``-style references must name an agent or a
  service of the scenario;
* files: ``play.file``, ``tls.cert|key|ca``, a SIPp scenario XML and
  ``media.play_pcap`` must exist, relative to the folder of the file that
  names them; they are rewritten in place to absolute paths;
* one-of rules: ``call`` has ``to`` or ``uri``, ``wait`` has ``event`` or
  ``signal``, ``play`` has ``file`` or ``tone``; a waited-for signal is sent
  by the agent named;
* SIPp inline messages (``messages[i].send``) hold latin-1 characters only
  (one byte each) and start with a method; ``expect.nothing`` stands alone;
* ``capture.filter`` compiles as BPF (libpcap in-process, see ``bpf.py``);
* a service's ``stop_signal`` is a signal of this system (name or number); a
  Kubernetes Service (``kube``) has no command, address, port, env or stop_signal;
* durations parse (finite, not negative, at most 30 days), and ``min_duration``
  is not above ``max_duration``.

Each problem is a ScenarioError at the offending key or value.
"""
from __future__ import annotations

import difflib
import re
import signal
from pathlib import Path
from typing import Any, Iterable

from sipscen.core.errors import Location, ScenarioError
from sipscen.language import registry
from sipscen.capture import bpf
from sipscen.scenario.loadcheck import LoadCheck
from sipscen.scenario.marks import MarkedMap, format_path, locate
from sipscen.core.model import parse_duration
from sipscen.core.paths import path_problem
from sipscen.scenario.sipp_input import SIPP_CALLERS as _SIPP_CALLERS
from sipscen.scenario.sipp_input import keyword_problem as _keyword_problem
from sipscen.scenario.sipp_input import target_problem as _target_problem
from sipscen.scenario.variables import SCENARIO_DIR, Substitution
from sipscen.scenario.semantic_services import check_service_extras

SIPP_BUILTINS = frozenset({
    "uac", "uas", "regexp", "branchc", "branchs", "uac_pcap",
    "3pcc-C-A", "3pcc-C-B", "3pcc-A", "3pcc-B",
})
_BARE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_REQUEST_START = re.compile(r"[A-Za-z0-9!%'*+.~`_-]+ ")   # as runner/sipscen/agents/sipp/inline.py
_SIGNALS = frozenset(s.name for s in signal.Signals)
_DURATION_KEYS = ("timeout", "delay", "duration", "gap", "min_duration", "max_duration",
                  "rate_period", "time_limit", "nothing", "sleep", "max_jitter", "max_gap",
                  "interval")


class SemanticChecker:
    """Collects semantic errors for one validated tree (see module docstring)."""

    def __init__(self, tree: MarkedMap, substitution: Substitution | None = None):
        self.tree = tree
        self.errors: list[ScenarioError] = []
        self.agents: dict[str, Any] = dict(tree.get("agents") or {})
        self.call_ids: dict[str, set[str]] = {}      # agent -> ids its call steps gave
        self.placed_ids: dict[str, set[str]] = {}    # ... of those, its outgoing calls'
        self.services: dict[str, Any] = dict(tree.get("services") or {})
        self.substitution = substitution

    # -- helpers ---------------------------------------------------------------
    def fail(self, message: str, path: Iterable, key: bool = False) -> None:
        path = list(path)
        self.errors.append(ScenarioError(message, locate(self.tree, path, key=key),
                                         format_path(path)))

    def _unknown(self, name: str, services_too: bool) -> str:
        agents = ", ".join(sorted(self.agents)) or "none"
        if services_too and self.services:
            services = ", ".join(sorted(self.services))
            return (f"unknown agent or service '{name}' — agents are: {agents}; "
                    f"services are: {services}")
        return f"unknown agent '{name}' — agents are: {agents}"

    def ref(self, name: Any, path: list, services_too: bool = False) -> None:
        known = name in self.agents or (services_too and name in self.services)
        if isinstance(name, str) and not known:
            self.fail(self._unknown(name, services_too), path)

    def file(self, node: dict, key: str, path: list) -> None:
        """``node[key]`` must name an existing file; make it absolute."""
        value = node.get(key)
        if not isinstance(value, str):
            return
        loc = locate(self.tree, path + [key])
        base = base_dir(loc)
        text = value.replace("${" + SCENARIO_DIR + "}", str(base))
        problem = path_problem(text)
        if problem:
            self.fail(problem, path + [key])
            return
        target = (base / text).resolve() if not Path(text).is_absolute() else Path(text)
        if not target.is_file():
            where = "" if Path(text).is_absolute() else " (relative to the file's folder)"
            self.fail(f"file not found: '{value}'{where}", path + [key])
            return
        node[key] = str(target)

    # -- checks ----------------------------------------------------------------
    def run(self) -> list[ScenarioError]:
        overlap = sorted(set(self.agents) & set(self.services))
        for name in overlap:
            self.fail(f"'{name}' is both an agent and a service", ["services", name], key=True)
        for name, agent in self.agents.items():
            self.check_agent(name, agent, ["agents", name])
        self.check_durations({"timeout": self.tree.get("timeout")}, [])
        self.check_capture(self.tree.get("capture"))
        for name, service in self.services.items():
            self.check_service(service, ["services", name])
        for i, item in enumerate(self.tree.get("expect") or []):
            self.check_expectation(item, ["expect", i])
        if self.substitution is not None:
            for name, attr, loc, where in self.substitution.references:
                if name not in self.agents and name not in self.services:
                    msg = self._unknown(name, True) + f" (in '${{{name}.{attr}}}')"
                    self.errors.append(ScenarioError(msg, loc, where))
        return sorted(self.errors, key=_position)

    def check_capture(self, capture: Any) -> None:
        """``capture.filter`` is BPF that tcpdump must accept (compiled by libpcap, in-process)."""
        extra = capture.get("filter") if isinstance(capture, dict) else None
        if not extra or not isinstance(extra, str):
            return                              # none, or empty: the engine adds nothing
        problem = bpf.filter_error(extra)
        if problem:
            self.fail(f"invalid capture filter: {problem}", ["capture", "filter"])

    def check_scenario_dir_paths(self, service: dict, path: list) -> None:
        """A command argument of an included piece that names a file through
        ``${scenario_dir}/...`` must exist from the including scenario's folder: a shared
        piece that only works one folder deep is refused here, not at run time (pieces
        should use ``${file_dir}``)."""
        token = "${" + SCENARIO_DIR + "}"
        root = locate(self.tree, [])
        scenario_dir = base_dir(root)
        for i, arg in enumerate(service.get("command") or []):
            if not isinstance(arg, str) or not arg.startswith(token + "/"):
                continue
            where = locate(self.tree, path + ["command", i])
            if where is None or root is None or where.file == root.file:
                continue      # the scenario's own file: its own folder, by construction
            target = Path(arg.replace(token, str(scenario_dir), 1))
            if any(ch in arg[len(token):] for ch in "$[") or target.exists():
                continue
            self.fail(f"'{arg}' names {target}, which does not exist (this value is in an "
                      "included piece, where ${scenario_dir} is the including scenario's "
                      "folder: write ${file_dir} to resolve it from the piece's own folder)",
                      path + ["command", i])

    def check_service(self, service: dict, path: list) -> None:
        self.check_scenario_dir_paths(service, path)
        if isinstance(service.get("kube"), dict):     # found in Kubernetes, not started
            for key in ("command", "address", "port", "env", "stop_signal"):
                if key in service:
                    self.fail(f"a Kubernetes Service ('kube') is found, not started: "
                              f"remove '{key}'", path + [key], key=True)
        self.check_durations(service, path)
        self.check_signal(service.get("stop_signal"), path + ["stop_signal"])
        if isinstance(service.get("ready"), dict):
            self.check_durations(service["ready"], path + ["ready"])
        # issue 10: start order, steps that act on a service, media ports
        check_service_extras(self, service, path)

    def check_signal(self, value: Any, path: list) -> None:
        """A service's ``stop_signal``: a signal name of this system (TERM or SIGTERM) or number."""
        if value is None or isinstance(value, bool):
            return
        if isinstance(value, int):
            if value not in signal.valid_signals():
                self.fail(f"no signal has the number {value} on this system", path)
            return
        name = str(value).upper()
        name = name if name.startswith("SIG") else f"SIG{name}"
        if name not in _SIGNALS:
            close = difflib.get_close_matches(name, sorted(_SIGNALS), n=1, cutoff=0.8)
            hint = f"did you mean '{close[0]}'?" if close else \
                "use e.g. SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1 or SIGKILL"
            self.fail(f"unknown signal '{value}' — {hint}", path)

    def check_agent(self, name: str, agent: dict, path: list) -> None:
        account = agent.get("account") or {}
        for key in ("registrar", "proxy"):
            party = account.get(key)
            if isinstance(party, str) and _BARE_NAME.fullmatch(party):
                self.ref(party, path + ["account", key], services_too=True)
        for key in ("cert", "key", "ca"):
            self.file(agent.get("tls") or {}, key, path + ["tls"])
        if agent.get("type") == "sipp":
            self.check_sipp(agent, path)
        self.check_durations({k: v for k, v in agent.items() if k != "steps"}, path)
        if isinstance(agent.get("answer"), dict):
            self.check_durations(agent["answer"], path + ["answer"])
        for i, step in enumerate(agent.get("steps") or []):
            self.check_step(name, step, path + ["steps", i])
        agent_type = registry.agent_types().get(agent.get("type"))
        if agent_type is not None:
            self.check_codecs(agent_type, agent.get("codecs"), path + ["codecs"])
            for i, step in enumerate(agent.get("steps") or []):
                if isinstance(step, dict) and isinstance(step.get("reinvite"), dict):
                    self.check_codecs(agent_type, step["reinvite"].get("codecs"),
                                      path + ["steps", i, "reinvite", "codecs"])
            if agent_type.check_agent is not None:
                agent_type.check_agent(LoadCheck(self, name, agent_type, path), agent)

    def check_codecs(self, agent_type: Any, codecs: Any, path: list) -> None:
        """Every codec named is one the agent's type can negotiate (what run refuses)."""
        if not isinstance(codecs, list) or agent_type.codecs is None:
            return
        for i, codec in enumerate(codecs):
            if isinstance(codec, str) and not agent_type.has_codec(codec):
                self.fail(f"a {agent_type.name} agent has no codec '{codec}' (it has: "
                          f"{', '.join(sorted(agent_type.codecs))})", path + [i])

    def check_sipp(self, agent: dict, path: list) -> None:
        scenario = agent.get("scenario")
        if isinstance(scenario, str) and scenario not in SIPP_BUILTINS:
            if _BARE_NAME.fullmatch(scenario) and not scenario.endswith("xml"):
                builtins = ", ".join(sorted(SIPP_BUILTINS))
                self.fail(f"unknown SIPp scenario '{scenario}' — built-ins are: {builtins}; "
                          "or give a path to an XML file", path + ["scenario"])
            else:
                self.file(agent, "scenario", path)
        if scenario is not None and agent.get("messages") is not None:
            self.fail("give either 'scenario' or 'messages', not both", path + ["messages"],
                      key=True)
        if agent.get("answer") is not None and (scenario is not None
                                                or agent.get("messages") is not None):
            self.fail("'answer' is a generated callee: it goes with neither 'scenario' nor "
                      "'messages'", path + ["answer"], key=True)
        if isinstance(agent.get("answer"), dict):
            self.check_durations(agent["answer"], path + ["answer"])
        target = agent.get("target")
        if isinstance(target, str) and _BARE_NAME.fullmatch(target):
            self.ref(target, path + ["target"], services_too=True)
        elif isinstance(target, str) and "${" not in target:
            problem = _target_problem(target)
            if problem:
                self.fail(problem, path + ["target"])
        calling = (agent.get("messages") is not None
                   or (agent.get("answer") is None and
                       _SIPP_CALLERS.get(scenario if isinstance(scenario, str) else "uac",
                                         False)))
        if target is None and calling:
            self.fail("a calling SIPp agent needs a 'target' (agent, service or host:port)",
                      path)
        self.file(agent.get("media") or {}, "play_pcap", path + ["media"])
        for i, message in enumerate(agent.get("messages") or []):
            if isinstance(message, str):
                self.check_raw_message(message, path + ["messages", i])
            if isinstance(message, dict):
                self.check_raw_message(message.get("send"), path + ["messages", i, "send"])
                expect = message.get("expect")
                if isinstance(expect, dict) and "nothing" in expect and len(expect) > 1:
                    self.fail("'nothing' cannot be combined with status or header",
                              path + ["messages", i, "expect", "nothing"], key=True)
                self.check_durations(message, path + ["messages", i])
                if isinstance(message.get("expect"), dict):
                    self.check_durations(message["expect"], path + ["messages", i, "expect"])

    def check_raw_message(self, text: Any, path: list) -> None:
        """A raw SIP message goes on the wire byte for byte: one latin-1 character each.

        SIPp sends requests only: the first line starts with a method and a
        space (unless it starts with an escape, which only the agent decodes).
        """
        if not isinstance(text, str):
            return
        first = text.lstrip("\n")
        if not first.startswith(("\\", "${")) and not _REQUEST_START.match(first):
            self.fail("the first line must start with a method and a space "
                      "(SIPp sends requests only)", path)
            return
        problem = _keyword_problem(text)
        if problem:
            self.fail(problem, path)
            return
        for offset, char in enumerate(text):
            if ord(char) > 0xFF:
                before = text[:offset]
                line = before.count("\n") + 1
                col = offset - (before.rfind("\n") + 1) + 1
                self.fail(f"character {char!r} (U+{ord(char):04X}) at line {line}, column {col} "
                          "of the message is outside latin-1: a raw message is bytes, write "
                          "other bytes as \\xNN (UTF-8 bytes for text)", path)
                return

    def check_step(self, agent_name: str, step: dict, path: list, party_type: Any = None
                   ) -> None:
        """A step: its kind is one this agent's type (a service's: ``party_type``)
        carries out, then the kind's own load-time check (``sipscen.language.registry``)."""
        if not isinstance(step, dict) or len(step) != 1:
            self.fail("a step is a one-key mapping (kind: params)", path)
            return
        (kind, params), = step.items()
        here = path + [kind]
        agent_type = party_type or registry.agent_types().get(
            (self.agents.get(agent_name) or {}).get("type"))
        record = registry.steps().get(kind)
        if agent_type is not None and not agent_type.carries(record, kind):
            self.fail(f"{agent_type.label} cannot '{kind}' (its steps: "
                      f"{', '.join(sorted(agent_type.steps))})", here, key=True)
            return
        if not isinstance(params, dict):
            self.check_durations(step, path)
            if record is not None and record.check is not None and params is not None:
                record.check(LoadCheck(self, agent_name, agent_type, here), {"value": params})
            return
        if record is not None and record.check is not None:
            record.check(LoadCheck(self, agent_name, agent_type, here), params)
        if agent_type is not None and agent_type.check_step is not None:
            agent_type.check_step(LoadCheck(self, agent_name, agent_type, here), kind, params)
        names = [params.get("call")] + ([params.get("replaces")] if kind == "transfer" else [])
        for key, named in zip(("call", "replaces"), names):
            if kind != "call" and isinstance(named, str) and \
                    named not in self.call_ids.get(agent_name, set()):
                known = ", ".join(sorted(self.call_ids.get(agent_name, set()))) or "none"
                self.fail(f"no earlier call step or incoming wait of this agent has id "
                          f"'{named}' (ids: {known})", here + [key])
        if kind == "wait" and params.get("event") == "incoming" and \
                isinstance(params.get("id"), str):
            self.call_ids.setdefault(agent_name, set()).add(params["id"])
        self.check_durations(params, here)

    def _signals(self, agent_name: str) -> set[str]:
        party = self.agents.get(agent_name) or self.services.get(agent_name) or {}
        found: set[str] = set()

        def walk(steps) -> None:          # a repeat's block holds its iterations' steps
            for step in steps if isinstance(steps, list) else []:
                if not isinstance(step, dict):
                    continue
                if "signal" in step:
                    found.add(step["signal"])
                if isinstance(step.get("repeat"), dict):
                    walk(step["repeat"].get("steps"))
        walk(party.get("steps") or [])
        return found

    def check_expectation(self, item: dict, path: list) -> None:
        if not isinstance(item, dict) or len(item) != 1:
            return
        (kind, params), = item.items()
        here = path + [kind]
        family = registry.expectations().get(kind)
        # services are parties (issue 10), except where an agent's own facts are read
        parties = family is None or family.services_too
        for key in ("from", "to", "agent", "via"):
            self.ref(params.get(key), here + [key], services_too=parties)
        between = params.get("between")
        if isinstance(between, list):
            for i, name in enumerate(between):
                self.ref(name, here + ["between", i], services_too=parties)
            if len(between) == 2 and between[0] == between[1]:
                self.fail("'between' needs two different agents", here + ["between"])
        if family is not None:
            for key, capability in family.needs.items():
                name = params.get(key)
                agent = self.agents.get(name) if isinstance(name, str) else None
                agent_type = registry.agent_types().get((agent or {}).get("type"))
                if agent_type is not None and capability not in agent_type.capabilities:
                    self.fail(f"'{kind}' reads the {capability} an agent reports; '{name}' is "
                              f"a {agent_type.name} agent, which reports none", here + [key])
            if family.check is not None:
                family.check(LoadCheck(self, None, None, here), params)
        self.check_durations(params, here)
        lo, hi = params.get("min_duration"), params.get("max_duration")
        if lo is not None and hi is not None and _seconds(lo) > _seconds(hi):
            self.fail(f"min_duration {lo} is above max_duration {hi}", here + ["min_duration"])
        for key, bounds in params.items():       # {min, max}: a range no value is in
            if isinstance(bounds, dict) and "min" in bounds and "max" in bounds:
                lo, hi = bounds["min"], bounds["max"]
                as_number = isinstance(lo, (int, float)) and isinstance(hi, (int, float))
                if (lo > hi) if as_number else (_seconds(lo) > _seconds(hi)):
                    self.fail(f"min {lo} is above max {hi} (no value can pass)", here + [key])

    def check_durations(self, node: dict, path: list) -> None:
        for key in _DURATION_KEYS:
            value = node.get(key)
            if value is None or isinstance(value, dict):
                continue
            try:
                parse_duration(value)
            except ValueError as exc:
                self.fail(str(exc), path + [key])

    def exactly_one(self, params: dict, keys: tuple[str, str], path: list) -> bool:
        present = [k for k in keys if k in params]
        if len(present) == 1:
            return True
        if present:
            self.fail(f"give either '{keys[0]}' or '{keys[1]}', not both", path + [present[1]],
                      key=True)
        else:
            self.fail(f"needs '{keys[0]}' or '{keys[1]}'", path)
        return False


def _position(error: ScenarioError) -> tuple:
    loc = error.location
    return (loc.file, loc.line, loc.col) if loc else ("", 0, 0)


def _seconds(value: Any) -> float:
    try:
        return parse_duration(value)
    except ValueError:
        return 0.0


def base_dir(loc: Location | None) -> Path:
    """The folder of the file a location points into (relative files resolve there)."""
    if loc is None:
        return Path.cwd()
    return Path(loc.file).resolve().parent
