"""A user-space media relay that impairs what an agent receives (no netem here).

Why every PJSUA agent of the scenario goes through it. Symmetric RTP: PJMEDIA
(like rtpengine and most stacks) sends to wherever a peer's packets really
come from, switching at the first packet. A relay in front of one agent only
is bypassed at once: the agent's own packets leave from its real address,
the peer switches there and talks to it directly. So when any PJSUA agent of
a scenario has ``impair:``, *every* PJSUA agent of it gets a **face**: a
loopback address of its own (``face_address``, in 127.64.0.0/10) with the
agent's media port numbers, advertised in its SDP instead of its real
address. A packet from agent X (real address) to Y's face goes on to Y's
real address *from X's face* -- the address X's SDP announced -- so nobody
ever sees a real address and nobody switches. A packet from anyone else (an
SUT's media relay) goes on from Y's face, and Y's answers to its own face go
back to that sender.

On the way into an agent with ``impair:`` the relay drops (``loss``, %),
delays (``delay`` + uniform +-``jitter``, never below 0: jitter alone
reorders), holds back one extra 20 ms (``reorder``, %) or sends twice
(``duplicate``, %), with a seeded random generator so a scenario repeats.

One relay per run (shared by the run's agents through :func:`relay_for`),
one thread, one ``select`` over the faces' sockets, a bounded heap of
delayed packets (``MAX_QUEUED``; beyond it packets are dropped and counted).
Each agent ``attach``es its face at start and ``detach``es it at stop; the
last one out stops the thread and closes every socket.
"""
from __future__ import annotations

import hashlib
import heapq
import random
import select
import socket
import threading
import time
from dataclasses import dataclass, field

from sipscen.language.schema_base import PERCENT_SCHEMA

SCHEMA = {
    "description": "Impair what this agent receives (media) through a user-space loopback relay.",
    "type": "object", "additionalProperties": False,
    "properties": {
        "loss": PERCENT_SCHEMA, "delay": {"$ref": "#/$defs/duration"},
        "jitter": {"$ref": "#/$defs/duration"}, "reorder": PERCENT_SCHEMA,
        "duplicate": PERCENT_SCHEMA, "seed": {"type": "integer"},
    },
}
MAX_QUEUED = 5000
MAX_PACKET = 65535
_RELAYS: dict[int, "MediaRelay"] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Impairment:
    loss: float = 0.0          # percent
    delay: float = 0.0         # seconds
    jitter: float = 0.0        # seconds
    reorder: float = 0.0       # percent
    duplicate: float = 0.0     # percent
    seed: int = 1

    def to_dict(self) -> dict:
        return {"loss_pct": self.loss, "delay_ms": round(self.delay * 1000, 3),
                "jitter_ms": round(self.jitter * 1000, 3), "reorder_pct": self.reorder,
                "duplicate_pct": self.duplicate, "seed": self.seed}


def face_address(run_key: str, agent: str) -> str:
    """A loopback address of one agent's face in one run (127.64.0.0 - 127.191.255.254)."""
    h = hashlib.sha256(f"{run_key}\0{agent}".encode()).digest()
    return f"127.{64 + h[0] % 128}.{h[1]}.{1 + h[2] % 254}"


@dataclass
class Face:
    agent: str
    address: str               # advertised
    real: str                  # where the agent binds
    ports: range
    imp: Impairment | None
    rng: random.Random = field(default_factory=random.Random)
    socks: dict[int, socket.socket] = field(default_factory=dict)
    outsider: dict[int, tuple] = field(default_factory=dict)    # port -> last non-agent sender
    counts: dict[str, int] = field(default_factory=lambda: {
        "received": 0, "dropped": 0, "duplicated": 0, "reordered": 0, "overflow": 0})


class MediaRelay:
    def __init__(self):
        self.faces: dict[str, Face] = {}
        self.by_sock: dict[socket.socket, tuple[Face, int]] = {}
        self.by_real: dict[tuple[str, int], socket.socket] = {}    # agent's real addr -> its face socket
        self.queue: list = []
        self._seq = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ faces
    def attach(self, face: Face) -> None:
        if face.imp is not None:
            face.rng.seed(face.imp.seed)
        try:
            for port in face.ports:
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                face.socks[port] = s
                s.bind((face.address, port))
                s.setblocking(False)
        except OSError:
            for s in face.socks.values():
                s.close()
            raise
        with self._lock:
            self.faces[face.agent] = face
            for port, s in face.socks.items():
                self.by_sock[s] = (face, port)
                self.by_real[(face.real, port)] = s
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, daemon=True, name="media-relay")
                self._thread.start()

    def detach(self, agent: str) -> bool:
        """Close one face; True when it was the last (the relay has stopped)."""
        with self._lock:
            face = self.faces.pop(agent, None)
            last = not self.faces
        if last:
            self._stop.set()
            if self._thread is not None:
                self._thread.join(2.0)
        if face is not None:
            with self._lock:
                for port, s in face.socks.items():
                    self.by_sock.pop(s, None)
                    self.by_real.pop((face.real, port), None)
            for s in face.socks.values():
                s.close()
        return last

    # ------------------------------------------------------------------ loop
    def _loop(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                socks = list(self.by_sock)
            wait = 0.02
            if self.queue:
                wait = max(0.0, min(wait, self.queue[0][0] - time.monotonic()))
            if not socks:
                time.sleep(wait)
                continue
            try:
                ready, _, _ = select.select(socks, [], [], wait)
            except (OSError, ValueError):
                continue          # a face closed under us: next round
            for s in ready:
                self._receive(s)
            self._release(time.monotonic())

    def _receive(self, s: socket.socket) -> None:
        owner = self.by_sock.get(s)
        if owner is None:
            return
        face, port = owner
        for _ in range(64):                      # bounded per wake-up
            try:
                data, src = s.recvfrom(MAX_PACKET)
            except OSError:
                return
            if src == (face.real, port):         # the owner answering an outsider
                peer = face.outsider.get(port)
                if peer is not None:
                    self._send(s, data, peer)
                continue
            out = self.by_real.get(src)          # an agent: send on from its own face
            if out is None:
                face.outsider[port] = src
                out = s
            face.counts["received"] += 1
            self._impair(face, out, data, (face.real, port))

    def _impair(self, face: Face, out, data: bytes, dst: tuple) -> None:
        imp, rng, counts = face.imp, face.rng, face.counts
        if imp is None:
            self._send(out, data, dst)
            return
        if imp.loss and rng.random() * 100 < imp.loss:
            counts["dropped"] += 1
            return
        copies = 1
        if imp.duplicate and rng.random() * 100 < imp.duplicate:
            copies = 2
            counts["duplicated"] += 1
        for _ in range(copies):
            wait = imp.delay + (rng.uniform(-imp.jitter, imp.jitter) if imp.jitter else 0.0)
            if imp.reorder and rng.random() * 100 < imp.reorder:
                wait += 0.02
                counts["reordered"] += 1
            wait = max(0.0, wait)
            if wait == 0.0:
                self._send(out, data, dst)
            elif len(self.queue) >= MAX_QUEUED:
                counts["overflow"] += 1
            else:
                self._seq += 1
                heapq.heappush(self.queue, (time.monotonic() + wait, self._seq, out, data, dst))

    def _release(self, now: float) -> None:
        while self.queue and self.queue[0][0] <= now:
            _, _, out, data, dst = heapq.heappop(self.queue)
            self._send(out, data, dst)

    @staticmethod
    def _send(out, data: bytes, dst: tuple) -> None:
        try:
            out.sendto(data, dst)
        except OSError:
            pass         # a face closed while packets were queued: they go nowhere


def relay_for(run_key: int) -> MediaRelay:
    """The run's relay (created by the first agent that asks)."""
    with _LOCK:
        relay = _RELAYS.get(run_key)
        if relay is None:
            relay = _RELAYS[run_key] = MediaRelay()
        return relay


def release(run_key: int, agent: str) -> None:
    with _LOCK:
        relay = _RELAYS.get(run_key)
    if relay is not None and relay.detach(agent):
        with _LOCK:
            _RELAYS.pop(run_key, None)


__all__ = ["Face", "Impairment", "MediaRelay", "face_address", "relay_for", "release"]
