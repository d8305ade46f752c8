"""Descendants that leave their process group: found, killed and reaped.

A process group does not hold a child's descendant that calls ``setsid`` or
daemonizes (issue 20: a service's ``setsid sleep 601`` outlived sipscen).
Three nets, each for what the others miss:

* a cgroup per child where one can be made (``core/cgroups.py``): it holds
  every descendant, whatever it does;
* an environment mark, ``SIPSCEN_CHILD_OF=OWNER.N``, inherited by every
  descendant unless it scrubs its environment (``watchdog.kill_marked``);
* sipscen is a child subreaper (``PR_SET_CHILD_SUBREAPER``): an orphaned
  descendant is reparented to sipscen instead of init, so at exit every
  child sipscen did not start itself is killed, and killed orphans are reaped.

``core/process.py`` calls these when a child stops and at exit; the watchdog
(``core/watchdog.py``) uses the cgroup folder and the mark after a SIGKILL.
"""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path
import secrets

from sipscen.core import cgroups

_owner: tuple[int, str] | None = None      # (pid, mark prefix) of this sipscen process
_seq = 0
_seq_lock = threading.Lock()


def owner_mark() -> str:
    """This process's mark prefix (new after a fork: a child's children are its own)."""
    global _owner
    if _owner is None or _owner[0] != os.getpid():
        _owner = (os.getpid(), f"{os.getpid()}-{secrets.token_hex(4)}")
        _become_subreaper()
    return _owner[1]


def next_mark() -> str:
    global _seq
    with _seq_lock:
        _seq += 1
        return f"{owner_mark()}.{_seq}"


def own_cgroup(mark: str) -> Path | None:
    """A cgroup of its own for the child marked ``mark`` (core/cgroups.py), or None."""
    owner, _, seq = mark.rpartition(".")
    return cgroups.child_group(owner, seq)


libc_prctl = None       # prctl(2), also for process.py's parent-death signal
try:
    import ctypes
    libc_prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):   # not Linux: no subreaper, no parent-death signal
    pass
_PR_SET_CHILD_SUBREAPER = 36


def _become_subreaper() -> None:
    """Orphaned descendants are reparented to this process, not to init (Linux)."""
    if libc_prctl is not None:
        libc_prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def children() -> set[int]:
    """This process's children (every thread's), from /proc."""
    found: set[int] = set()
    try:
        tasks = os.listdir(f"/proc/{os.getpid()}/task")
    except OSError:
        return found
    for tid in tasks:
        try:
            with open(f"/proc/{os.getpid()}/task/{tid}/children") as f:
                found.update(int(p) for p in f.read().split())
        except (OSError, ValueError):
            continue
    return found


def reap(pids, known: set[int]) -> None:
    """Collect the exit of killed descendants that were reparented to us (the
    subreaper): never a child a Popen object waits for (``known``)."""
    if not pids:
        return
    ours = children() - known
    for pid in pids:
        if pid not in ours:
            continue
        for _ in range(100):
            try:
                done, _status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                break
            if done:
                break
            time.sleep(0.01)


def current_owner() -> str | None:
    """This process's mark prefix if it has started a child, else None."""
    return _owner[1] if _owner is not None and _owner[0] == os.getpid() else None


def reap_group(pgid: int, known: set[int], wait: float = 1.0) -> None:
    """Reap the members of the killed process group ``pgid`` that were reparented
    to us when their leader died (as subreaper, their zombies are ours): a
    daemon's workers, a shell's children. Only children of that group, never a
    child a Popen object waits for (``known``)."""
    deadline = time.monotonic() + wait
    pending = {pid for pid in children() - known if _pgrp(pid) == pgid}
    while pending:
        for pid in list(pending):
            try:
                done, _status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                pending.discard(pid)
        if not pending or time.monotonic() >= deadline:
            return
        time.sleep(0.005)


def _pgrp(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return int(f.read().rsplit(b")", 1)[1].split()[2])
    except (OSError, ValueError, IndexError):
        return None
