"""One Chromium per scenario, serving every browser agent of it.

``host_for(ctx)`` gives the scenario's :class:`BrowserHost` (keyed by the run's
board, counted per agent); ``release(ctx)`` stops it with its last agent.

The host starts Chromium itself, through ``sipscen.engine.process`` (its own
process group, registered with the watchdog, killed as a group: no Chromium
outlives the run whatever ends it), with DevTools on a planned loopback port,
and connects Playwright to it over CDP. Playwright's async API runs on an
event loop in a thread of the host's own; agents call in with :meth:`call`
(a coroutine function run there, waited for with a timeout). Each agent gets
its own browser context (cookies, storage, permissions apart) and one page in
it, served from disk by a route (``chromium.page_files``), never by a socket.

Playwright's driver (a Node.js child it starts itself on a pipe) ends when the
connection is stopped, or when its pipe closes because sipscen died.
"""
from __future__ import annotations

import asyncio
import os
import re
import threading
import time
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any, Awaitable, Callable

from sipscen.agents.browser import chromium
from sipscen.core import process
from sipscen.core.errors import AgentError, InfrastructureError

START_TIMEOUT = 30.0
RATE = 16000                  # the page's audio: what it records at (WebAudio resamples to it)          # Chromium's DevTools + Playwright's driver, on a loaded machine
STOP_TIMEOUT = 5.0
_DEVTOOLS = re.compile(r"DevTools listening on (ws://\S+)")

_hosts: dict[int, "BrowserHost"] = {}
_hosts_lock = threading.Lock()


def host_for(ctx: Any) -> "BrowserHost":
    """The scenario's host (created by its first browser agent); counts this agent."""
    key = id(ctx.board)
    with _hosts_lock:
        host = _hosts.get(key)
        if host is None:
            host = _hosts[key] = BrowserHost(key, ctx.artifacts_dir.parent / "chromium",
                                             ctx.ports, _trusted(ctx.scenario))
        host.users += 1
        return host


def release(ctx: Any) -> None:
    """This agent is done with the host: the last one stops it."""
    key = id(ctx.board)
    with _hosts_lock:
        host = _hosts.get(key)
        if host is None:
            return
        host.users -= 1
        if host.users > 0:
            return
        del _hosts[key]
    host.stop()


def _trusted(scenario: Any) -> list[str]:
    """SPKI hashes of every certificate the scenario's browser agents trust."""
    hashes = []
    for agent in scenario.agents:
        trust = (agent.config.get("tls") or {}).get("trust") if agent.type == "browser" else None
        if trust:
            try:
                hashes.append(chromium.spki_hash(str(trust)))
            except (OSError, ValueError):
                pass      # validate refused it already; at run time the wss error says why
    return hashes


class BrowserHost:
    def __init__(self, key: int, folder: Path, ports: Any, trusted: list[str]):
        self.key = key
        self.folder = folder
        self.ports = ports
        self.trusted = trusted
        self.users = 0
        self.keylog = folder / "sslkeys.log"      # TLS secrets of every wss connection
        self.proc: process.ManagedProcess | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread: threading.Thread | None = None
        self.playwright = None
        self.browser = None
        self.ready_at: float | None = None       # seconds from start() to connected
        self.version = ""
        self.owner = ""                          # the first agent: it lists the host's files
        self.connect_lock = threading.Lock()      # one WebSocket opening at a time
        self.claimed: set[str] = set()           # local addresses agents took as theirs
        self._boot = None                        # the boot's future (launch)
        self._driver = None                      # the task starting Playwright's driver
        self._lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------
    def launch(self) -> None:
        """Start booting in the background (once): the host's thread starts Chromium and
        Playwright's driver side by side and connects. The first browser agent calls it
        when it is planned, so Chromium starts while the capture and the services do."""
        with self._lock:
            if self.loop is not None:
                return
            self.folder.mkdir(parents=True, exist_ok=True)
            self.loop = asyncio.new_event_loop()
            # the thread that starts Chromium lives as long as it: the parent-death signal
            # (engine/process.py) is tied to it
            self.thread = threading.Thread(target=self.loop.run_forever, daemon=True,
                                           name=f"browser-host-{self.key}")
            self.thread.start()
            self._boot = asyncio.run_coroutine_threadsafe(self._boot_up(), self.loop)

    def start(self) -> None:
        """Chromium up and connected (launching it if need be); the boot's error if any."""
        self.launch()
        try:
            self._boot.result(START_TIMEOUT + 5)
        except FutureTimeout:
            raise InfrastructureError(f"the browser agents' Chromium did not start within "
                                      f"{START_TIMEOUT:g}s") from None

    async def _boot_up(self) -> None:
        t0 = time.monotonic()
        driver = self._driver = asyncio.ensure_future(self._start_playwright())  # meanwhile
        port = self.ports.port("127.0.0.1")
        self.proc = process.start("chromium", chromium.argv(port, self.folder / "profile",
                                                           self.trusted),
                                  log_dir=self.folder,
                                  env=chromium.environment(self.folder, self.keylog))
        url = await self._devtools_url(t0 + START_TIMEOUT)
        try:
            # shielded: a cancelled boot (a run ending early) leaves the driver to finish
            # starting, so that stop() can stop it (half started, it would be orphaned)
            await asyncio.wait_for(asyncio.shield(driver),
                                   max(1.0, t0 + START_TIMEOUT - time.monotonic()))
            await asyncio.wait_for(self._connect(url),
                                   max(1.0, t0 + START_TIMEOUT - time.monotonic()))
        except asyncio.TimeoutError:
            raise InfrastructureError(f"the browser agents' Chromium did not connect within "
                                      f"{START_TIMEOUT:g}s (Playwright over CDP at {url})") \
                from None
        self.ready_at = time.monotonic() - t0

    async def _start_playwright(self) -> None:
        try:
            from playwright.async_api import async_playwright   # optional: the webrtc extra
        except ImportError:
            raise InfrastructureError("the browser agent needs Playwright: pip install "
                                      "'sipscen[webrtc]' (./setup.sh does)") from None
        self.playwright = await async_playwright().start()

    async def _connect(self, url: str) -> None:
        self.browser = await self.playwright.chromium.connect_over_cdp(url)
        self.version = self.browser.version

    async def _devtools_url(self, deadline: float) -> str:
        while True:
            text = self.proc.stderr_tail(50) if self.proc else ""
            found = _DEVTOOLS.search(text)
            if found:
                return found.group(1)
            code = self.proc.poll()
            if code is not None:
                raise InfrastructureError(f"Chromium exited with code {code} before it was "
                                          f"ready:\n{text}")
            if time.monotonic() > deadline:
                raise InfrastructureError(f"Chromium not ready within {START_TIMEOUT:g}s "
                                          f"(no DevTools port):\n{text}")
            await asyncio.sleep(0.02)

    def stop(self) -> None:
        """End the boot if it still runs, close Playwright, stop Chromium's process group,
        end the loop. Never raises."""
        if self._boot is not None and not self._boot.done():
            self._boot.cancel()                # Chromium, if already started, stops below
            try:              # the driver, half started, is left to finish and stopped below
                self.call(self._settle, START_TIMEOUT)
            except BaseException:  # noqa: BLE001
                pass
        if self.loop is not None and self.playwright is not None:
            try:
                self.call(self._close, STOP_TIMEOUT)
            except BaseException:  # noqa: BLE001 - Chromium is stopped below anyway
                pass
        if self.proc is not None:
            try:
                self.proc.stop(grace=2.0)
            except BaseException:  # noqa: BLE001
                pass
            process.stop_strays(str(self.folder))     # its crash handler's own session
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.loop.stop)
            if self.thread is not None:
                self.thread.join(STOP_TIMEOUT)

    async def _settle(self) -> None:
        """The boot's cancellation has run; Playwright's driver has started (or failed)."""
        await asyncio.sleep(0)
        if self._driver is not None:
            await asyncio.wait([self._driver])

    async def _close(self) -> None:
        try:
            if self.browser is not None:
                await self.browser.close()
        finally:
            await self.playwright.stop()

    def artifacts(self) -> dict[str, str]:
        """Chromium's logs and the TLS key log of its wss connections."""
        found = dict(self.proc.logs()) if self.proc is not None else {}
        found = {f"chromium_{label}": path for label, path in found.items()}
        if self.keylog.exists():
            found["tls_keylog"] = str(self.keylog)
        return found

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise AgentError(f"Chromium exited with code {self.proc.poll()}:\n"
                             f"{self.proc.stderr_tail(10)}")

    # -- calls into the loop ----------------------------------------------------------
    def call(self, make: Callable[..., Awaitable[Any]], timeout: float, *args: Any) -> Any:
        """Run ``make(*args)`` on the host's loop and wait at most ``timeout`` seconds."""
        if self.loop is None:
            raise AgentError("the browser host is not started")
        future = asyncio.run_coroutine_threadsafe(_run(make, *args), self.loop)
        try:
            return future.result(timeout)
        except FutureTimeout:
            future.cancel()
            raise TimeoutError(f"no answer from the browser within {timeout:g}s") from None

    def submit(self, make: Callable[[], Awaitable[Any]]):
        """Run ``make()`` on the host's loop without waiting: its concurrent future."""
        return asyncio.run_coroutine_threadsafe(_run(make), self.loop)

    async def open_page(self, on_event: Callable[[str, dict], None],
                        on_console: Callable[[str, str], None], extra: dict):
        """A new browser context with the agent's page loaded: (context, page).
        ``extra`` (URL path -> (file, type)) is read at each request: files the agent
        adds later (a WAV to play) are served too."""
        await asyncio.wrap_future(self._boot)
        files = chromium.page_files()
        context = await self.browser.new_context()

        async def serve(route) -> None:
            path = "/" + route.request.url.split("/", 3)[3].split("?")[0] \
                if route.request.url.count("/") >= 3 else "/"
            found = files.get(path) or extra.get(path)
            if found is None:
                await route.fulfill(status=404, body="not found")
            else:
                await route.fulfill(body=found[0].read_bytes(), content_type=found[1])

        await context.route(chromium.ORIGIN + "/**", serve)
        await context.expose_binding("sipscenEvent",
                                     lambda _source, kind, data: on_event(str(kind), data or {}))
        page = await context.new_page()
        page.on("console", lambda m: on_console(m.type, m.text))
        page.on("pageerror", lambda e: on_console("pageerror", str(e)))
        page.on("crash", lambda _p: on_console("crash", "the page crashed"))
        await page.goto(chromium.ORIGIN + "/")
        await page.evaluate("rate => sipscen.prepare(rate)", RATE)    # its audio, ahead
        return context, page


async def _run(make: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    return await make(*args)
