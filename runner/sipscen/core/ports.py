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
LARGE = 512          # a block this large or larger goes to the upper part of the range


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


def _window_down(host: str, lo: int, hi: int, count: int) -> int | None:
    """The highest even start in ``lo..hi`` of ``count`` ports all free, or None."""
    start = hi & ~1
    while start >= lo:
        port = start + count - 1
        while port >= start and port not in _taken and _free(host, port):
            port -= 1
        if port < start:
            return start
        start = (port - count) & ~1      # the highest even start below the busy port
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

        Small requests (SIP ports, an agent's media ports) take a random even start
        in the lower two fifths of the range (separate sipscen processes rarely race) and
        slide upward past busy ports. Large blocks (a load's or a media relay's
        thousands) are packed from the top of the range down, so that neither the
        scattered small ones nor other blocks cut the range into gaps too short for
        the next block. (A block's ports are often not bound until its owner uses
        them - rtpengine binds per call - so no probe keeps two processes' blocks
        apart; within one process ``_taken`` does.) Each port is probed about once;
        a part that is full lends the rest of the range."""
        host = host or self.host
        if count > HIGH - LOW:
            raise InfrastructureError(f"{count} ports do not fit in {LOW}-{HIGH - 1}")
        split = LOW + (HIGH - LOW) * 2 // 5    # small below, blocks above: two soak blocks of 4,800 fit
        with _lock:
            if count >= LARGE:
                start = _window_down(host, LOW, HIGH - count, count)
            else:
                top = max(LOW, split - count)
                origin = self._rng.randrange(LOW, top + 1) & ~1
                start = None
                for lo, hi in ((origin, top), (LOW, origin - 1), (top + 1, HIGH - count)):
                    start = _window(host, lo, hi, count)
                    if start is not None:
                        break
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
