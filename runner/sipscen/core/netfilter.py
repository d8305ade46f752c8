"""Packet loss on the way into a local process's ports: an iptables chain of the run's own.

A service's ``impair: {loss: 5%}`` (``engine/services.py``) drops that share of
the UDP packets sent to its media ports, in the kernel's INPUT hook: after the
capture point (tcpdump on ``lo`` sees every packet arrive), before the socket.
So a media relay (rtpengine) never gets the dropped packets and never relays
them, and its outgoing leg carries the gaps in the RTP sequence numbers: loss on
the SUT's media path, as the far party gets it. Nothing is dropped on OUTPUT
(a raw socket's ``sendto`` fails with EPERM there: SIPp's pcap player gives up).

One chain per impairment, ``SIPSCEN-<pid>-<n>`` (the pid of the sipscen
process), holding two rules on the same match (``-p udp -d ADDRESS --dport
LOW:HIGH``, and ``-m multiport --sports`` the run's other parties' media
ports: a port range is not owned, another program on the machine may use a
port in it, and its packets are not this run's to drop): the first counts every packet (no target), the second drops with
``-m statistic --mode random --probability P`` (the kernel's random: a run does
not repeat packet for packet). A jump from the top of INPUT leads to it.
:meth:`LossRule.counters` reads both counters (``-L CHAIN -v -x -n``): packets
seen, packets dropped.

Removed on every outcome: :meth:`LossRule.remove` (the service's stop, in the
engine's teardown), an ``atexit`` hook for what is still installed, the watchdog
after a SIGKILL (``process.watch_chain``: it runs ``watchdog.chain_removal``,
the same commands), and :func:`remove_stale` at each install for chains whose
sipscen process is gone. Every command is an argument list run by
``core/process.run_command``.
"""
from __future__ import annotations

import atexit
import itertools
import os
import re
import shutil
import threading
from dataclasses import dataclass, field
from typing import Any

from sipscen.core import process
from sipscen.core.errors import InfrastructureError
from sipscen.core.watchdog import chain_removal

PREFIX = "SIPSCEN-"
MAX_SOURCE_RANGES = 7        # multiport takes 15 ports, a range counts as two
_CHAIN = re.compile(r"^-N (SIPSCEN-(\d+)-\d+)$", re.M)
_active: dict[str, "LossRule"] = {}
_lock = threading.Lock()
_numbers = itertools.count(1)


def tool_for(address: str) -> str | None:
    """The absolute path of iptables (ip6tables for an IPv6 address), or None."""
    return shutil.which("ip6tables" if ":" in address else "iptables")


def unavailable(address: str) -> str | None:
    """Why loss cannot be made here (not root, no iptables), or None."""
    if os.geteuid() != 0:
        return (f"dropping packets needs root (iptables; running as uid {os.geteuid()})")
    if tool_for(address) is None:
        name = "ip6tables" if ":" in address else "iptables"
        return f"'{name}' not found on PATH: install the iptables package (setup.sh does)"
    return None


def _run(argv: list[str], what: str) -> str:
    done = process.run_command(argv)
    if done.returncode != 0:
        raise InfrastructureError(f"{what}: {' '.join(argv)} exited with code "
                                  f"{done.returncode}: {done.stderr.strip()[:300]}")
    return done.stdout


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def remove_stale(tool: str) -> list[str]:
    """Remove the chains of sipscen processes that are gone (killed before any
    cleanup could run, the watchdog too); the names removed."""
    done = process.run_command([tool, "-w", "5", "-S"])
    if done.returncode != 0:
        return []
    gone = [name for name, pid in _CHAIN.findall(done.stdout) if not _alive(int(pid))]
    for name in gone:
        _remove(tool, name)
    return gone


def _remove(tool: str, chain: str) -> None:
    for argv in chain_removal(tool, chain):
        process.run_command(argv)       # a jump or chain already gone: fine


@dataclass(eq=False)
class LossRule:
    """``loss_pct`` of the UDP packets to ``address`` ports ``low``..``high`` dropped."""

    address: str
    low: int
    high: int
    loss_pct: float
    sources: tuple[tuple[int, int], ...] = ()   # from these ports only (the run's parties')
    chain: str = ""
    tool: str = ""
    installed: bool = False
    counts: dict[str, int] = field(default_factory=dict)   # last read: packets, dropped

    def match(self) -> list[str]:
        """UDP to the ports, and from the run's own parties' media ports when they
        fit one rule (multiport: 15 ports, a range counting two): another program
        that happens to use a port in the range is then left alone."""
        rule = ["-p", "udp", "-d", self.address, "--dport", f"{self.low}:{self.high}"]
        if self.sources and len(self.sources) <= MAX_SOURCE_RANGES:
            rule += ["-m", "multiport", "--sports",
                     ",".join(f"{lo}:{hi}" if hi > lo else str(lo) for lo, hi in self.sources)]
        return rule

    def drop_rule(self) -> list[str]:
        """The dropping rule as iptables takes it (also what the facts show)."""
        return [*self.match(), "-m", "statistic", "--mode", "random", "--probability",
                f"{self.loss_pct / 100.0:.6f}", "-j", "DROP"]

    def install(self) -> None:
        why = unavailable(self.address)
        if why:
            raise InfrastructureError(why)
        self.tool = tool_for(self.address) or ""
        remove_stale(self.tool)
        self.chain = f"{PREFIX}{os.getpid()}-{next(_numbers)}"
        with _lock:
            _active[self.chain] = self
        process.watch_chain(self.tool, self.chain)
        wait = [self.tool, "-w", "5"]
        try:
            _run([*wait, "-N", self.chain], "adding the chain")
            _run([*wait, "-A", self.chain, *self.match()], "adding the counting rule")
            _run([*wait, "-A", self.chain, *self.drop_rule()], "adding the dropping rule")
            _run([*wait, "-I", "INPUT", "1", "-j", self.chain], "adding the jump from INPUT")
            self.installed = True
        except BaseException:
            self.remove()
            raise

    def counters(self) -> dict[str, int]:
        """{"packets": seen, "dropped": dropped} since the install (the last read
        once removed)."""
        if not self.installed:
            return dict(self.counts)
        out = _run([self.tool, "-w", "5", "-L", self.chain, "-v", "-x", "-n"],
                   "reading the counters")
        rows = [line.split() for line in out.splitlines()[2:] if line.strip()]
        figures = [int(r[0]) for r in rows if r and r[0].isdigit()]
        if len(figures) >= 2:
            self.counts = {"packets": figures[0], "dropped": figures[1]}
        return dict(self.counts)

    def remove(self) -> None:
        """Remove the jump, the rules and the chain; idempotent, never raises."""
        if not self.chain:
            return
        try:
            _remove(self.tool, self.chain)
        except Exception:  # noqa: BLE001 - a stop never raises; the watchdog retries
            return
        self.installed = False
        with _lock:
            _active.pop(self.chain, None)
        process.watch_chain(self.tool, self.chain, on=False)

    def to_dict(self) -> dict[str, Any]:
        counts = dict(self.counts)
        share = (round(100.0 * counts["dropped"] / counts["packets"], 3)
                 if counts.get("packets") else None)
        return {"loss_pct": self.loss_pct, "address": self.address,
                "ports": [self.low, self.high], "chain": self.chain,
                "from_ports": [list(r) for r in self.sources]
                if len(self.sources) <= MAX_SOURCE_RANGES else "any",
                "rule": " ".join(["iptables" if ":" not in self.address else "ip6tables",
                                  "-A", self.chain or "CHAIN", *self.drop_rule()]),
                "where": "INPUT: after the capture point, before the service's sockets",
                **counts, "dropped_pct": share}


def installed_chains(tool: str) -> list[str]:
    """Every sipscen chain in the table now (tests, cleanup checks)."""
    done = process.run_command([tool, "-w", "5", "-S"])
    return [name for name, _pid in _CHAIN.findall(done.stdout)]


def _at_exit() -> None:
    with _lock:
        rules = list(_active.values())
    for rule in rules:
        rule.remove()


atexit.register(_at_exit)
