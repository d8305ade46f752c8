"""Free ports on the loopback, handed out so that agents never collide.

Ports are probed by binding (UDP and TCP) and remembered process-wide, so two
scenarios run in parallel by one sipscen process never get the same port. The
search starts at a random offset so separate sipscen processes rarely race.
"""
from __future__ import annotations

import random
import socket
import threading
from sipscen.core.errors import InfrastructureError

_taken: set[int] = set()
_lock = threading.Lock()

def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = open("/proc/sys/net/ipv4/ip_local_port_range").read().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


# Below the kernel's ephemeral range: between planning a port and binding it,
# no outgoing socket of another process can be handed the same number.
LOW = 10000
HIGH = max(LOW + 2000, min(_ephemeral_range()[0], 65535))


def _free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        s = socket.socket(family, kind)
        try:
            s.bind((host, port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def _window(host: str, lo: int, hi: int, count: int) -> int | None:
    """The first even start in ``lo..hi`` of ``count`` ports all free, or None."""
    start = (lo + 1) & ~1
    while start <= hi:
        port, end = start, start + count
        while port < end and port not in _taken and _free(host, port):
            port += 1
        if port == end:
            return start
        start = (port + 2) & ~1          # the first even start past the busy port
    return None


class PortAllocator:
    """Allocates single ports and contiguous even-aligned ranges (for RTP/RTCP)."""

    def __init__(self, host: str = "127.0.0.1", seed: int | None = None):
        self.host = host
        self._rng = random.Random(seed)
        self.allocated: list[int] = []

    def port(self, host: str | None = None) -> int:
        return self.range(1, host)[0]

    def range(self, count: int, host: str | None = None) -> tuple[int, int]:
        """``count`` consecutive free ports starting at an even number; inclusive bounds.

        From a random even start, windows are tried upward and then from LOW up to
        that start; a busy port moves the next window past it, so each port is
        probed about once and a large block finds the one gap that holds it."""
        host = host or self.host
        if count > HIGH - LOW:
            raise InfrastructureError(f"{count} ports do not fit in {LOW}-{HIGH - 1}")
        with _lock:
            origin = self._rng.randrange(LOW, HIGH - count + 1) & ~1
            for lo, hi in ((origin, HIGH - count), (LOW, origin - 1)):
                start = _window(host, lo, hi, count)
                if start is not None:
                    ports = range(start, start + count)
                    _taken.update(ports)
                    self.allocated.extend(ports)
                    return start, start + count - 1
        raise InfrastructureError(f"no {count} free consecutive ports on {host} "
                                  f"in {LOW}-{HIGH - 1}")

    def release(self) -> None:
        with _lock:
            _taken.difference_update(self.allocated)
        self.allocated.clear()
