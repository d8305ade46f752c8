"""The watchdog: kills the process groups of sipscen's children once sipscen is gone.

Run as a standalone script (``python -I watchdog.py``) by
``sipscen.core.process``; imports nothing from sipscen. sipscen holds the
write end of this process's stdin and writes ``+PGID`` when it starts a child
(each child leads its own process group) and ``-PGID`` once that group is
stopped, and ``=OWNER`` once: the mark every child of that sipscen carries in
its environment (``SIPSCEN_CHILD_OF=OWNER.N``, inherited by every descendant),
and ``@FOLDER`` when its children live in cgroups (``core/cgroups.py``),
``!TOOL CHAIN`` when it adds a packet filter chain (``core/netfilter.py``) and
``~TOOL CHAIN`` once that chain is removed.
The kernel closes the pipe however sipscen ends — SIGKILL included — so end of
file here means "sipscen is gone": every group still registered gets SIGTERM,
then SIGKILL after a short grace, and then every process still in sipscen's
cgroups or carrying its mark: a descendant that left its group (``setsid``, a
daemon's double fork) and was reparented away from sipscen when it died; then
the chains still told are removed (:func:`chain_removal`, the commands
``core/netfilter.py`` runs too: one implementation).

The mark scan and the cgroup kill (:func:`kill_marked`, :func:`kill_cgroup`)
are also what ``sipscen.core.process`` uses while sipscen lives: one
implementation.
"""
import os
import signal
import subprocess
import sys
import time

GRACE = 1.0
MARK = "SIPSCEN_CHILD_OF"     # NAME=OWNER.N in the environment of everything sipscen starts


def marked(prefix: str, exact: bool = False) -> list[int]:
    """Pids of the processes (but this one) whose environment holds
    ``SIPSCEN_CHILD_OF=<prefix>`` (the whole value when ``exact``). A process
    that exec'd with a scrubbed environment (``env -i``) is not found here:
    sipscen's subreaper role catches those while it lives."""
    needle = f"{MARK}={prefix}".encode()
    me = os.getpid()
    found = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for name in entries:
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as f:
                env = f.read()
        except OSError:
            continue
        for item in env.split(b"\0"):
            if item == needle if exact else item.startswith(needle):
                found.append(int(name))
                break
    return found


def kill_marked(prefix: str, exact: bool = False) -> list[int]:
    """SIGKILL every process :func:`marked` finds (repeated until none is left,
    bounded: a dying process may fork once more); the pids killed."""
    killed: list[int] = []
    for _ in range(5):
        pids = [p for p in marked(prefix, exact) if p not in killed or _alive_pid(p)]
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                continue
            killed.append(pid)
        time.sleep(0.01)
    return killed


def cgroup_members(group: str) -> list[int]:
    """Every process in ``group`` and the cgroups below it."""
    pids: list[int] = []
    for folder, dirs, _files in os.walk(group):
        try:
            with open(os.path.join(folder, "cgroup.procs")) as f:
                pids += [int(p) for p in f.read().split()]
        except (OSError, ValueError):
            continue
    return pids


def kill_cgroup(group: str, remove: bool = True) -> list[int]:
    """SIGKILL every member of ``group`` until it is empty (bounded), then remove
    it (and the cgroups below it); the pids killed."""
    killed: list[int] = []
    deadline = time.monotonic() + 5.0    # a loaded machine: killed processes linger a while
    while time.monotonic() < deadline:
        pids = cgroup_members(group)
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            except (ProcessLookupError, PermissionError):
                continue
        time.sleep(0.01)
    while remove:     # a cgroup is busy until its last zombie is reaped: retry, bounded
        left = []
        for folder, dirs, _files in sorted(os.walk(group), key=lambda w: -len(w[0])):
            try:
                os.rmdir(folder)
            except FileNotFoundError:
                continue
            except OSError:
                left.append(folder)
        if not left or time.monotonic() >= deadline:
            break
        time.sleep(0.02)
    return killed


def chain_removal(tool: str, chain: str) -> list[list[str]]:
    """The commands that remove a chain of sipscen's (``SIPSCEN-...``) and the jump
    to it from INPUT: the jump first (deleted again until none is left: each
    ``-D`` removes one), then its rules, then the chain."""
    wait = ["-w", "5"]
    return ([[tool, *wait, "-D", "INPUT", "-j", chain]] * 3
            + [[tool, *wait, "-F", chain], [tool, *wait, "-X", chain]])


def remove_chains(chains) -> None:
    """Run :func:`chain_removal` for each ``(tool, chain)``; failures are ignored (a
    chain already gone). Only the watchdog runs these itself (sipscen is gone)."""
    for tool, chain in chains:
        for argv in chain_removal(tool, chain):
            try:
                subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=10, cwd="/")
            except (OSError, subprocess.SubprocessError):
                continue


def _alive_pid(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[-1].split()[0] != b"Z"
    except OSError:
        return False


def _alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def main() -> int:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_IGN)   # only the end of the pipe ends us
    groups: set[int] = set()
    chains: set[tuple[str, str]] = set()
    owner = ""
    cgroup = ""
    buf = b""
    while True:
        try:
            chunk = os.read(0, 4096)
        except InterruptedError:
            continue
        except OSError:
            break
        if not chunk:
            break
        buf += chunk
        *lines, buf = buf.split(b"\n")
        for line in lines:
            if line[:1] == b"=":
                owner = line[1:].decode("ascii", "replace").strip()
                continue
            if line[:1] == b"@":
                cgroup = line[1:].decode("utf-8", "replace").strip()
                continue
            if line[:1] in (b"!", b"~"):
                tool, _, chain = line[1:].decode("utf-8", "replace").strip().partition(" ")
                if tool.startswith("/") and chain.startswith("SIPSCEN-"):
                    (chains.add if line[:1] == b"!" else chains.discard)((tool, chain))
                continue
            try:
                pgid = int(line[1:])
            except ValueError:
                continue
            if pgid <= 1:
                continue
            if line[:1] == b"+":
                groups.add(pgid)
            elif line[:1] == b"-":
                groups.discard(pgid)
    for pgid in groups:
        try:
            os.killpg(pgid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass
    deadline = time.monotonic() + GRACE
    while time.monotonic() < deadline and any(_alive(g) for g in groups):
        time.sleep(0.05)
    for pgid in groups:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    if cgroup:
        kill_cgroup(cgroup)
    if owner:
        kill_marked(owner + ".")
    remove_chains(sorted(chains))
    return 0


if __name__ == "__main__":
    sys.exit(main())
