"""Signals that interrupt a run, and the sections they must not cut.

SIGINT, SIGTERM and SIGHUP end a run the way Ctrl-C does: a KeyboardInterrupt
in the main thread (Python runs signal handlers there only), caught by the
engine, which tears everything down and keeps what it has.

Two guarantees on top of that (issue 20: an interrupt after the verdict gave
no reports at all):

* :func:`install` (the CLI): the **first** signal raises KeyboardInterrupt;
  every later one is only recorded. Whatever the first one cut, the teardown
  and the writing of the reports that follow are never cut by a second one.
  :func:`received` says whether any came (the run then exits 130).
* :func:`held`: a section that must finish once begun (storing a verdict,
  masking secrets in the artifacts, writing a report). A signal landing inside
  is recorded and delivered when the section ends: as a KeyboardInterrupt when
  it is the first (installed), through the handler that was there before when
  :func:`install` was not called (a library user, the pytest plugin).

Prints nothing; exit codes are decided in sipscen.core.errors.
"""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator

SIGNALS: tuple[int, ...] = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                                 if hasattr(signal, name))


class _State:
    installed: bool = False
    previous: dict[int, object] = {}      # the handlers install() replaced
    received: list[int] = []              # every signal since install(), in order
    depth: int = 0                        # nested held() sections


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _first_raises(signum: int, frame) -> None:
    """The installed handler: the first signal interrupts, later ones are recorded."""
    first = not _State.received
    _State.received.append(signum)
    if first and _State.depth == 0:
        raise KeyboardInterrupt(f"signal {signum}")


def install() -> None:
    """SIGINT, SIGTERM and SIGHUP interrupt once (see the module doc). Main thread
    only (elsewhere a no-op); :func:`uninstall` puts the previous handlers back."""
    if not _main_thread():
        return
    if not _State.installed:
        _State.previous = {s: signal.getsignal(s) for s in SIGNALS}
    _State.installed = True
    _State.received = []
    for s in SIGNALS:
        signal.signal(s, _first_raises)


def uninstall() -> None:
    if not _main_thread() or not _State.installed:
        return
    for s, handler in _State.previous.items():
        signal.signal(s, handler if handler is not None else signal.SIG_DFL)
    _State.installed = False
    _State.previous = {}


def received() -> bool:
    """Whether a signal came since :func:`install` (the run is then interrupted)."""
    return bool(_State.received)


@contextmanager
def held(deliver: bool = True) -> Iterator[None]:
    """Run the body without being cut by a signal (see the module doc).

    ``deliver=False``: a signal held here is only recorded (:func:`received`),
    for a caller that ends the run itself once the section is done. Outside the
    main thread signals never land: nothing to hold.
    """
    if not _main_thread():
        yield
        return
    own = not _State.installed and _State.depth == 0
    saved: dict[int, object] = {}
    start = len(_State.received)
    if own:
        saved = {s: signal.getsignal(s) for s in SIGNALS}
        for s in SIGNALS:
            signal.signal(s, _record)
    _State.depth += 1
    try:
        yield
    finally:
        _State.depth -= 1
        if own:
            for s, handler in saved.items():
                signal.signal(s, handler if handler is not None else signal.SIG_DFL)
        new = _State.received[start:]
        if own:
            del _State.received[start:]        # not installed: nothing keeps the record
        if deliver and new and _State.depth == 0:
            _deliver(new[0], saved.get(new[0]) if own else None, first=start == 0)


def _record(signum: int, frame) -> None:
    _State.received.append(signum)


def _deliver(signum: int, previous: object, first: bool) -> None:
    """The held signal, now: installed, the first one raises (later ones were
    already past their moment); otherwise the handler that was there decides."""
    if _State.installed:
        if first:
            raise KeyboardInterrupt(f"signal {signum}")
        return
    if callable(previous):
        previous(signum, None)
    elif previous == signal.SIG_DFL:
        signal.raise_signal(signum)
