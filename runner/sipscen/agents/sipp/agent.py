"""The SIPp agent: a built-in SIPp scenario, a SIPp XML file, or inline raw messages.

A calling agent with ``media: {play_pcap, play_dtmf}`` runs a generated caller
(``sipscen.agents.sipp.media``); ``media: {rtp_echo: true}`` adds SIPp's echo;
a serving agent (``scenario: uas`` or none) with ``media: {play_pcap}`` runs a
generated callee that plays the pcap back in every call.

Life cycle (see ``sipscen.agents.base``):

* ``plan``  reserves the SIP port, the control port and a media range;
* ``start`` checks the sipp binary and the XML (bad XML: ScenarioError, exit 2),
  writes the generated XML of inline messages, and starts a UAS-style agent
  (built-in ``uas``/``branchs``/..., or an XML whose first action is a recv) so
  it listens before any caller acts;
* ``ready`` waits until the UAS's own process has bound its port (read from
  /proc, so the probe never races SIPp for the port, and a port held by
  someone else does not count); a port in use (SIPp exit 254) is an
  InfrastructureError, exit 3;
* ``run``   starts a UAC-style agent and waits for it, bounded by its time limit,
  stopping it early when the run is cancelled. A UAS returns at once (it serves
  until ``stop``);
* ``stop``  stops SIPp (SIGINT: SIPp then writes its final statistics).

Verdict: from the statistics file, never from SIPp's exit code. A UAC that
made zero calls raises StepFailed (the scenario *fails*); inline messages whose
liveness probe got no answer raise StepFailed too. Per-message answers and the
load figures are in ``facts()`` for the ``response`` and ``load`` checks.
"""
from __future__ import annotations

import re
import signal
import time
from pathlib import Path
from typing import Any
from dataclasses import replace
import re

from sipscen.agents.base import ControlAgent
from sipscen.core.contact import Contact
from sipscen.core.network import require_loopback
from sipscen.agents.records import SippFacts
from sipscen.agents.sipp import inline, stats
from sipscen.agents.sipp.answer import build_answer_uas
from sipscen.agents.sipp.command import (BUILTIN_SCENARIOS, ERROR_FILE, MESSAGE_FILE,
                                        SHORTMESSAGE_FILE, STAT_FILE, SippCommand,
                                        load_settings)
from sipscen.agents.sipp.media import build_media_uac, build_media_uas, one_way_file
from sipscen.agents.sipp.secrets import hide_secrets
from sipscen.agents.sipp.netstat import udp_or_tcp_bound
from sipscen.agents.sipp.xmlfile import check_sipp_xml
from sipscen.core import process
from sipscen.core.errors import AgentError, InfrastructureError, ScenarioError, StepFailed
from sipscen.core.model import AgentSpec
from sipscen.core.redaction import redact_text
from sipscen.agents.sipp.impair import loss_fraction, thin_pcap

EXIT_BIND_ERROR = 254
_ADDRESS = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b|\[[0-9A-Fa-f:]+\]")
STOP_GRACE = 3.0
FULL_TRACE_MAX_CALLS = 100   # above this, -trace_shortmsg instead of -trace_msg


def check_endpoint(spec: AgentSpec, scenario_dir: Path | None = None) -> tuple[str, str]:
    """(address, transport) of a SIPp agent, or the ScenarioError its plan raises
    (also the agent type's ``check_config``: validate refuses the same)."""
    cfg = spec.config
    host = require_loopback(str(cfg.get("address") or "127.0.0.1"), f"{spec.path}.address",
                            spec.location)
    media = cfg.get("media") if isinstance(cfg.get("media"), dict) else {}
    if cfg.get("impair") is not None and not media.get("play_pcap"):
        raise ScenarioError("a SIPp agent's impair: thins the pcap it plays: give "
                            "media.play_pcap", spec.location, f"{spec.path}.impair")
    if media.get("one_way_every") and not (media.get("play_pcap") and cfg.get("target")):
        raise ScenarioError("media.one_way_every silences a calling agent's play_pcap in "
                            "every Nth call: give play_pcap and a target", spec.location,
                            f"{spec.path}.media.one_way_every")
    transport = cfg.get("transport") or "udp"
    if transport not in ("udp", "tcp"):
        raise ScenarioError(f"SIPp on this machine has no {str(transport).upper()} (built "
                            "without TLS): use udp or tcp", spec.location,
                            f"{spec.path}.transport")
    return host, transport


class SippAgent(ControlAgent):
    """A SIPp agent; as a CallControl it only times itself (sleep, signal waits, signals)."""
    type_name = "sipp"

    def __init__(self, ctx):
        super().__init__(ctx)
        self.contact: Contact | None = None
        self.command: SippCommand | None = None
        self.side = "uac"
        self.proc: process.ManagedProcess | None = None
        self.exit_code: int | None = None
        self.messages: list[inline.InlineMessage] = []
        self._secret_args: list[str] = []    # SIPp options that carry secrets
        self._facts: dict[str, Any] | None = None
        self._control_port = 0
        self._media = (0, 0)
        self._impair: dict[str, Any] | None = None    # agents/sipp/impair.py thin_pcap counts

    # --- helpers -------------------------------------------------------------------
    @property
    def config(self) -> dict[str, Any]:
        return dict(self.ctx.spec.config)

    def _err(self, message: str, key: str = "") -> ScenarioError:
        path = f"{self.ctx.spec.path}.{key}" if key else self.ctx.spec.path
        return ScenarioError(message, self.ctx.spec.location, path)

    @property
    def dir(self) -> Path:
        return self.ctx.artifacts_dir

    # --- plan ------------------------------------------------------------------------
    def plan(self) -> Contact:
        cfg = self.config
        host, transport = check_endpoint(self.ctx.spec)
        port = cfg.get("port", "auto")
        port = self.ctx.ports.port(host) if port in (None, "auto") else int(port)
        self._control_port = self.ctx.ports.port("127.0.0.1")   # SIPp: IPv4 only
        self._media = self.ctx.ports.range(
            media_port_count(cfg, [a.config for a in self.ctx.scenario.agents
                                   if a.type == "sipp" and a.name != self.ctx.name]), host)
        self.contact = Contact(self.ctx.name, host, port, transport,
                               user=str(cfg.get("user") or ""), media_ports=self._media)
        return self.contact

    # --- start -----------------------------------------------------------------------
    def start(self) -> None:
        cfg = self.config
        self.dir.mkdir(parents=True, exist_ok=True)
        binary = process.find_tool("sipp")
        builtin, xml_path = None, None
        if cfg.get("messages") is not None:
            if cfg.get("scenario") is not None:
                raise self._err("give either 'scenario' or 'messages', not both", "messages")
            self.messages = inline.parse_messages(cfg, self.ctx.spec.location,
                                                  self.ctx.spec.path,
                                                  probe=cfg.get("probe", True) is not False)
            xml_path = self.dir / "inline.xml"
            try:
                xml, self._secret_args = hide_secrets(
                    inline.build_xml(self.messages, self.ctx.name, self.ctx.spec.location,
                                     self.ctx.spec.path), self.ctx.scenario.secrets)
            except ValueError as exc:
                raise self._err(str(exc), "messages") from None
            xml_path.write_text(xml, encoding="latin-1")
            self.side = "uac"
        elif (cfg.get("media") or {}).get("play_pcap") and (
                cfg.get("scenario") in (None, "uas") and not cfg.get("target")):
            xml_path = self.dir / "media-uas.xml"      # a generated callee with media
            xml_path.write_text(build_media_uas(self._pcap(cfg["media"])), encoding="latin-1")
            self.side = "uas"
        elif cfg.get("answer") is not None:      # a generated callee (answer.py)
            xml_path = self.dir / "answer-uas.xml"
            xml_path.write_text(build_answer_uas(cfg["answer"]), encoding="latin-1")
            self.side = "uas"
        else:
            scenario = cfg.get("scenario") or "uac"
            if scenario in BUILTIN_SCENARIOS:
                builtin, self.side = scenario, BUILTIN_SCENARIOS[scenario]
            else:
                path = Path(scenario)
                if not path.is_absolute():
                    path = self.ctx.scenario.file.parent / path
                info = check_sipp_xml(path, f"{self.ctx.spec.path}.scenario",
                                      self.ctx.spec.location)
                xml_path, self.side = path.resolve(), info.side
        remote = self._remote(cfg)
        if self.side == "uac" and remote is None:
            raise self._err("a calling SIPp agent needs a 'target' (agent, service or "
                            "host:port)", "target")
        media = cfg.get("media") or {}
        default_limit = max(1.0, self.ctx.timeout - 2.0)
        load = load_settings(cfg, default_limit, self.ctx.spec.location, self.ctx.spec.path)
        inject = None
        if self.side == "uac" and (media.get("play_pcap") or media.get("play_dtmf")):
            xml_path = self._media_caller(cfg, media, load.duration_ms)
            if media.get("one_way_every"):
                inject = self.dir / "one-way.csv"
                inject.write_text(one_way_file(int(media["one_way_every"])))
            builtin = None
            if load.calls is None:
                load = _replace(load, calls=1)
        if self.messages:
            load = _replace(load, calls=1, limit=1, rate=None)
        if self.side == "uas":   # bounded even if nobody stops it
            load = _replace(load, time_limit=self.ctx.timeout + 5.0)
        calls = load.calls
        self.command = SippCommand(
            binary=binary, address=self.contact.host, port=self.contact.port,
            control_port=self._control_port, media_port=self._media[0],
            transport=self.contact.transport, builtin=builtin, scenario_file=xml_path,
            remote=remote, service=cfg.get("user"), load=load,
            full_trace=bool(self.messages) or (calls is not None and calls <= FULL_TRACE_MAX_CALLS),
            rtp_echo=bool(media.get("rtp_echo")),
            default_behaviors="none" if self.messages else None,
            no_retransmissions=bool(self.messages), secret_args=tuple(self._secret_args),
            extra_args=self._extra_args(cfg) + (("-inf", str(inject)) if inject else ()))
        if cfg.get("impair") is not None and self._impair is None:
            raise self._err("a SIPp agent's impair: thins the pcap it plays: give "
                            "media.play_pcap", "impair")
        if self.side == "uas":
            self._launch()

    def _media_caller(self, cfg: dict[str, Any], media: dict[str, Any],
                      duration_ms: int | None) -> Path:
        """Write the generated caller with media (sipscen.agents.sipp.media)."""
        if self.messages or cfg.get("scenario") not in (None, "uac"):
            raise self._err("media.play_pcap/play_dtmf drive sipscen's generated caller: use "
                            "them with scenario uac (or none) and no messages; in your own "
                            "XML use <exec play_pcap_audio=...>/<exec play_dtmf=...>", "media")
        pcap = self._pcap(media) if media.get("play_pcap") else None
        digits = str(media["play_dtmf"]) if media.get("play_dtmf") else None
        if media.get("one_way_every") and pcap is None:
            raise self._err("media.one_way_every silences the caller's play_pcap in every "
                            "Nth call: give play_pcap too", "media.one_way_every")
        path = self.dir / "media-uac.xml"
        path.write_text(build_media_uac(digits, pcap, duration_ms,
                                        media.get("one_way_every")), encoding="latin-1")
        return path

    def _pcap(self, media: dict[str, Any]) -> Path:
        pcap = Path(str(media["play_pcap"]))
        if not pcap.is_absolute():
            pcap = self.ctx.scenario.file.parent / pcap
        if not pcap.is_file():
            raise self._err(f"pcap file not found: {pcap}", "media.play_pcap")
        impair = self.config.get("impair")
        if impair is not None:      # loss at the sender (agents/sipp/impair.py says why)
            thinned = self.dir / "impaired.pcap"
            try:
                self._impair = thin_pcap(pcap, thinned, loss_fraction(impair.get("loss", 0)),
                                         int(impair.get("seed", 1)))
            except ValueError as exc:
                raise self._err(str(exc), "impair") from None
            return thinned
        return pcap

    def _extra_args(self, cfg: dict[str, Any]) -> tuple[str, ...]:
        """``extra_args`` as given, but no address off the loopback (e.g. -rsa)."""
        args = tuple(str(a) for a in cfg.get("extra_args") or ())
        for arg in args:
            for host in _ADDRESS.findall(arg):
                require_loopback(host.strip("[]"), f"{self.ctx.spec.path}.extra_args",
                                 self.ctx.spec.location)
        return args

    def _remote(self, cfg: dict[str, Any]) -> str | None:
        target = cfg.get("target")
        if not target:
            return None
        target = str(target)
        if target in self.ctx.contacts:
            return self.ctx.contacts[target].hostport
        host, sep, port = target.rpartition(":")
        if not sep or not port.isdigit():
            raise self._err(f"target '{target}' is neither an agent/service nor host:port",
                            "target")
        require_loopback(host, f"{self.ctx.spec.path}.target", self.ctx.spec.location)
        return target

    def _launch(self) -> None:
        self.proc = process.start(f"sipp-{self.ctx.name}", self.command.argv(),
                                  log_dir=self.dir, stop_signal=signal.SIGINT, cwd=self.dir)
        (self.dir / "command.txt").write_text(
            redact_text(" ".join(self.command.argv()), self.ctx.scenario.secrets) + "\n")
        self.ctx.board.post(self.ctx.name, "sipp_started", pid=self.proc.pid, side=self.side)

    # --- ready -----------------------------------------------------------------------
    def ready(self, timeout: float) -> None:
        if self.side != "uas" or self.proc is None:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self.proc.poll()
            if code is not None:
                self._raise_for_exit(code)
            if udp_or_tcp_bound(self.contact.host, self.contact.port, self.contact.transport,
                                pid=self.proc.pid):
                return
            time.sleep(0.02)
        raise AgentError(f"SIPp agent '{self.ctx.name}' did not bind "
                         f"{self.contact.hostport} within {timeout:g}s")

    def _raise_for_exit(self, code: int) -> None:
        tail = self.proc.stderr_tail(8) or self.proc.stdout_tail(8)
        if code == EXIT_BIND_ERROR:
            raise InfrastructureError(
                f"SIPp agent '{self.ctx.name}' could not bind its ports "
                f"({self.contact.hostport}, control {self._control_port}): port in use?\n{tail}")
        if ("Unable to load or parse" in tail or ("XML" in tail and "error" in tail.lower())
                or "invalid [keyword]" in tail or "Unsupported keyword" in tail):
            raise ScenarioError(f"SIPp rejected the scenario: {tail}", self.ctx.spec.location,
                                f"{self.ctx.spec.path}.scenario")
        raise AgentError(f"SIPp agent '{self.ctx.name}' exited with code {code}\n{tail}")

    # --- run -------------------------------------------------------------------------
    def run(self) -> None:
        """A serving SIPp runs its steps in order while it serves; a calling one runs
        its sleeps and waits first, then SIPp, then posts its signals."""
        if self.side == "uas":
            self._timeline(lambda step: True)
            return
        if not self._timeline(lambda step: step.kind != "signal"):
            return
        self._launch()
        limit = (self.command.load.time_limit or self.ctx.timeout) + 10.0
        deadline = time.monotonic() + limit
        board = self.ctx.board
        while self.proc.poll() is None:
            if board.cancelled.is_set() or time.monotonic() > deadline:
                self.stop()
                return
            time.sleep(0.05)
        self.exit_code = self.proc.poll()
        self.proc.stop()
        if self.exit_code == EXIT_BIND_ERROR:
            self._raise_for_exit(self.exit_code)
        facts = self.facts(refresh=True)
        s = facts["stats"]
        if not s["available"]:
            self._raise_for_exit(self.exit_code)
        if s["attempted"] == 0:
            raise StepFailed(f"SIPp agent '{self.ctx.name}' made no call (exit code "
                             f"{self.exit_code}, statistics: 0 calls attempted)",
                             self.ctx.spec.location)
        for r in facts["responses"]:
            if not r["was_sent"]:
                why = "; ".join(facts["errors"][:2]) or f"exit code {self.exit_code}"
                raise StepFailed(f"SIPp agent '{self.ctx.name}' stopped before sending message "
                                 f"{r['index']}: {why}", self.ctx.spec.location)
            if r["probe"] and r["received"] is None:
                last = r["index"] - 1
                raise StepFailed(
                    f"the system under test did not answer the liveness probe after message "
                    f"{last} of agent '{self.ctx.name}' (is it still alive?)",
                    self.ctx.spec.location)
        self._timeline(lambda step: step.kind == "signal")

    def _timeline(self, which) -> bool:
        """Run the steps ``which`` selects; False when the run was cancelled
        meanwhile (SIPp must not start then)."""
        return self.run_timeline([(i, s) for i, s in enumerate(self.ctx.spec.steps)
                                  if which(s)])

    # --- stop / facts ------------------------------------------------------------------
    def stop(self) -> None:
        if self.proc is not None:
            try:
                code = self.proc.stop(STOP_GRACE)
                if self.exit_code is None:
                    self.exit_code = code
            except Exception:  # noqa: BLE001 - stop never raises
                pass
            self._mask_logs()

    def _mask_logs(self) -> None:
        """SIPp logs what it sent with its variables expanded: mask the secrets
        in the kept logs (a secret sent in clear is still on the wire, in the pcap)."""
        secrets = [s for s in self.ctx.scenario.secrets if s]
        if not secrets:
            return
        for path in self.dir.glob("*.log"):
            try:
                text = path.read_bytes().decode("latin-1")
                masked = redact_text(text, secrets)
                if masked != text:
                    path.write_bytes(masked.encode("latin-1", "replace"))
            except OSError:
                pass

    def _file(self, pattern: str) -> Path | None:
        found = sorted(self.dir.glob(pattern))
        return found[-1] if found else None

    def facts(self, refresh: bool = False) -> dict[str, Any]:
        if self._facts is not None and not refresh:
            return self._facts
        target = self.command.load.target_rate if self.command else None
        summary = stats.summarise(self.dir / STAT_FILE, self._file("*_rtt.csv"), target,
                                  self.side)
        responses: list[dict[str, Any]] = []
        if self.messages:
            log = inline.parse_message_log(self.dir / MESSAGE_FILE)
            responses = inline.match_responses(self.messages, log)
        self._facts = SippFacts(
            uri=self.contact.uri if self.contact else "", side=self.side,
            exit_code=self.exit_code, stats=summary, responses=responses,
            errors=read_error_events(self.dir / ERROR_FILE)).to_dict()
        if self._impair is not None:
            self._facts["impair"] = dict(self._impair)
        return self._facts

    def artifacts(self) -> dict[str, str]:
        out = {}
        for label, pattern in (("stat", STAT_FILE), ("messages", MESSAGE_FILE),
                               ("shortmessages", SHORTMESSAGE_FILE), ("errors", ERROR_FILE),
                               ("rtt", "*_rtt.csv"), ("counts", "*_counts.csv"),
                               ("xml", "inline.xml"), ("media_xml", "media-uac.xml"),
                               ("media_uas_xml", "media-uas.xml")):
            path = self._file(pattern)
            if path is not None:
                out[label] = str(path)
        return out


def media_port_count(cfg: dict[str, Any], others: list | None = None) -> int:
    """Ports reserved for an agent's media: 4, or 4 per call when it plays a pcap
    (SIPp's ``[auto_media_port]`` moves 4 ports up per call, modulo 10,000). A
    serving agent without ``calls`` may answer every call the scenario's SIPp
    callers place (``others``: their configs): the sum of their ``calls``, else 500."""
    if not (cfg.get("media") or {}).get("play_pcap"):
        return 4

    def count(c) -> int | None:
        n = c.get("calls")
        return n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else None

    calls = count(cfg)
    if calls is None and cfg.get("target") is None:
        placed = [count(o) for o in others or () if o.get("target")]
        calls = sum(placed) if placed and all(placed) else None
    return 4 * min(calls or 500, 2500)


def read_error_events(path: Path, limit: int = 20) -> list[str]:
    """The first ``limit`` events of SIPp's ``-trace_err`` file, without timestamps."""
    try:
        text = path.read_text(encoding="latin-1")
    except OSError:
        return []
    events = re.split(r"\d{4}-\d\d-\d\d\t[\d:.]+\t[\d.]+: ", text)[1:]
    return [" ".join(e.split())[:300] for e in events[:limit]]


def _replace(load, **changes):
    return replace(load, **changes)
