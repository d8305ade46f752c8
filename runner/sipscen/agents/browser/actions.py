"""What a browser agent's steps do: the language's CallControl operations, each a
call of the page's ``sipscen`` API (``page/agent.js``) through Playwright.

An error the page throws (no current call, no telephone-event negotiated, ...)
fails the step with the page's own message (``OperationFailed``); a page that
does not answer in time is an ``AgentError``.
"""
from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any, Mapping

from sipscen.core.errors import AgentError
from sipscen.language.control import OperationFailed
from sipscen.agents.browser.chromium import ORIGIN

STEP_TIMEOUT = 10.0


class BrowserActions:
    """Mixed into BrowserAgent: ``self.host``, ``self.page``, ``self.book``, ``self.files``."""

    def _evaluate(self, expression: str, arg: Any = None, timeout: float = STEP_TIMEOUT) -> Any:
        if self.page is None or self.host is None:
            raise AgentError(f"agent {self.ctx.name}: the browser page is not open")
        page = self.page
        try:
            return self.host.call(lambda: page.evaluate(expression, arg), timeout)
        except TimeoutError as exc:
            self.check_alive()
            raise AgentError(f"agent {self.ctx.name}: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - Playwright's Error: the page's message
            text = str(exc).split("\n")[0]
            text = text.split("Error: ", 1)[-1] if "Error: " in text else text
            raise OperationFailed(text) from None

    def serve_file(self, path: str) -> str:
        """A URL of the page's origin that serves ``path`` (a WAV to play)."""
        url = f"/media/{secrets.token_hex(6)}{Path(path).suffix}"
        self.files[url] = (Path(path), "audio/wav")
        return ORIGIN + url

    # -- CallControl ---------------------------------------------------------------
    def received_digits(self) -> str:
        return self.book.received_digits()

    def make_call(self, uri: str, timeout: float | None, headers: Mapping[str, str],
                  name: str | None = None) -> str:
        call_id = str(self._evaluate("([u, h, t]) => sipscen.call(u, h, t)",
                                     [uri, _headers(headers),
                                      int(timeout * 1000) if timeout else 0]))
        if name and call_id:
            self.book.name_call(call_id, name, self.ctx.board.now())
        return call_id

    def answer(self, code: int, headers: Mapping[str, str]) -> None:
        self._evaluate("([c, h]) => sipscen.answer(c, h)", [int(code), _headers(headers)])

    def hangup(self, call_id: str | None) -> None:
        self._evaluate("id => sipscen.hangup(id)", call_id)

    def cancel(self, call_id: str | None) -> None:
        self._evaluate("id => sipscen.cancel(id)", call_id)

    def send_dtmf(self, digits: str, method: str, duration: float, gap: float) -> None:
        # the page answers once the digits are out, on the clock that sends them (the
        # audio clock for in-band and RFC 4733: it can run behind the wall clock)
        self._evaluate("([d, m, dur, gap]) => sipscen.dtmf(d, m, dur, gap)",
                       [digits, method, int(duration * 1000), int(gap * 1000)],
                       STEP_TIMEOUT + 2 * len(digits) * (duration + gap))

    def play(self, file: str | None, tone: Mapping[str, Any] | None, duration: float) -> None:
        spec: dict[str, Any] = {"file": self.serve_file(file)} if file else \
            {"tone": {"frequencies": list((tone or {}).get("frequencies") or [440])}}
        self._evaluate("([s, d]) => sipscen.play(s, d)", [spec, duration or 0])

    def hold(self, call_id: str | None, mode: str) -> None:
        if mode != "sendonly":
            raise OperationFailed("a browser agent holds with a=sendonly only")
        self._evaluate("id => sipscen.hold(id)", call_id)

    def unhold(self, call_id: str | None) -> None:
        self._evaluate("id => sipscen.unhold(id)", call_id)

    def register(self) -> None:
        self._evaluate("() => sipscen.register()")

    def unregister(self) -> None:
        self._evaluate("() => sipscen.unregister()")

    def send_message(self, uri: str, body: str, content_type: str,
                     headers: Mapping[str, str]) -> None:
        self._evaluate("([u, b, c]) => sipscen.message(u, b, c)", [uri, body, content_type])


def _headers(headers: Mapping[str, str]) -> list[str]:
    return [f"{name}: {value}" for name, value in (headers or {}).items()]
