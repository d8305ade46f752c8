"""Packet capture with tcpdump, confirmed running before any agent starts.

tcpdump writes the run's pcap into the artifacts folder, filtered to the
scenario's own ports so parallel runs never see each other's traffic. It is
stopped with SIGINT through the process supervisor — but only after it has
caught up: SIGINT makes tcpdump drop whatever still sits in the kernel's
capture buffer, so ``stop`` first sends a marker datagram to a port of the
filter and waits until the marker is in the file (packets are written in
order, so everything before it is too).

For load and soaks: ``buffer`` sets the kernel capture buffer (``-B``, 64 MiB
by default), ``rotate`` starts a new file every N bytes (``-C``: ``capture.pcap``,
``capture.pcap1``, ``capture.pcap2``, ...; every file is kept and the analysis
reads them all in order, ``rotated_files``). At the end, the packets the kernel
dropped (tcpdump's own count) make the capture *incomplete*: wire verdicts on
it are inconclusive, never "loss".
"""
from __future__ import annotations

import secrets
import signal
import socket
import time
from pathlib import Path
from typing import Iterable
import os
import os
import os
import re
import re
import re

from sipscen.core import process
from sipscen.core.errors import InfrastructureError
from sipscen.capture import visibility


def port_filter(ports: Iterable[int | tuple[int, int]], extra: str | None = None,
                marker: int | None = None) -> str:
    """A BPF expression matching UDP/TCP traffic on any of ``ports`` (ints or inclusive
    ranges), ANDed with ``extra``; the drain ``marker`` port is kept whatever ``extra``
    says (a scenario's own filter must not make the capture look incomplete)."""
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
        if marker:
            expr = f"({expr}) or (udp dst port {marker})"
    return expr


# The largest frame on the loopback (MTU 65536 + Ethernet header): nothing is cut.
MAX_FRAME = 65550
# Below this free space a capture cannot even hold its first buffer: refused at once.
MIN_FREE = 65536
DEFAULT_BUFFER_KIB = 65536


def rotated_files(path: Path | str) -> list[Path]:
    """A capture's files in order: ``path`` and tcpdump's ``-C`` followers
    ``path1``, ``path2``, ... (only those that exist)."""
    path = Path(path)
    files = [path] if path.exists() else []
    n = 1
    while True:
        nxt = path.with_name(f"{path.name}{n}")
        if not nxt.exists():
            return files
        files.append(nxt)
        n += 1


def size_bytes(value) -> int:
    """``64MiB``, ``100MB``, ``512KiB``, ``1GB`` or a number of bytes."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(B|KB|KiB|MB|MiB|GB|GiB)?\s*", str(value))
    if not m:
        raise ValueError(f"not a size: {value!r} (use e.g. 64MiB or 100MB)")
    unit = {"B": 1, None: 1, "KB": 1000, "KiB": 1024, "MB": 10**6, "MiB": 2**20,
            "GB": 10**9, "GiB": 2**30}[m.group(2)]
    return int(float(m.group(1)) * unit)


class Capture:
    """One tcpdump process writing ``path``."""

    def __init__(self, path: Path, interface: str = "lo", bpf: str = "", snaplen: int = 0,
                 log_dir: Path | None = None, marker_port: int | None = None,
                 buffer_kib: int | None = None, rotate_mb: int | None = None):
        self.path = path
        self.buffer_kib = buffer_kib or DEFAULT_BUFFER_KIB   # -B, KiB
        self.rotate_mb = rotate_mb                           # -C, millions of bytes
        self.marker_port = marker_port     # a loopback port inside the filter, for draining
        self.interface = interface
        self.bpf = bpf
        self.snaplen = snaplen
        self.log_dir = log_dir or path.parent
        self.proc: process.ManagedProcess | None = None
        self.faults: list[str] = []        # why the file may not hold everything (see stop)

    def argv(self) -> list[str]:
        argv = [process.find_tool("tcpdump"), "-i", self.interface, "-n", "-U", "--immediate-mode",
                # Immediate mode uses fixed ring slots of the snapshot length:
                # 64 KiB slots in a 64 MiB buffer hold a burst of ~1,000 packets.
                "-B", str(self.buffer_kib),
                "-s", str(self.snaplen or MAX_FRAME), "-w", str(self.path)]
        if self.rotate_mb:
            argv += ["-C", str(self.rotate_mb)]
        # tcpdump drops root privileges to user 'tcpdump' by default, which then
        # cannot write into root's artifacts folder: keep running as ourselves.
        argv += ["-Z", "root"] if _is_root() else []
        if self.bpf:
            argv.append(self.bpf)
        return argv

    def start(self, timeout: float = 5.0) -> None:
        """Start tcpdump and wait until it reports that it is listening.

        A disk without room for the capture is refused at once (tcpdump itself
        would start, write nothing and say nothing: its log is on that disk
        too); tcpdump's stderr comes through a pipe, so its reason for not
        starting is known whatever the disk."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        full = disk_full(self.path.parent)
        if full:
            raise InfrastructureError(f"cannot capture on {self.interface}: {full}")
        self.proc = process.start("tcpdump", self.argv(), log_dir=self.log_dir,
                                  stop_signal=signal.SIGINT, stderr_pipe=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            err = self.proc.stderr_tail(20)
            if "listening on" in err:
                return
            if not self.proc.running:
                break
            time.sleep(0.01)
        running = self.proc.running
        err = self.proc.stderr_tail(5).strip()
        self.stop()
        if "ermission" in err or "not permitted" in err:
            raise InfrastructureError(
                f"capture not permitted on {self.interface}: {err} "
                "(run as root, or set `capture: false`)")
        why = err or (f"it {exit_text(self.proc.poll())} without a word" if not running else
                      f"it said nothing within {timeout:g}s")
        full = disk_full(self.path.parent)
        raise InfrastructureError(f"tcpdump did not start on {self.interface}: {why}"
                                  + (f" ({full})" if full else ""))

    def stop(self, drain_timeout: float = 3.0) -> None:
        """Drain (see the module doc), then SIGINT and the supervisor's escalation.
        Idempotent."""
        if self.proc is None:
            return
        if not self.proc.running:
            if not self.faults:
                self.faults.append(f"tcpdump ended during the run ({exit_text(self.proc.poll())}):"
                                   " the capture stops there")
        elif self.marker_port and not self._drain(drain_timeout):
            self.faults.append("the capture did not catch up with the traffic before stopping "
                               f"({_disk_text(self.path)})")
        self.proc.stop(grace=5.0)

    def _drain(self, timeout: float) -> bool:
        marker = secrets.token_hex(8).encode() + b"-sipscen-capture-drain"
        # a snapshot length keeps only the first bytes of the marker (after 42 bytes of
        # Ethernet, IPv4 and UDP headers; the kernel may keep a few bytes less than
        # asked): its random part comes first, and 8 of its 16 characters are enough
        kept = len(marker) if not self.snaplen else min(len(marker), self.snaplen - 50)
        if kept < 8:
            time.sleep(0.2)              # too short to tell the marker: a grace, no proof
            return True
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(marker, ("127.0.0.1", self.marker_port))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.running:
            if marker[:kept] in _tail_bytes(self.files()[-1] if self.rotate_mb else self.path,
                                            65536):
                return True
            time.sleep(0.005)
        return False

    def dropped(self) -> int:
        """Packets the kernel dropped (tcpdump reports it on exit); 0 if unknown."""
        if self.proc is None:
            return 0
        m = re.search(r"(\d+) packets? dropped by kernel", self.proc.stderr_tail(10))
        return int(m.group(1)) if m else 0

    def files(self) -> list[Path]:
        """Every file of this capture, in order (one, unless it rotates)."""
        return rotated_files(self.path) if self.rotate_mb else [self.path]

    def captured(self) -> int | None:
        """Packets tcpdump says it captured (it reports on a clean exit); None if unknown."""
        if self.proc is None:
            return None
        m = re.search(r"(\d+) packets? captured", self.proc.stderr_tail(10))
        return int(m.group(1)) if m else None

    def incomplete(self, records_read: int, reader_warnings: list[str]) -> list[str]:
        """Why the capture file is known not to hold every packet of the run ([] if
        nothing says so): tcpdump died, could not catch up, wrote fewer packets than
        it captured (a full disk: tcpdump does not say so itself), the file is cut."""
        why = list(self.faults)
        dropped = self.dropped()
        if dropped:
            why.append(f"the kernel dropped {dropped} packets tcpdump did not read in time "
                       f"(capture buffer {self.buffer_kib} KiB: raise capture.buffer)")
        captured = self.captured()
        if captured is not None and records_read < captured:
            why.append(f"the capture file holds {records_read} of the {captured} packets tcpdump "
                       f"captured ({_disk_text(self.path)})")
        why += [w for w in reader_warnings if w.startswith("truncated capture")
                and not any(w in x for x in why)]
        return why

    def blind_spots(self, contacts: dict, user_filter: str | None) -> list:
        """What this capture's filter and snaplen hid (``capture/visibility.py``)."""
        return (visibility.filter_blind(self.bpf, user_filter or "", contacts)
                + visibility.snaplen_blind(self.path, self.snaplen, contacts))

    def artifacts(self) -> dict[str, str]:
        out = {"pcap": str(self.path)}
        for i, extra in enumerate(self.files()[1:], start=1):
            out[f"pcap{i}"] = str(extra)
        if self.proc and self.proc.stderr_path:
            out["tcpdump.log"] = str(self.proc.stderr_path)
        return out


def exit_text(code: int | None) -> str:
    """'exit code 1', 'killed by SIGKILL' for a Popen return code."""
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def disk_full(folder: Path) -> str | None:
    """Why ``folder``'s disk cannot take a capture (no room, no inode), or None."""
    try:
        st = os.statvfs(folder)
    except OSError:
        return None
    free = st.f_bavail * st.f_frsize
    if free < MIN_FREE:
        return (f"the disk of {folder} is full ({free} bytes free): tcpdump could write "
                "neither the capture nor its log")
    if st.f_files and st.f_favail == 0:
        return f"the disk of {folder} has no free inode: no capture file can be made"
    return None


def _disk_text(path: Path) -> str:
    try:
        st = os.statvfs(path.parent)
    except OSError:
        return "is the disk full?"
    free = st.f_bavail * st.f_frsize
    return "the disk is full" if free < MIN_FREE else f"{free // 1024} KiB free on its disk"


def _tail_bytes(path: Path, size: int) -> bytes:
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            f.seek(max(0, f.tell() - size))
            return f.read()
    except OSError:
        return b""


def _is_root() -> bool:
    return os.geteuid() == 0
