"""The ``responder`` agent: a UDP socket on the loopback that answers every SIP
request with one final status. A thread, no process of its own (so nothing
for sipscen's process supervisor to stop)."""
from __future__ import annotations

import socket
import threading
from typing import Any

from sipscen.agents.base import ControlAgent
from sipscen.core.contact import Contact
from sipscen.core.network import require_loopback

REASONS = {486: "Busy Here", 480: "Temporarily Unavailable", 603: "Decline", 404: "Not Found"}


class ResponderAgent(ControlAgent):
    type_name = "responder"

    def __init__(self, ctx):
        super().__init__(ctx)
        self.sock: socket.socket | None = None
        self.thread: threading.Thread | None = None
        self.stopping = threading.Event()
        self.answered: list[dict[str, Any]] = []

    def plan(self) -> Contact:
        cfg = self.ctx.spec.config
        host = require_loopback(str(cfg.get("address") or "127.0.0.1"),
                                f"{self.ctx.spec.path}.address", self.ctx.spec.location)
        port = cfg.get("port")            # a number, or "auto" (the default): a free one
        port = port if isinstance(port, int) else self.ctx.ports.port(host)
        self.contact = Contact(self.ctx.name, host, port, "udp", user=self.ctx.name)
        return self.contact

    def start(self) -> None:
        self.sock = socket.socket(socket.AF_INET6 if ":" in self.contact.host else socket.AF_INET,
                                  socket.SOCK_DGRAM)
        self.sock.bind((self.contact.host, self.contact.port))
        self.sock.settimeout(0.1)
        self.thread = threading.Thread(target=self._serve, name=f"responder-{self.ctx.name}",
                                       daemon=True)
        self.thread.start()

    def ready(self, timeout: float) -> None:
        pass                          # the socket is bound in start()

    def run(self) -> None:
        self.run_timeline()

    def stop(self) -> None:
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(2.0)
        if self.sock is not None:
            self.sock.close()

    def facts(self) -> dict[str, Any]:
        return {"type": "responder", "uri": self.contact.uri, "calls": [],
                "answered": list(self.answered)}

    # --- the server ----------------------------------------------------------------------
    def _serve(self) -> None:
        cfg = self.ctx.spec.config
        status = int(cfg.get("status") or 486)
        reason = str(cfg.get("reason") or REASONS.get(status, "Response"))
        while not self.stopping.is_set():
            try:
                data, peer = self.sock.recvfrom(65535)
            except (socket.timeout, OSError):
                continue
            answer = _answer(data.decode("utf-8", "replace"), status, reason, self.ctx.name)
            if answer is None:
                continue
            method, text = answer
            code = 200 if method in ("ACK",) else status
            if method != "ACK":
                self.sock.sendto(text.encode(), peer)
                self.answered.append({"method": method, "status": code})


def _answer(request: str, status: int, reason: str, tag: str) -> tuple[str, str] | None:
    """(method, the response text) to a SIP request; None for a response or junk."""
    head = request.split("\r\n\r\n", 1)[0].split("\r\n")
    parts = head[0].split(" ")
    if len(parts) != 3 or parts[2] != "SIP/2.0":
        return None
    method = parts[0]
    if method == "INVITE" and status < 300:
        status, reason = 486, "Busy Here"     # this agent never takes a call
    copied = [h for h in head[1:] if h.split(":", 1)[0].strip().lower()
              in ("via", "v", "from", "f", "call-id", "i", "cseq")]
    to = next((h for h in head[1:] if h.split(":", 1)[0].strip().lower() in ("to", "t")), "")
    if to and ";tag=" not in to:
        to += f";tag={tag}"
    lines = [f"SIP/2.0 {status} {reason}", *copied, to, "Content-Length: 0", "", ""]
    return method, "\r\n".join(lines)
