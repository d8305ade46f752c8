"""Packet capture with tcpdump, confirmed running before any agent starts.

tcpdump writes the run's pcap into the artifacts folder, filtered to the
scenario's own ports so parallel runs never see each other's traffic. It is
stopped with SIGINT (which flushes the file) through the process supervisor.
"""
from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Iterable

from runner.engine import process
from runner.errors import InfrastructureError


def port_filter(ports: Iterable[int | tuple[int, int]], extra: str | None = None) -> str:
    """A BPF expression matching UDP/TCP traffic on any of ``ports`` (ints or inclusive ranges)."""
    terms = []
    for p in sorted(set(ports), key=lambda x: x if isinstance(x, int) else x[0]):
        if isinstance(p, tuple):
            lo, hi = p
            terms.append(f"portrange {lo}-{hi}" if lo != hi else f"port {lo}")
        else:
            terms.append(f"port {p}")
    expr = "(udp or tcp)"
    if terms:
        expr += " and (" + " or ".join(terms) + ")"
    # IP fragments carry no ports: keep them so large SIP messages survive.
    expr = f"({expr}) or (ip[6:2] & 0x3fff != 0)"
    if extra:
        expr = f"({expr}) and ({extra})"
    return expr


class Capture:
    """One tcpdump process writing ``path``."""

    def __init__(self, path: Path, interface: str = "lo", bpf: str = "", snaplen: int = 0,
                 log_dir: Path | None = None):
        self.path = path
        self.interface = interface
        self.bpf = bpf
        self.snaplen = snaplen
        self.log_dir = log_dir or path.parent
        self.proc: process.ManagedProcess | None = None

    def argv(self) -> list[str]:
        argv = [process.find_tool("tcpdump"), "-i", self.interface, "-n", "-U", "--immediate-mode",
                "-s", str(self.snaplen), "-w", str(self.path)]
        # tcpdump drops root privileges to user 'tcpdump' by default, which then
        # cannot write into root's artifacts folder: keep running as ourselves.
        argv += ["-Z", "root"] if _is_root() else []
        if self.bpf:
            argv.append(self.bpf)
        return argv

    def start(self, timeout: float = 5.0) -> None:
        """Start tcpdump and wait until it reports that it is listening."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.proc = process.start("tcpdump", self.argv(), log_dir=self.log_dir,
                                  stop_signal=signal.SIGINT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            err = self.proc.stderr_tail(20)
            if "listening on" in err:
                return
            if not self.proc.running:
                break
            time.sleep(0.01)
        err = self.proc.stderr_tail(5)
        self.stop()
        if "ermission" in err or "not permitted" in err:
            raise InfrastructureError(
                f"capture not permitted on {self.interface}: {err.strip()} "
                "(run as root, or set `capture: false`)")
        raise InfrastructureError(f"tcpdump did not start on {self.interface}: {err.strip()}")

    def stop(self) -> None:
        """SIGINT (flushes the file), then the supervisor's escalation. Idempotent."""
        if self.proc is not None:
            self.proc.stop(grace=5.0)

    def artifacts(self) -> dict[str, str]:
        out = {"pcap": str(self.path)}
        if self.proc and self.proc.stderr_path:
            out["tcpdump.log"] = str(self.proc.stderr_path)
        return out


def _is_root() -> bool:
    import os
    return os.geteuid() == 0
