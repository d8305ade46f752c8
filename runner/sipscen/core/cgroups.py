"""A cgroup per started process, where the machine lets sipscen make one.

A process group does not hold a descendant that calls ``setsid``, and an
environment mark (``watchdog.MARK``) does not survive ``env -i``; a cgroup
holds every descendant whatever it does. Where a cgroup hierarchy is writable
(root on a cgroup v1 ``pids`` hierarchy or on cgroup v2), each child of
sipscen joins a cgroup of its own, ``<root>/sipscen-<OWNER>/<N>``, before it
executes (the pre-exec hook): ``ManagedProcess.stop`` kills what is left in it
and removes it, and the watchdog, told the owner's folder, does the same for
the whole folder if sipscen dies (``watchdog.kill_cgroup``: the one
implementation, stdlib only, as the watchdog runs standalone). Elsewhere (no root, a read-only cgroupfs)
:func:`owner_folder` is None and the marks and the subreaper do the work.

No controller is enabled: the cgroups only hold membership.
"""
from __future__ import annotations

import os
from pathlib import Path

# cgroup v2 (unified at the root), the v1 `pids` hierarchy, a hybrid's v2 mount
ROOTS = (Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup/unified"))
_folder: tuple[int, Path | None] | None = None


def owner_folder(owner: str) -> Path | None:
    """This sipscen process's cgroup folder (made once per process), or None."""
    global _folder
    if _folder is not None and _folder[0] == os.getpid():
        return _folder[1]
    found = None
    for root in ROOTS:
        if not (root / "cgroup.procs").is_file():
            continue
        folder = root / f"sipscen-{owner}"
        try:
            folder.mkdir(exist_ok=True)
        except OSError:
            continue
        if (folder / "cgroup.procs").is_file():
            found = folder
            break
    _folder = (os.getpid(), found)
    return found


def child_group(owner: str, name: str) -> Path | None:
    """A new cgroup for one child, or None where cgroups cannot be made."""
    folder = owner_folder(owner)
    if folder is None:
        return None
    group = folder / name
    try:
        folder.mkdir(exist_ok=True)     # again, if stop_all removed it
        group.mkdir(exist_ok=True)
    except OSError:
        return None
    return group


def join(group: Path) -> None:
    """Move the calling process into ``group`` (in the child, before exec)."""
    try:
        with open(group / "cgroup.procs", "w") as f:
            f.write(str(os.getpid()))
    except OSError:
        pass
