"""``BrowserAgent``: a page in the scenario's Chromium, running JsSIP, as an agent.

``start`` gets the scenario's :class:`~sipscen.agents.browser.host.BrowserHost`
(Chromium starts with the first browser agent), opens the agent's own browser
context and page, hands the page its configuration (``sipscen.start``) and
waits until its WebSocket to the registrar is open (or says why it is not:
nothing listening, not a WebSocket server, a certificate the browser does not
trust). ``ready`` waits for the REGISTER's 2xx when it registers at start.

The page reports what happens (``window.sipscenEvent``); those become the
events a PJSUA worker reports (``call_state``, ``media``, ``dtmf``,
``reg_state``, ...), folded into facts by the same fact book and posted on the
board. Steps act through ``page.evaluate`` (``actions.py``). What each call
receives is written to ``rx-N.wav`` (``rx_audio.py``), its getStats() figures
are the call's ``rtp`` facts.
"""
from __future__ import annotations

import re
import threading
import wave
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from sipscen.agents.base import AgentContext, Contact, TimelineAgent
from sipscen.agents.browser import host as hosts
from sipscen.agents.browser.actions import BrowserActions
from sipscen.agents.browser.book import BrowserFactBook
from sipscen.agents.browser.rx_audio import RxAudio
from sipscen.agents.browser.settings import BrowserContact, parse_settings, server_of
from sipscen.agents.browser.sockets import connections_to
from sipscen.core.errors import AgentError
from sipscen.language.control import OperationFailed

CONNECT_TIMEOUT = 10.0
# page events mirrored on the board, with the fields they keep
_BOARD_FIELDS = {
    "call_state": ("state", "code", "reason", "call_id", "direction", "remote_uri"),
    "media": ("state", "previous", "call_state", "codec", "clock_rate", "payload_type",
              "srtp", "call_id"),
    "dtmf": ("digit", "method", "duration_ms", "call_id"),
    "dtmf_sent": ("digit", "method", "call_id"),
    "reg_state": ("code", "reason", "expires"),
    "message": ("sender", "to", "content_type", "body"),
    "error": ("message", "call_id"),
}


class BrowserAgent(BrowserActions, TimelineAgent):
    type_name = "browser"

    def __init__(self, ctx: AgentContext):
        super().__init__(ctx)
        self.settings = parse_settings(ctx.spec)
        self.contact_: Contact | None = None
        self.book = BrowserFactBook()
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.cond = threading.Condition()
        self.host: hosts.BrowserHost | None = None
        self.context = None
        self.page = None
        self.url = ""
        self.server: tuple[str, int] | None = None
        self.files: dict[str, tuple[Any, str]] = {}     # extra files the page may fetch
        self.rx: dict[str, RxAudio] = {}                # Call-ID -> its received audio
        self.sdp: dict[tuple[str, str], str] = {}       # (Call-ID, local|remote) -> last SDP
        self.console: list[str] = []
        self.websocket: dict[str, Any] = {}
        self.addresses: set[str] = set()
        self._crashed = ""
        self._acquired = False
        self._page = None                               # the page being opened (plan)

    # -- lifecycle -------------------------------------------------------------
    def plan(self) -> Contact:
        reg = self.settings.registrar
        party = self.ctx.contacts.get(reg) if "://" not in reg else None
        via = party.hostport if party is not None else ""
        self.contact_ = BrowserContact(self.ctx.name, "127.0.0.1", 0, self.settings.transport,
                                       self.settings.user, None, via=via)
        # Chromium and this agent's page get ready while the capture and services start
        self.host = hosts.host_for(self.ctx)
        self._acquired = True
        self.host.owner = self.host.owner or self.ctx.name
        self.host.launch()
        self._page = self.host.submit(
            lambda: self.host.open_page(self._on_event, self._on_console, self.files))
        return self.contact_

    def start(self) -> None:
        if self.contact_ is None:
            self.plan()
        self.url, host, port = server_of(self.settings, self.ctx.spec, self.ctx.contacts)
        self.server = (host, port)
        self.book.uri = self._contact_uri()
        self.host.start()
        try:
            self.context, self.page = self._page.result(CONNECT_TIMEOUT * 2)
        except FutureTimeout:
            raise AgentError(f"agent {self.ctx.name}: its page did not load within "
                             f"{CONNECT_TIMEOUT * 2:g}s") from None
        with self.host.connect_lock:          # one WebSocket opening at a time: its port
            before = connections_to(host, port)
            try:
                self._evaluate("c => sipscen.start(c)", self._page_config(), CONNECT_TIMEOUT)
            except OperationFailed as exc:
                raise AgentError(f"agent {self.ctx.name}: the page did not start: {exc}") \
                    from None
            found = self.wait_event(lambda k, d: k == "ws", CONNECT_TIMEOUT)
            if found is None or found[1].get("state") != "connected":
                raise AgentError(self._connect_failure(found))
            new = connections_to(host, port) - before - self.host.claimed
            if len(new) == 1:
                self.addresses |= new
                self.host.claimed |= new
        self.websocket = {"url": self.url, "transport": self.settings.transport,
                          "local": sorted(self.addresses), "connected_at": round(
                              self.ctx.board.now(), 6)}

    def ready(self, timeout: float) -> None:
        if not self.settings.register_at_start:
            return
        found = self.wait_event(lambda k, d: k == "reg_state", timeout)
        if found is None:
            raise AgentError(f"agent {self.ctx.name}: no answer to REGISTER at {self.url} "
                             f"after {timeout:g}s")
        code = found[1].get("code") or 0
        if not 200 <= code < 300:
            raise AgentError(f"agent {self.ctx.name}: REGISTER at {self.url} refused: "
                             f"{code} {found[1].get('reason') or ''}".rstrip())

    def run(self) -> None:
        try:
            super().run()
        finally:
            self.book.run_over = True     # what follows (the teardown's un-REGISTER) is not a step

    def stop(self) -> None:
        try:
            if self.page is not None and self.host is not None and self.host.alive():
                try:
                    self._evaluate("() => sipscen.stop()", None, 3.0)
                    self.host.call(self.context.close, 3.0)
                except Exception:  # noqa: BLE001 - stop never raises
                    pass
        finally:
            self.page = None
            for call_id in list(self.rx):
                self._close_rx(call_id)
            if self._acquired:
                self._acquired = False
                hosts.release(self.ctx)

    # -- the page's reports ------------------------------------------------------------
    def _on_event(self, kind: str, data: dict[str, Any]) -> None:
        """Runs on the host's loop: keep it short."""
        t = self.ctx.board.now()
        if kind == "audio":
            self._audio(data, t)
            return
        if kind == "sdp":
            self.sdp[(str(data.get("call_id")), str(data.get("originator")))] = \
                str(data.get("sdp") or "")
            self._note_candidates(str(data.get("sdp") or ""), data.get("originator"))
            return
        if kind == "media":
            data = {**data, "local_sdp": self.sdp.get((str(data.get("call_id")), "local"), ""),
                    "remote_sdp": self.sdp.get((str(data.get("call_id")), "remote"), "")}
        if kind == "stats" and data.get("local_address"):
            self.addresses.add(_norm(str(data["local_address"])))
        if kind == "rx_done":             # the page stopped recording the call
            self._close_rx(str(data.get("call_id")))
            return
        self.book.apply(kind, data, t)
        self.take_event(kind, data, _BOARD_FIELDS.get(kind))

    def _on_console(self, level: str, text: str) -> None:
        if level in ("error", "warning", "pageerror", "crash"):
            self.console.append(f"{level}: {text}")
            if len(self.console) > 200:
                del self.console[:100]
        if level == "crash":
            self._crashed = text

    def _audio(self, data: dict[str, Any], t: float) -> None:
        call_id = str(data.get("call_id"))
        rx = self.rx.get(call_id)
        if rx is None:
            if call_id in self.book.closed_rx:
                return
            ahead = (float(data.get("now_ms") or 0) - float(data.get("first_ms") or 0)) / 1000
            path = self.ctx.artifacts_dir / f"rx-{int(data.get('index') or len(self.rx) + 1)}.wav"
            rx = self.rx[call_id] = RxAudio(path, int(data.get("rate") or hosts.RATE), t - ahead)
            self.book.set_rx(call_id, rx.record())
        for digit in rx.add(str(data.get("pcm") or "")):
            self._on_event("dtmf", {"call_id": call_id, "digit": digit["digit"],
                                    "method": "inband", "duration_ms": digit.get("duration_ms"),
                                    "level_dbfs": digit.get("level_dbfs")})

    def _close_rx(self, call_id: str) -> None:
        rx = self.rx.pop(call_id, None)
        if rx is None:
            return
        self.book.closed_rx.add(call_id)
        for digit in rx.close():
            self._on_event("dtmf", {"call_id": call_id, "digit": digit["digit"],
                                    "method": "inband", "duration_ms": digit.get("duration_ms")})

    def _note_candidates(self, sdp: str, originator: Any) -> None:
        """The loopback candidates it offered or answered are its media addresses."""
        if originator != "local":
            return
        for line in sdp.splitlines():
            if line.startswith("a=candidate:"):
                parts = line.split()
                if len(parts) > 5 and parts[2].lower() == "udp":
                    self.addresses.add(_norm(f"{parts[4]}:{parts[5]}"))

    # -- helpers -------------------------------------------------------------------
    def _contact_uri(self) -> str:
        return f"sip:{self.settings.user}@{self.settings.contact_token}.invalid;transport=ws"

    def _page_config(self) -> dict[str, Any]:
        s = self.settings
        domain = s.domain or (self.server[0] if self.server else "127.0.0.1")
        domain = f"[{domain}]" if ":" in domain and not domain.startswith("[") else domain
        source = dict(s.source)
        if source.get("file"):
            source["file"] = self.serve_file(str(source["file"]))
        return {"url": self.url, "uri": f"sip:{s.user}@{domain}", "password": s.password,
                "username": s.username, "realm": s.realm, "register": s.register_at_start,
                "codecs": s.codecs, "answer": s.answer, "source": source or None,
                "contact_uri": self._contact_uri()}

    def _connect_failure(self, found) -> str:
        """Why the WebSocket did not open, from what Chromium logged about it."""
        why = next((c.split("failed: ", 1)[-1] for c in reversed(self.console)
                    if "WebSocket connection to" in c), "")
        code = re.search(r"net::[A-Z_]+", why)
        why = code.group(0) if code else why
        where = f"agent {self.ctx.name}: cannot open the WebSocket {self.url}"
        if found is None:
            return f"{where}: no answer within {CONNECT_TIMEOUT:g}s"
        if "ERR_CERT" in why:
            return (f"{where}: the browser does not trust the server's certificate ({why}); "
                    f"trust it with `tls: {{trust: CERT.pem}}` on the browser agent (the "
                    f"server's certificate or its CA, PEM)")
        if "ERR_CONNECTION_REFUSED" in why:
            return (f"{where}: nothing listens there ({why}): does "
                    f"'{self.settings.registrar}' take SIP over "
                    f"{'secure ' if self.settings.transport == 'wss' else ''}WebSocket on "
                    f"that port (its `{self.settings.transport}_port`)?")
        if "handshake" in why.lower() or "Unexpected response" in why:
            return f"{where}: the server there is not a SIP WebSocket server ({why})"
        return f"{where}" + (f": {why}" if why else ": the connection closed")

    def check_alive(self) -> None:
        if self._crashed:
            raise AgentError(f"agent {self.ctx.name}: {self._crashed}")
        if self.host is not None:
            self.host.check_alive()

    # -- results ---------------------------------------------------------------------
    def facts(self) -> dict[str, Any]:
        facts = self.book.as_dict()
        facts["addresses"] = sorted(self.addresses)
        facts["websocket"] = dict(self.websocket) or {"url": self.url}
        # its own connection, as a client (checks/transport.py reads them)
        facts["connections"] = [{"local": local, "remote": self.url,
                                 "transport": self.settings.transport}
                                for local in self.websocket.get("local") or []]
        if self.host is not None:
            facts["browser"] = {"version": self.host.version,
                                "ready_s": round(self.host.ready_at or 0.0, 3)}
        for call in facts["calls"]:
            tap = call.get("rx_audio")
            if tap and tap.get("path"):
                tap["summary"] = _summary(tap["path"])
        return facts

    def artifacts(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for index, call in enumerate(c for c in self.book.calls() if c.rx_audio):
            found[f"rx_audio{index + 1}"] = call.rx_audio["path"]
        if self.host is not None and self.host.owner == self.ctx.name:
            found.update(self.host.artifacts())
        if self.console:
            path = self.ctx.artifacts_dir / "console.log"
            path.write_text("\n".join(self.console) + "\n")
            found["console"] = str(path)
        return found

    def tls_keylogs(self) -> list[str]:
        keylog = self.host.keylog if self.host is not None else None
        return [str(keylog)] if keylog is not None and keylog.exists() else []


def _norm(address: str) -> str:
    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _summary(path: str) -> dict[str, Any] | None:
    from sipscen.analysis.audio import read_wav  # lazy: loads numpy, which only this path needs
    from sipscen.analysis.quality import audio_summary  # lazy: loads numpy
    try:
        samples, rate = read_wav(path)
    except (OSError, ValueError, EOFError, wave.Error):
        return None
    return audio_summary(samples, rate)


__all__ = ["BrowserAgent"]
