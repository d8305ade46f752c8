"""``BaresipAgent``: baresip 1.0 as an agent, driven through its stdin menu.

sipscen writes baresip's ``config`` and ``accounts`` into the agent's artifacts
folder (listening on the planned port, RTP on the planned range, an ``ausine``
source (440 Hz unless ``source: {tone: HZ}``), the ``aubridge`` null sink, ``srtp``/``dtls_srtp`` as asked),
starts it through ``sipscen.core.process`` with stdin held open, and follows
its log (stdout) for events:

    call: connecting to 'URI'             -> call_state CALLING
    Incoming call from: / answering call  -> call_state INCOMING
    Call established: URI                 -> call_state CONFIRMED, media active
    session closed: REASON / ... terminated -> call_state DISCONNECTED
    received event: 'D' (end=0)           -> dtmf D (rfc4733), once per key press

Steps act through menu keys: ``/dial URI``, ``a`` (answer), ``b`` (hang up),
one key per DTMF digit (RFC 4733). Its calls in the facts are judged from the
capture (``checks/wire_party.py``, like a service's), the digits it received
come from its own log.
"""
from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from typing import Any

from sipscen.agents.base import AgentContext, TimelineAgent
from sipscen.core.contact import Contact
from sipscen.core.network import require_loopback
from sipscen.agents.records import BaresipFacts
from sipscen.core import process
from sipscen.core.errors import AgentError
from sipscen.language.control import OperationFailed
from sipscen.core.model import AgentSpec

MEDIAENC = {"disabled": "", "optional": "srtp", "mandatory": "srtp-mand", "dtls": "dtls_srtp"}
CODEC_NAMES = {"PCMA": "pcma", "PCMU": "pcmu", "G722": "g722", "opus": "opus/48000/2"}
POLL = 0.02
_LINES = [
    ("CALLING", re.compile(r"call: connecting to '([^']+)'")),
    ("INCOMING", re.compile(r"Incoming call from:\s+(\S+)|answering call on line \d+ from (\S+)")),
    ("CONFIRMED", re.compile(r"Call established: (\S+)")),
    # a hang-up of its own ends the call at once ("call: terminate call"); baresip 1.0
    # prints "Call with ... terminated" only once the BYE is answered, at times > 5 s late
    ("DISCONNECTED", re.compile(r"session closed: (.*)|Call with (\S+) terminated"
                                r"|call: terminate call '\S+' with (\S+)")),
    ("DTMF", re.compile(r"received event: '(.)' \(end=([01])\)")),
    ("SECURE", re.compile(r"DTLS-SRTP complete \(audio/RTP\)")),
]


def check_endpoint(spec: AgentSpec, scenario_dir: Path | None = None) -> str:
    """The baresip agent's address, or the ScenarioError its plan raises (also the
    agent type's ``check_config``: validate refuses the same)."""
    return require_loopback(str(spec.config.get("address") or "127.0.0.1"),
                            f"{spec.path}.address", spec.location)


class BaresipAgent(TimelineAgent):
    type_name = "baresip"

    def __init__(self, ctx: AgentContext):
        super().__init__(ctx)
        self.cfg = dict(ctx.spec.config)
        # DTLS-SRTP: baresip 1.0 sends RTP before its handshake ends (seen on the wire
        # under load), so `media_active` waits for "DTLS-SRTP complete (audio/RTP)"
        self._dtls = (self.cfg.get("srtp") or {}).get("use") == "dtls"
        self.contact_: Contact | None = None
        self.proc: process.ManagedProcess | None = None
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.cond = threading.Condition()
        self.digits: list[dict[str, Any]] = []
        self.sent: list[dict[str, Any]] = []
        self._in_call = False
        self._open_digit: str | None = None     # a digit whose end event has not come
        self._reader: threading.Thread | None = None
        self._stopping = threading.Event()

    # -- lifecycle -------------------------------------------------------------
    def plan(self) -> Contact:
        host = check_endpoint(self.ctx.spec)
        port = self.cfg.get("port", "auto")
        port = self.ctx.ports.port(host) if port in (None, "auto") else int(port)
        count = int((self.cfg.get("media") or {}).get("ports") or 10)
        media = self.ctx.ports.range(count + count % 2, host)
        user = str((self.cfg.get("account") or {}).get("user") or self.ctx.name)
        self.contact_ = Contact(self.ctx.name, host, port, "udp", user, media)
        return self.contact_

    def _config(self) -> tuple[str, str]:
        c = self.contact_
        enc = MEDIAENC[str((self.cfg.get("srtp") or {}).get("use") or "disabled")]
        modules = ["stdio", "g711", "g722", "opus", "ausine", "aubridge", "srtp", "dtls_srtp"]
        config = "\n".join([
            f"sip_listen {c.host}:{c.port}", f"net_interface {c.host}",
            f"rtp_ports {c.media_ports[0]}-{c.media_ports[1]}",
            f"audio_source ausine,{int((self.cfg.get('source') or {}).get('tone') or 440)}", "audio_player aubridge,nowhere",
            "ausrc_srate 48000", "ausrc_channels 2", "rtp_stats yes",
            "module_path /usr/lib/baresip/modules",
            *[f"module {m}.so" for m in modules],
            "module_tmp account.so", "module_app menu.so", ""])
        codecs = ",".join(CODEC_NAMES[x] for x in self.cfg.get("codecs") or ["PCMA"])
        manual = bool((self.cfg.get("answer") or {}).get("manual"))
        account = (f"<sip:{c.user}@{c.host}:{c.port}>;regint=0;audio_codecs={codecs}"
                   f";answermode={'manual' if manual else 'auto'}"
                   + (f";mediaenc={enc}" if enc else "") + "\n")
        return config, account

    def start(self) -> None:
        if self.contact_ is None:
            self.plan()
        folder = self.ctx.artifacts_dir / "baresip"
        folder.mkdir(parents=True, exist_ok=True)
        config, account = self._config()
        (folder / "config").write_text(config)
        (folder / "accounts").write_text(account)
        self.proc = process.start(f"{self.ctx.name}-baresip",
                                  [process.find_tool("baresip"), "-f", str(folder)],
                                  log_dir=self.ctx.artifacts_dir, stdin=True)
        self._reader = threading.Thread(target=self._follow, daemon=True,
                                        name=f"baresip-reader-{self.ctx.name}")
        self._reader.start()

    def ready(self, timeout: float) -> None:
        if self.wait_event(lambda kind, _: kind == "ready", timeout) is None:
            raise AgentError(f"agent {self.ctx.name}: baresip not ready after "
                             f"{timeout:g}s:\n{self.proc.stdout_tail(10)}")

    def stop(self) -> None:
        self._stopping.set()
        if self.proc is not None:
            try:
                self.proc.stop()
            except Exception:  # noqa: BLE001 - stop never raises
                pass
        if self._reader is not None:
            self._reader.join(2.0)

    # -- the log as events -------------------------------------------------------
    def _follow(self) -> None:
        path = self.proc.stdout_path
        offset, pending = 0, b""
        while True:
            done = self._stopping.is_set() or self.proc.poll() is not None
            try:
                with open(path, "rb") as f:
                    f.seek(offset)
                    chunk = f.read()
            except OSError:
                chunk = b""
            offset += len(chunk)
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                self._line(line.decode("utf-8", "replace"))
            if done:
                with self.cond:
                    self.cond.notify_all()
                return
            time.sleep(POLL)

    def _post(self, kind: str, **data: Any) -> None:
        with self.cond:
            self.events.append((kind, data))
            self.cond.notify_all()
        if kind != "ready":
            self.ctx.board.post(self.ctx.name, kind, **data)

    def _line(self, line: str) -> None:
        if "baresip is ready" in line:
            self._post("ready")
            return
        for state, pattern in _LINES:
            m = pattern.search(line)
            if not m:
                continue
            if state == "DTMF":
                if m.group(2) == "1":
                    self._open_digit = None
                    return
                if self._open_digit == m.group(1):     # the same key press, repeated
                    return
                self._open_digit = m.group(1)
                t = self.ctx.board.now()
                self.digits.append({"digit": m.group(1), "method": "rfc4733", "t": t,
                                    "duration_ms": None, "call_id": None})
                self._post("dtmf", digit=m.group(1), method="rfc4733")
            elif state == "SECURE":
                if self._dtls:      # media is active once it is keyed, not before
                    self._post("media", state="active", srtp="dtls")
            elif state == "DISCONNECTED":
                if self._in_call or not any(k == "call_state" and d["state"] == "DISCONNECTED"
                                            for k, d in self.events[-3:]):
                    self._in_call = False
                    self._post("call_state", state="DISCONNECTED", reason=m.group(0))
            else:
                self._in_call = True
                self._post("call_state", state=state, remote_uri=next(
                    (g for g in m.groups() if g), ""))
                if state == "CONFIRMED" and not self._dtls:
                    self._post("media", state="active")
            return

    # -- CallControl -------------------------------------------------------------------
    def check_alive(self) -> None:
        if self.proc is None or self._stopping.is_set():
            return
        code = self.proc.poll()
        if code is not None:
            raise AgentError(f"agent {self.ctx.name}: baresip exited with code {code}:\n"
                             f"{self.proc.stdout_tail(10)}")

    def received_digits(self) -> str:
        return "".join(d["digit"] for d in self.digits)

    def _key(self, text: str) -> None:
        self.check_alive()
        try:
            self.proc.write_line(text)
        except Exception as exc:  # noqa: BLE001 - the step fails, saying why
            raise OperationFailed(str(exc)) from exc

    def make_call(self, uri: str, timeout: float | None, headers, name=None,
                  options=None) -> str:
        if headers or options:
            raise OperationFailed("baresip agent cannot add headers, set the caller ID "
                                  "or make a late offer")
        self._key(f"/dial {uri}")
        return ""            # baresip names no Call-ID when dialling: the capture does

    def answer(self, code: int, headers, reason: str = "") -> None:
        if code != 200 or reason:
            raise OperationFailed("baresip agent answers with 200 only")
        self._key("a")

    def hangup(self, call_id) -> None:
        self._key("b")

    def send_dtmf(self, digits: str, method: str, duration: float, gap: float) -> None:
        if method != "rfc4733":
            raise OperationFailed("baresip agent sends RFC 4733 only")
        for digit in digits:
            self._key(digit)
            self.sent.append({"digit": digit, "method": "rfc4733", "t": self.ctx.board.now(),
                              "call_id": None})
            self.pause(max(duration, 0.1) + max(gap, 0.1))

    # -- results ---------------------------------------------------------------------
    def facts(self) -> dict[str, Any]:
        return BaresipFacts(uri=self.contact_.uri if self.contact_ else "",
                            dtmf_received=list(self.digits),
                            dtmf_sent=list(self.sent)).to_dict()

    def artifacts(self) -> dict[str, str]:
        return self.proc.logs() if self.proc is not None else {}
