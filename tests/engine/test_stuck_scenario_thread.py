"""An interrupted suite waits a bounded time for its scenarios to tear down.

A scenario thread that never returns is a bug (nothing a scenario runs may block
for ever), a fault no real run causes on purpose: here a stand-in scenario blocks.
Ctrl-C must still end the suite within the teardown bound, so the reports are
written and sipscen exits; the stuck thread is a daemon left behind."""
import os
import signal
import threading
import time

import pytest

from sipscen.engine import suite


def test_ctrl_c_ends_a_suite_whose_scenario_thread_is_stuck(monkeypatch):
    monkeypatch.setattr(suite, "TEARDOWN_BOUND", 1.0)
    never = threading.Event()
    started = threading.Event()
    finished: list[int] = []

    def one(index: int) -> None:
        if index == 0:
            started.set()
            never.wait(120)         # stuck: ignores the stop event (bounded: a test never hangs)
        else:
            finished.append(index)

    stop = threading.Event()
    threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        suite._run_parallel(one, [0, 1, 2], 2, stop)
    took = time.monotonic() - t0
    assert started.is_set() and stop.is_set()
    assert took < 5, f"the interrupted suite waited {took:.1f}s for a stuck thread"
    stuck = [t for t in threading.enumerate() if t.name.startswith("scenario_")]
    assert stuck and all(t.daemon for t in stuck)      # left behind, never joined at exit
    never.set()


def test_ctrl_c_waits_for_the_teardowns_of_running_scenarios(monkeypatch):
    """Not stuck, only slow to stop: the suite waits for it (within the bound)."""
    monkeypatch.setattr(suite, "TEARDOWN_BOUND", 10.0)
    torn_down = threading.Event()

    def one(index: int) -> None:
        stop.wait()
        time.sleep(0.5)             # a teardown that takes its time
        torn_down.set()

    stop = threading.Event()
    threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
    with pytest.raises(KeyboardInterrupt):
        suite._run_parallel(one, [0], 2, stop)
    assert torn_down.is_set()


def test_a_bug_in_a_scenario_thread_surfaces_in_the_main_thread():
    def one(index: int) -> None:
        raise RuntimeError(f"bug in {index}")

    with pytest.raises(RuntimeError, match="bug in"):
        suite._run_parallel(one, [0, 1], 2, threading.Event())
