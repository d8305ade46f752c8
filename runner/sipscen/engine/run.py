"""Run one scenario: plan -> capture -> services -> agents -> stop all -> analyse -> check.

``run_scenario`` returns a :class:`ScenarioResult` and prints nothing. Teardown
always runs — after a pass, a failed step, a timeout, a crashed agent or
Ctrl-C — in reverse order of start: agents, services, capture. A
KeyboardInterrupt is re-raised after teardown, with the partial result attached
(``exc.result``), so the CLI can still write its reports.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from sipscen.agents.base import Agent, AgentContext
from sipscen.analysis.result import WireAnalysis
from sipscen.core.contact import Contact
from sipscen.agents.registry import agent_class
from sipscen.capture.tcpdump import Capture, port_filter
from sipscen.checks import verdict
from sipscen.core.events import Event, EventBoard
from sipscen.core.ports import PortAllocator
from sipscen.core.results import ERROR, ScenarioResult
from sipscen.core.errors import ExitStatus, ScenarioTimeout, ServiceExited, SipscenError, StepFailed
from sipscen.core.model import AgentSpec, Scenario
from sipscen.engine.service_steps import service_timeline
from sipscen.engine import interrupts
from sipscen.engine.artifacts import artifacts_dir_for, mask_secrets
from sipscen.engine.evidence_store import save
from sipscen.core.errors import ReportWriteError
from sipscen.engine.evidence_store import Evidence
from sipscen.engine.judge import apply_verdict
from sipscen.language.timeline import scripted_time
from sipscen.scenario.variables import resolve_references
from sipscen.engine.services import Service
from sipscen.engine.generators import split_scenario

READY_TIMEOUT = 10.0


@dataclass
class RunOptions:
    artifacts_root: Path = Path("sipscen-artifacts")
    listeners: list[Callable[[Event], None]] = field(default_factory=list)
    # Builds a listener for each scenario (live progress labelled with its name).
    listener_for: Callable[[Scenario], Callable[[Event], None]] | None = None
    timeout: float | None = None          # overrides the scenario's own timeout
    stop_event: threading.Event | None = None   # set by the suite on Ctrl-C / fail-fast
    generator: tuple[int, int] | None = None    # generator K of N of a distributed load
    # gets the scenario's result object as soon as it exists (the suite's slot: an
    # interrupt landing anywhere never loses it; the engine fills it in place)
    result_sink: Callable[[ScenarioResult], None] | None = None
    strict: bool = False     # a scenario with no checks fails (CI: --strict)


class _Run:
    """The state of one scenario run; one instance per run."""

    def __init__(self, scenario: Scenario, options: RunOptions):
        if options.generator is not None:   # its share of every load (engine/generators.py)
            scenario = split_scenario(scenario, options.generator)
        self.scenario = scenario
        self.options = options
        self.board = EventBoard()
        for listener in options.listeners:
            self.board.add_listener(listener)
        if options.listener_for is not None:
            self.board.add_listener(options.listener_for(scenario))
        self.dir = options.artifacts_root    # the run's own folder: prepare()
        self.ports = PortAllocator()
        self.timeout = options.timeout if options.timeout is not None else scenario.timeout
        self.contacts: dict[str, Contact] = {}
        self.services: list[Any] = []
        self.agents: list[Agent] = []
        self.capture: Capture | None = None
        self.result = ScenarioResult(
            name=scenario.name, file=str(scenario.file), tags=list(scenario.tags),
            description=scenario.description,
            location=str(scenario.location) if scenario.location else f"{scenario.file}:1:1",
            scripted_wait=scripted_wait(scenario), secrets=sorted(scenario.secrets))
        self.prepared = False
        self.judged = False        # the verdict is set (_verdict)

    # --- phases ----------------------------------------------------------------
    def prepare(self) -> None:
        self.dir = artifacts_dir_for(self.scenario.name, self.options.artifacts_root,
                                     self.scenario.secrets)
        self.prepared = True
        self.result.artifacts["dir"] = str(self.dir)

    def plan(self) -> None:
        if self.scenario.services:
            for spec in self.scenario.services:
                kind = Service
                if "kube" in spec.config:    # a Kubernetes Service: discovered, not started
                    from sipscen.kube.discovery import KubeService as kind  # lazy: optional (the kube extra)
                service = kind(spec, self.dir / spec.name, self.ports, self.scenario.secrets)
                self.services.append(service)
                self.contacts[spec.name] = service.plan()
        for spec in self.scenario.agents:
            ctx = AgentContext(spec=spec, scenario=self.scenario, board=self.board,
                               artifacts_dir=self.dir / spec.name, ports=self.ports,
                               contacts=self.contacts, timeout=self.timeout)
            ctx.artifacts_dir.mkdir(parents=True, exist_ok=True)
            agent = agent_class(spec.type)(ctx)
            self.agents.append(agent)
            self.contacts[spec.name] = agent.plan()
        for agent in self.agents:   # ${bob.uri} and friends, now that every port is known
            agent.ctx.spec = resolve_spec(agent.ctx.spec, self.contacts, self.scenario.file.parent)
        for service in self.services:
            service.spec = replace(service.spec, steps=resolve_steps(
                service.spec.steps, self.contacts, self.scenario.file.parent))
        self.board.post("engine", "planned",
                        contacts={n: c.uri for n, c in self.contacts.items()})

    def start_capture(self) -> None:
        spec = self.scenario.capture
        if not spec.enabled:
            return
        marker = self.ports.port()
        ports: list[int | tuple[int, int]] = [marker]
        for c in self.contacts.values():
            ports.extend(c.ports)
            if c.media_ports:
                ports.append(c.media_ports)
        self.capture = Capture(self.dir / "capture.pcap", spec.interface,
                               port_filter(ports, spec.filter, marker), spec.snaplen,
                               log_dir=self.dir,
                               marker_port=marker,
                               buffer_kib=spec.buffer // 1024 if spec.buffer else None,
                               rotate_mb=max(1, -(-spec.rotate // 10**6)) if spec.rotate else None)
        self.capture.start()
        self.board.post("engine", "capture_started", path=str(self.capture.path))

    def start_services(self) -> None:
        """Start every service; one with ``after: [other, ...]`` only once those are
        ready (the order was checked for cycles at load)."""
        by_name = {s.spec.name: s for s in self.services}
        started: set[str] = set()
        readied: set[str] = set()
        pending = list(self.services)
        for _ in range(len(pending) + 1):          # bounded: one pass per service at most
            if not pending:
                break
            for service in list(pending):
                after = _names(service.spec.config.get("after"))
                if not all(a in started for a in after if a in by_name):
                    continue
                for name in after:
                    if name in by_name and name not in readied:
                        self.check_services()
                        by_name[name].ready(READY_TIMEOUT)
                        readied.add(name)
                service.start(self.contacts, self.scenario.file.parent)
                loss = getattr(service, "loss", None)      # impair: (core/netfilter.py)
                if loss is not None and loss.installed:
                    self.board.post(service.spec.name, "media_impaired",
                                    loss=f"{loss.loss_pct:g}%", ports=f"{loss.low}-{loss.high}",
                                    chain=loss.chain)
                started.add(service.spec.name)
                pending.remove(service)
        for service in self.services:
            if service.spec.name not in readied:
                service.ready(READY_TIMEOUT)
        if self.services:
            self.board.post("engine", "services_ready", names=[s.spec.name for s in self.services])

    def check_services(self) -> None:
        """ServiceExited if any started service has exited (see services.py)."""
        for service in self.services:
            check = getattr(service, "check_alive", None)   # a discovered (kube) one: none
            if check is not None:
                check()

    def start_agents(self) -> None:
        self.check_services()
        for agent in self.agents:
            agent.start()
        for agent in self.agents:     # every callee is listening before any caller acts
            agent.ready(READY_TIMEOUT)
        self.board.post("engine", "agents_ready", names=[a.ctx.name for a in self.agents])

    def run_agents(self) -> None:
        timeout = self.timeout
        failures: list[BaseException] = []
        lock = threading.Lock()

        def body(name: str, run: Callable[[], None]) -> None:
            try:
                run()
                self.board.post(name, "finished")
            except BaseException as exc:  # noqa: BLE001 - reported to the main thread
                with lock:
                    failures.append(exc)
                self.board.post(name, "failed", message=str(exc))
                self.board.cancel()       # the others stop waiting

        runs = [(a.ctx.name, a.run) for a in self.agents] + self.service_timelines()
        threads = [threading.Thread(target=body, args=(name, fn), name=f"run-{name}",
                                    daemon=True) for name, fn in runs]
        for t in threads:
            t.start()
        deadline = time.monotonic() + timeout
        timed_out = False
        try:
            stop = self.options.stop_event
            for t in threads:
                while t.is_alive() and time.monotonic() < deadline:
                    t.join(0.05)
                    if stop is not None and stop.is_set():
                        raise KeyboardInterrupt("suite stopped")
                    self.check_services()      # a SUT that dies ends the run at once
            timed_out = any(t.is_alive() for t in threads)
            self.check_services()
        finally:
            if any(t.is_alive() for t in threads):
                self.board.cancel()
                for t in threads:
                    t.join(3.0)
        exited = [f for f in failures if isinstance(f, ServiceExited)]
        if exited:
            raise exited[0]     # the cause: the agents' failures follow from it
        if failures:
            raise failures[0]   # the first is the cause; later ones are mostly cancellations
        if timed_out:
            raise ScenarioTimeout(f"scenario timeout of {timeout:g}s reached",
                                  self.scenario.location)

    def service_timelines(self) -> list[tuple[str, Callable[[], None]]]:
        return [(s.spec.name, service_timeline(s, self.board, self.scenario.file.parent))
                for s in self.services if s.spec.steps]

    def check_stop(self) -> None:
        """Between phases: the suite asked every scenario to stop (Ctrl-C)."""
        if self.options.stop_event is not None and self.options.stop_event.is_set():
            raise KeyboardInterrupt("suite stopped")

    def teardown(self) -> None:
        """Stop everything in reverse order of start. One stop that fails never
        keeps the others from running; what failed is recorded as a warning."""
        self.board.cancel()
        stoppers = [(f"agent {a.ctx.name}", a.stop) for a in reversed(self.agents)]
        stoppers += [(f"service {s.spec.name}", s.stop) for s in reversed(self.services)]
        if self.capture:
            stoppers.append(("capture", self.capture.stop))
        for what, stop in stoppers:
            try:
                stop()
            except Exception as exc:  # noqa: BLE001 - keep stopping the rest
                self.result.warnings.append(f"stopping {what} failed: {exc!r}")
        self.ports.release()
        self.board.post("engine", "stopped")

    def collect(self) -> None:
        r = self.result
        for agent in self.agents:
            try:
                r.agents[agent.ctx.name] = agent.facts()
                for label, path in agent.artifacts().items():
                    r.artifacts[f"{agent.ctx.name}.{label}"] = path
            except Exception as exc:  # a broken agent must not hide the others
                r.agents[agent.ctx.name] = {"error": repr(exc)}
        for service in self.services:
            facts = getattr(service, "facts", None)
            r.services[service.spec.name] = facts() if facts is not None else {
                "type": "service", "uri": service.contact.uri if service.contact else None}
            for label, path in service.artifacts().items():
                r.artifacts[f"{service.spec.name}.{label}"] = path
        if self.capture:
            r.artifacts.update(self.capture.artifacts())

    def analyse(self) -> tuple[WireAnalysis | None, str | None, bool]:
        """(wire analysis, why there is none, whether the analysis itself failed)."""
        if not self.capture:
            return None, "capture is disabled for this scenario", False
        keys: list[str] = []
        keylogs: list[str] = []
        for agent in self.agents:
            keys += [f"{k['suite']} {k['key']}" for k in agent.srtp_keys()]
            keylogs += agent.tls_keylogs()
        self.analysed_with = (keys, [str(k) for k in keylogs])    # saved for a re-analysis
        # what the expectations need from the analysis (decoded audio, media samples);
        # one pass over the capture gives everything else (SIP, RTP, DTLS, STUN, TLS)
        needs = verdict.prepare(self.scenario.expectations)
        media = needs.audio
        try:
            from sipscen.analysis import analyze_capture  # lazy: loads cryptography, numpy
            files = self.capture.files()        # several when capture.rotate is set
            analysis = analyze_capture(files if len(files) > 1 else self.capture.path,
                                       srtp_keys=keys, strict_keys=False,
                                       inband=media, keep_audio=media,
                                       sample_media=needs.dtls_scan, tls_keylogs=keylogs)
        except Exception as exc:  # noqa: BLE001 - the verdict says why
            faults = "; ".join(self.capture.faults)
            why = f" (the capture is incomplete: {faults})" if faults else ""
            self.result.warnings += [f"capture incomplete: {w}" for w in self.capture.faults]
            return None, f"capture analysis failed: {exc}{why}", True
        self.wire_audio = analysis.audio
        wire = WireAnalysis.from_dict(analysis.to_dict())
        warnings = wire.warnings
        dropped = self.capture.dropped()
        if dropped:
            warnings.append(
                f"tcpdump: {dropped} packets dropped by the kernel: wire verdicts may be incomplete")
        incomplete = self.capture.incomplete(wire.packets, list(warnings))
        if incomplete:
            wire.incomplete = incomplete
            warnings += [w for w in incomplete if w not in warnings]
            self.result.warnings += [f"capture incomplete: {w}" for w in incomplete]
        return wire, None, False


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(value)] if isinstance(value, str) else [str(v) for v in value]


def resolve_spec(spec: AgentSpec, contacts: dict[str, Contact], scenario_dir: Path) -> AgentSpec:
    """Replace ``${name.uri}``-style references in every string of an agent spec."""
    return replace(spec, config=_resolved(dict(spec.config), contacts, scenario_dir),
                   steps=resolve_steps(spec.steps, contacts, scenario_dir))


def resolve_steps(steps, contacts: dict[str, Contact], scenario_dir: Path) -> tuple:
    """The steps with every reference in their params resolved."""
    return tuple(replace(s, params=_resolved(dict(s.params), contacts, scenario_dir,
                                             s.location, s.path))
                 for s in steps)


def _resolved(value: Any, contacts, scenario_dir: Path, location=None, path: str = "") -> Any:
    if isinstance(value, str):
        return resolve_references(value, contacts, scenario_dir, location=location,
                                  path=path) if "${" in value else value
    if isinstance(value, dict):
        return {k: _resolved(v, contacts, scenario_dir, location, path) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_resolved(v, contacts, scenario_dir, location, path) for v in value]
    return value


def scripted_wait(scenario: Scenario) -> float:
    """The time the scenario itself asks to spend: each step kind's scripted time
    (sleeps, plays, DTMF with the agents' real defaults, timed recordings), summed
    per agent; the longest agent counts. Wall time minus this is sipscen's overhead."""
    return max((scripted_time(agent.steps) for agent in scenario.agents), default=0.0)


def _verdict(run: _Run, step_failure: str | None) -> None:
    """Analyse the capture, save the evidence (``evidence.json``: what ``sipscen
    judge`` re-judges) and judge every expectation into ``run.result``."""
    wire, wire_error, analysis_failed = run.analyse()
    ev = _evidence(run, wire, wire_error, analysis_failed, step_failure)
    _save_evidence(run, ev)

    def judged() -> None:
        run.judged = True
    apply_verdict(run.result, run.scenario, ev, strict=run.options.strict, done=judged)


def _evidence(run: _Run, wire, wire_error, analysis_failed: bool, step_failure):
    """What this run's verdict rests on, as plain data (engine/evidence_store.py)."""
    result, scenario = run.result, run.scenario
    signals, epoch0 = verdict.signal_times(run.board)
    blind = None
    if run.capture is not None:   # what the capture's filter or snaplen hid: no verdict
        blind = run.capture.blind_spots(run.contacts, scenario.capture.filter)
    needs = verdict.prepare(scenario.expectations)
    keys, keylogs = getattr(run, "analysed_with", ([], []))
    return Evidence(
        scenario_name=scenario.name, scenario_file=str(Path(scenario.file).resolve()),
        agents_of=[(a.name, a.type) for a in scenario.agents],
        services_of=[s.name for s in scenario.services],
        parameters=dict(scenario.parameters),
        agents=result.agents, services=result.services, wire=wire, wire_error=wire_error,
        analysis_failed=analysis_failed, contacts=dict(run.contacts), signals=signals,
        epoch0=epoch0, steps=verdict.step_times(run.board), warnings=list(result.warnings),
        step_failure=step_failure, location=result.location,
        capture_faults=list(run.capture.faults) if run.capture else [], blind=blind,
        audio=needs.audio and wire is not None, dtls_scan=needs.dtls_scan and wire is not None,
        capture=str(run.capture.path) if run.capture else None, srtp_keys=keys,
        tls_keylogs=keylogs, generator=run.options.generator,
        wire_audio=getattr(run, "wire_audio", {}) or {})


def _save_evidence(run: _Run, ev) -> None:
    """``evidence.json`` in the run's folder; a failure to write it is a warning (the
    verdict does not need it)."""
    if not run.prepared:
        return
    try:
        save(ev, run.dir)
    except ReportWriteError as exc:
        run.result.warnings.append(f"{exc} (`sipscen judge` cannot re-judge this run)")


def run_scenario(scenario: Scenario, options: RunOptions | None = None) -> ScenarioResult:
    """Run one loaded scenario and return its result. Never prints."""
    options = options or RunOptions()
    run = _Run(scenario, options)
    result = run.result
    if options.result_sink is not None:
        options.result_sink(result)
    started = time.monotonic()
    result.started_at = time.time()
    run.board.post("engine", "scenario_started", name=scenario.name, file=str(scenario.file))
    interrupted: KeyboardInterrupt | None = None
    step_failure: str | None = None
    try:
        for phase in (run.prepare, run.plan, run.start_capture, run.start_services,
                      run.start_agents, run.run_agents):
            run.check_stop()
            phase()
    except KeyboardInterrupt as exc:
        interrupted = exc
        result.status, result.error = ERROR, "interrupted"
        result.exit_status = int(ExitStatus.INTERRUPTED)
    except StepFailed as exc:
        step_failure = str(exc)
        if exc.location is not None:
            result.location = str(exc.location)     # point at the failing step
    except SipscenError as exc:
        result.status, result.error = ERROR, str(exc)
        result.exit_status = int(exc.status)
    except Exception as exc:  # noqa: BLE001 - an unexpected bug still tears down
        result.status, result.error = ERROR, f"internal error: {exc!r}"
    finally:
        try:
            run.teardown()
        except KeyboardInterrupt as exc:   # a second Ctrl-C while stopping
            interrupted = exc
            run.teardown()
        try:
            run.collect()
        except KeyboardInterrupt as exc:   # Ctrl-C right after teardown: still keep the facts
            interrupted = exc
            result.status, result.error = ERROR, "interrupted"
            result.exit_status = int(ExitStatus.INTERRUPTED)
            run.collect()

    if interrupted is None and result.error is None:
        try:
            _verdict(run, step_failure)
        except KeyboardInterrupt as exc:    # Ctrl-C/SIGTERM while analysing: no verdict
            interrupted = exc
            if not run.judged:              # (one landing after the verdict keeps it)
                result.status = ERROR
                result.error = ("interrupted while analysing the capture: no verdict (the "
                                "capture and logs are kept in the artifacts)")
                result.exit_status = int(ExitStatus.INTERRUPTED)
                result.checks = []
        except Exception as exc:  # noqa: BLE001 - a bug in analysis or a check: say so
            result.status, result.error = ERROR, f"internal error while checking: {exc!r}"
            result.exit_status = int(ExitStatus.INFRASTRUCTURE)
    try:
        with interrupts.held():     # the verdict is kept whole, the artifacts masked whole
            _conclude(run, started)
    except KeyboardInterrupt as exc:    # it landed while concluding: now, with the result
        interrupted = exc
    if interrupted is not None:
        interrupted.result = result  # type: ignore[attr-defined]
        raise interrupted
    return result


def _conclude(run: _Run, started: float) -> None:
    """The last touches of a result (the verdict is in): secrets masked in every
    file of the artifacts, the events, the duration; then "scenario finished"."""
    result = run.result
    if run.prepared:
        result.warnings += mask_secrets(run.dir, run.scenario.secrets)
    result.events = [e.to_dict() for e in run.board.events()]
    result.duration = time.monotonic() - started
    run.board.post("engine", "scenario_finished", name=run.scenario.name, status=result.status)
