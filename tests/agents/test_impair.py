"""The impairment relay on its own (plain UDP sockets stand in for two agents)."""
from __future__ import annotations

import socket
import threading
import time

import pytest

from sipscen.agents import impair
from sipscen.agents.impair import Face, Impairment, face_address, relay_for, release


def _agent_socket() -> tuple[socket.socket, int]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)   # a burst, unlike paced RTP
    s.bind(("127.0.0.1", 0))
    s.settimeout(0.3)
    return s, s.getsockname()[1]


def _drain(s: socket.socket, relay, face: str, sent: int) -> list[tuple[bytes, tuple]]:
    """Everything that arrives once the relay has taken all ``sent`` packets and
    released every delayed one (bounded: 10 s)."""
    got = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            got.append(s.recvfrom(2048))
            continue
        except socket.timeout:
            pass
        if relay.faces[face].counts["received"] >= sent and not relay.queue:
            break
    return got


@pytest.mark.parametrize("imp, low, high", [
    (None, 300, 300),
    (Impairment(loss=20, seed=5), 200, 270),
    (Impairment(duplicate=10, jitter=0.01, delay=0.005, seed=6), 315, 345),
])
def test_faces_hide_real_addresses_and_impair_one_way(imp, low, high):
    x, xport = _agent_socket()
    y, yport = _agent_socket()
    key = id(object())
    xa, ya = face_address(f"t{key}", "x"), face_address(f"t{key}", "y")
    relay = relay_for(key)
    relay.attach(Face("x", xa, "127.0.0.1", range(xport, xport + 1), None))
    relay.attach(Face("y", ya, "127.0.0.1", range(yport, yport + 1), imp))
    threads_before = {t.name for t in threading.enumerate()}
    try:
        for i in range(300):
            x.sendto(i.to_bytes(4, "big"), (ya, yport))        # x -> y's face (impaired into y)
            if i % 10 == 0:
                time.sleep(0.005)      # paced a little (RTP comes every 20 ms)
        got = _drain(y, relay, "y", 300)
        assert low <= len(got) <= high
        assert {src for _, src in got} == {(xa, xport)}       # y only ever sees x's face
        if imp is not None and imp.jitter:
            order = [int.from_bytes(d, "big") for d, _ in got]
            assert order != sorted(order)                      # jitter reorders
        y.sendto(b"back", (xa, xport))                          # y -> x's face: not impaired
        data, src = x.recvfrom(2048)
        assert data == b"back" and src == (ya, yport)
        counts = relay.faces["y"].counts
        assert counts["received"] == 300
        if imp is not None and imp.loss:
            assert counts["dropped"] == 300 - len(got)
    finally:
        release(key, "x")
        release(key, "y")
        x.close()
        y.close()
    assert key not in impair._RELAYS
    assert "media-relay" in threads_before
    deadline = time.monotonic() + 3
    while relay._thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not relay._thread.is_alive()
    assert not relay.by_sock                                    # every face socket closed


def test_delayed_packets_are_bounded(monkeypatch):
    monkeypatch.setattr(impair, "MAX_QUEUED", 10)
    x, xport = _agent_socket()
    y, yport = _agent_socket()
    key = id(object())
    relay = relay_for(key)
    relay.attach(Face("x", face_address(f"b{key}", "x"), "127.0.0.1", range(xport, xport + 1), None))
    ya = face_address(f"b{key}", "y")
    relay.attach(Face("y", ya, "127.0.0.1", range(yport, yport + 1), Impairment(delay=5.0)))
    try:
        for i in range(50):
            x.sendto(b"p", (ya, yport))
        deadline = time.monotonic() + 3
        while relay.faces["y"].counts["received"] < 50 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(relay.queue) == 10
        assert relay.faces["y"].counts["overflow"] == 40
    finally:
        release(key, "x")
        release(key, "y")
        x.close()
        y.close()
