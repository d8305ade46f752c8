"""The watchdog: kills the process groups of sipscen's children once sipscen is gone.

Run as a standalone script (``python -I watchdog.py``) by
``sipscen.core.process``; imports nothing from sipscen. sipscen holds the
write end of this process's stdin and writes ``+PGID`` when it starts a child
(each child leads its own process group) and ``-PGID`` once that group is
stopped. The kernel closes the pipe however sipscen ends — SIGKILL included —
so end of file here means "sipscen is gone": every group still registered gets
SIGTERM, then SIGKILL after a short grace. This reaches a service's
grandchildren too (a wrapper script's child), which the parent-death signal of
the direct child never does.
"""
import os
import signal
import sys
import time

GRACE = 1.0


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
    return 0


if __name__ == "__main__":
    sys.exit(main())
