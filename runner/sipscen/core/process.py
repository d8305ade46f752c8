"""The one place that starts and stops processes.

Every child runs in its own process group (``start_new_session``), writes its
output to log files in the run's artifacts, and is registered for cleanup the
moment it starts. ``stop`` sends a polite signal, waits, then SIGKILLs the whole
group. A process-wide registry plus an ``atexit`` hook makes sure nothing
outlives sipscen, whatever the outcome; when sipscen itself is SIGKILLed, the
watchdog (``watchdog.py``, a process of its own started with the first child)
kills every group still registered, grandchildren included.

Descendants that leave their group (``setsid``, a daemon's double fork) are
tracked two ways (issue 20): every child gets a mark in its environment
(``SIPSCEN_CHILD_OF=OWNER.N``, inherited by all its descendants), and ``stop``
kills whatever still carries its mark once the group is gone; and sipscen is
a child subreaper (``PR_SET_CHILD_SUBREAPER``), so an orphaned descendant is
reparented to sipscen rather than to init: its zombie is reaped here, and at
exit any child sipscen did not start itself (one that scrubbed its
environment) is killed. After a SIGKILL of sipscen the watchdog kills what
carries this sipscen's mark.
"""
from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Sequence

from sipscen.core import descendants
from sipscen.core import watchdog as marks
from sipscen.core.errors import InfrastructureError
from sipscen.core.cgroups import owner_folder
from sipscen.core.cgroups import join
from sipscen.core.cgroups import owner_folder

_live: set["ManagedProcess"] = set()
_live_lock = threading.Lock()
_watchdog: subprocess.Popen | None = None
_watchdog_pid_owner: int | None = None      # the sipscen process that started it
_watchdog_lock = threading.Lock()
def find_tool(name: str) -> str:
    """Absolute path of an external tool, or an infrastructure error naming it."""
    path = shutil.which(name)
    if not path:
        raise InfrastructureError(
            f"'{name}' not found on PATH: install it (see README, setup command)"
        )
    return path


@dataclass(eq=False)
class ManagedProcess:
    name: str
    argv: list[str]
    popen: subprocess.Popen
    stdout_path: Path | None
    stderr_path: Path | None
    stop_signal: int = signal.SIGTERM
    _files: list[IO] = field(default_factory=list)
    mark: str = ""          # its SIPSCEN_CHILD_OF value: it and its descendants carry it
    cgroup: Path | None = None   # its own cgroup (all its descendants), where one can be made
    tee: "_Tee | None" = None    # stderr through a pipe (start(stderr_pipe=True))

    @property
    def pid(self) -> int:
        return self.popen.pid

    def poll(self) -> int | None:
        return self.popen.poll()

    @property
    def running(self) -> bool:
        return self.popen.poll() is None

    def wait(self, timeout: float | None = None) -> int:
        return self.popen.wait(timeout)

    def stop(self, grace: float = 3.0) -> int:
        """Stop the process and its whole group; idempotent. Returns the exit code."""
        try:
            if self.popen.poll() is None:
                _signal_group(self.popen.pid, self.stop_signal)
                try:
                    self.popen.wait(grace)
                except subprocess.TimeoutExpired:
                    _signal_group(self.popen.pid, signal.SIGKILL)
                    self.popen.wait(5)
            # Children left in the group after the leader exited (reparented to us,
            # the subreaper: their zombies are ours to reap)
            _signal_group(self.popen.pid, signal.SIGKILL)
            if self.popen.poll() is not None:
                descendants.reap_group(self.popen.pid, _popen_pids())
            # ... and descendants that left the group (setsid, double fork)
            if self.popen.poll() is not None:
                if self.cgroup is not None:
                    _reap_killed(marks.kill_cgroup(str(self.cgroup)))
                if self.mark:
                    _reap_killed(marks.kill_marked(self.mark, exact=True))
        finally:
            # Forget the process only once it is gone: if a Ctrl-C interrupts the
            # wait above, stop_all() at exit still finds it.
            if self.popen.poll() is not None:
                _tell_watchdog(f"-{self.popen.pid}")
                for f in self._files:
                    try:
                        f.close()
                    except OSError:
                        pass
                with _live_lock:
                    _live.discard(self)
                if self.tee is not None:
                    self.tee.join(1.0)
        return self.popen.returncode

    def write_line(self, line: str) -> None:
        """Write one line to the child's stdin (started with ``stdin=True``)."""
        pipe = self.popen.stdin
        if pipe is None:
            raise InfrastructureError(f"{self.name}: its stdin is not a pipe")
        try:
            pipe.write(line.encode() + b"\n")
            pipe.flush()
        except (BrokenPipeError, ValueError, OSError) as exc:
            raise InfrastructureError(f"{self.name}: cannot write to its stdin: {exc}") from exc

    def logs(self) -> dict[str, str]:
        """{"stdout": path, "stderr": path} of the log files that exist."""
        return {label: str(path) for label, path in (("stdout", self.stdout_path),
                                                     ("stderr", self.stderr_path))
                if path is not None and path.exists()}

    def stderr_tail(self, lines: int = 20) -> str:
        if self.tee is not None:
            return "\n".join(self.tee.text().splitlines()[-lines:])
        return _tail(self.stderr_path, lines)

    def stdout_tail(self, lines: int = 20) -> str:
        return _tail(self.stdout_path, lines)


class _Tee:
    """A child's stderr through a pipe: each chunk goes to its log file while
    the disk takes it, and the last 64 KiB stay in memory, so what a tool says
    (why it did not start, what it captured) is known even on a full disk."""

    KEEP = 65536

    def __init__(self, pipe: IO[bytes], path: Path | None):
        self.pipe = pipe
        self.file: IO[bytes] | None = None
        if path is not None:
            try:
                self.file = open(path, "wb")
            except OSError:
                self.file = None
        self.buf = bytearray()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, name="stderr-tee", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        fd = self.pipe.fileno()
        while True:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            with self.lock:
                self.buf += chunk
                del self.buf[:-self.KEEP]
            if self.file is not None:
                try:
                    self.file.write(chunk)
                    self.file.flush()
                except OSError:          # a full disk: memory keeps it
                    pass
        for f in (self.file, self.pipe):
            try:
                if f is not None:
                    f.close()
            except OSError:
                pass

    def text(self) -> str:
        with self.lock:
            return self.buf.decode("utf-8", "replace")

    def join(self, timeout: float) -> None:
        self.thread.join(timeout)


def _tail(path: Path | None, lines: int) -> str:
    if not path or not path.exists():
        return ""
    data = path.read_bytes()[-16384:].decode("utf-8", "replace")
    return "\n".join(data.splitlines()[-lines:])


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def start(
    name: str,
    argv: Sequence[str],
    *,
    log_dir: Path | None,
    stop_signal: int = signal.SIGTERM,
    pipes: bool = False,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    stdin: bool = False,
    stderr_pipe: bool = False,
) -> ManagedProcess:
    """Start ``argv`` (a list, never a shell string) in its own process group.

    With ``pipes`` the caller talks to the child over stdin/stdout (stderr still
    goes to the log file); otherwise both streams go to ``log_dir/NAME.out|err``.
    With ``stdin`` only stdin is a pipe (``write_line``), held open until the
    process stops (a UA driven through its menu, e.g. baresip). With
    ``stderr_pipe`` stderr reaches its log file through a pipe and the last of
    it is kept in memory (``stderr_tail`` works on a full disk: tcpdump).
    """
    argv = [str(a) for a in argv]
    mark = descendants.next_mark()
    cgroup = descendants.own_cgroup(mark)
    env = dict(os.environ if env is None else env)
    env[marks.MARK] = mark          # inherited by every descendant: see stop()
    files: list[IO] = []
    out_path = err_path = None
    if log_dir is not None:
        err_path = log_dir / f"{name}.stderr.log"
        try:
            log_dir.mkdir(parents=True, exist_ok=True)
            if stderr_pipe:
                stderr = subprocess.PIPE
            else:
                stderr = open(err_path, "wb")
                files.append(stderr)
            if pipes:
                stdout = subprocess.PIPE
            else:
                out_path = log_dir / f"{name}.stdout.log"
                stdout = open(out_path, "wb")
                files.append(stdout)
        except OSError as exc:      # a read-only or full artifacts folder
            for f in files:
                f.close()
            raise InfrastructureError(f"cannot start {name}: its log file in {log_dir}: "
                                      f"{exc.strerror or exc}") from None
    else:
        stderr = subprocess.DEVNULL
        stdout = subprocess.PIPE if pipes else subprocess.DEVNULL
    try:
        popen = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if (pipes or stdin) else subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
            preexec_fn=_die_with(os.getpid(), cgroup),
            env=env,
            cwd=cwd,
        )
    except OSError as exc:   # not found, not executable, not a program (ENOEXEC) ...
        for f in files:
            f.close()
        why = "not found" if isinstance(exc, FileNotFoundError) else exc.strerror or str(exc)
        raise InfrastructureError(f"cannot start {name}: {argv[0]}: {why}") from exc
    proc = ManagedProcess(name, argv, popen, out_path, err_path, stop_signal, files, mark,
                          cgroup, _Tee(popen.stderr, err_path) if popen.stderr else None)
    if stdin and not pipes and popen.stdin is not None:
        files.append(popen.stdin)
    with _live_lock:
        _live.add(proc)
    _tell_watchdog(f"+{popen.pid}")
    return proc


@dataclass(frozen=True)
class CommandResult:
    returncode: int
    stdout: str
    stderr: str


def run_command(argv: Sequence[str], timeout: float = 10.0) -> CommandResult:
    """Run a short command (a list, never a shell string) to its end and return its
    exit code and output: a tool asked something, not a party of the run (iptables,
    core/netfilter.py). Killed when it takes more than ``timeout`` seconds (an
    InfrastructureError); one that cannot start is an InfrastructureError too."""
    argv = [str(a) for a in argv]
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=timeout, start_new_session=True, cwd="/")
    except subprocess.TimeoutExpired:
        raise InfrastructureError(f"{' '.join(argv)}: no answer within {timeout:g}s") from None
    except OSError as exc:
        why = "not found" if isinstance(exc, FileNotFoundError) else exc.strerror or str(exc)
        raise InfrastructureError(f"cannot run {argv[0]}: {why}") from None
    return CommandResult(done.returncode, done.stdout.decode("utf-8", "replace"),
                         done.stderr.decode("utf-8", "replace"))


def watch_chain(tool: str, chain: str, on: bool = True) -> None:
    """Tell the watchdog about a packet filter chain of this process
    (core/netfilter.py): it removes the chains still told once sipscen is gone,
    even after a SIGKILL (``watchdog.chain_removal``)."""
    _tell_watchdog(f"{'!' if on else '~'}{tool} {chain}")


def _start_watchdog() -> subprocess.Popen | None:
    """The watchdog process (see watchdog.py), started once per sipscen process."""
    global _watchdog, _watchdog_pid_owner
    if _watchdog is not None and _watchdog_pid_owner == os.getpid() \
            and _watchdog.poll() is None:
        return _watchdog
    script = Path(__file__).with_name("watchdog.py")
    try:
        _watchdog = subprocess.Popen(
            [sys.executable, "-I", str(script)], stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
            env={}, cwd="/")      # inherits nothing: it is sipscen's, not the scenario's
    except OSError:
        _watchdog = None
        return None
    _watchdog_pid_owner = os.getpid()
    try:
        folder = owner_folder(descendants.owner_mark())
        told = f"={descendants.owner_mark()}\n" + (f"@{folder}\n" if folder else "")
        _watchdog.stdin.write(told.encode())     # kill these too at the end
        _watchdog.stdin.flush()
    except (BrokenPipeError, ValueError, OSError):
        pass
    return _watchdog


def _tell_watchdog(line: str) -> None:
    with _watchdog_lock:
        dog = _start_watchdog() if line[:1] in ("+", "!") else _watchdog
        if dog is None or dog.stdin is None or _watchdog_pid_owner != os.getpid():
            return
        try:
            dog.stdin.write(line.encode() + b"\n")
            dog.stdin.flush()
        except (BrokenPipeError, ValueError, OSError):
            pass


def watchdog_pid() -> int | None:
    """The watchdog's pid (tests), or None before the first child."""
    return _watchdog.pid if _watchdog is not None else None


_libc_prctl = descendants.libc_prctl
_PR_SET_PDEATHSIG = 1


def _reap_killed(pids) -> None:
    descendants.reap(pids, _popen_pids())


def _popen_pids() -> set[int]:
    with _live_lock:
        pids = {p.popen.pid for p in _live}
    if _watchdog is not None:
        pids.add(_watchdog.pid)
    return pids


def _die_with(parent_pid: int, cgroup: Path | None = None):
    """A pre-exec hook: the child joins its cgroup (if any: before it can fork,
    so every descendant is in it), and gets SIGTERM when sipscen dies, even by
    SIGKILL (a CI job killed hard), so no tcpdump, SIPp or Kamailio outlives it.
    The kernel ties this to the *thread* that started the child, so processes
    are started from threads that live as long as the process is needed (the
    main thread, a scenario's thread, an agent's run thread that waits for it)."""
    if _libc_prctl is None:
        return None

    def hook() -> None:
        if cgroup is not None:
            join(cgroup)
        _libc_prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent_pid:   # the parent died before the hook ran
            os._exit(1)
    return hook


def stop_strays(marker: str, grace: float = 2.0) -> list[int]:
    """Processes that a child started in a session of their own (so they outlive its
    process group), found by ``marker`` in their command line: a folder of this run's
    artifacts that only they name (Chromium's crash handler names its profile). Each
    is sent SIGTERM, then SIGKILL after ``grace``. Returns the pids found."""
    if len(marker) < 8 or "/" not in marker:
        raise ValueError(f"stop_strays needs a specific folder, not {marker!r}")
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if marker.encode() in cmdline:
            found.append(int(entry.name))
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in found:
            try:
                os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
        if sig == signal.SIGTERM and not wait_until(
                lambda: not any(Path(f"/proc/{p}").exists() for p in found), grace, 0.05):
            continue
        break
    return found


def live_processes() -> list[ManagedProcess]:
    with _live_lock:
        return [p for p in _live if p.running]


def stop_all(grace: float = 3.0) -> None:
    """Stop every process still registered (newest first), then whatever carries
    this process's mark."""
    with _live_lock:
        procs = sorted(_live, key=lambda p: p.popen.pid, reverse=True)
    for proc in procs:
        proc.stop(grace)
    owner = descendants.current_owner()
    if owner is not None:
        folder = owner_folder(owner)
        if folder is not None:
            _reap_killed(marks.kill_cgroup(str(folder)))
        _reap_killed(marks.kill_marked(owner + "."))


def _at_exit() -> None:
    """Nothing outlives sipscen: every process registered, every marked one, and
    every orphan reparented to us (the subreaper) that we did not start."""
    stop_all(1.0)
    if descendants.current_owner() is None:
        return
    strays = descendants.children() - _popen_pids()
    for pid in strays:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            continue
    _reap_killed(strays)


def wait_until(predicate, timeout: float, interval: float = 0.01) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


atexit.register(_at_exit)
