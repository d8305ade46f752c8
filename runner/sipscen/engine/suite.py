"""Run many scenario files: load each, run them (one by one or in parallel),
turn invalid files into error results so reports show them. Prints nothing."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from sipscen.core.results import ERROR, FAILED, NOT_RUN, PASSED, ScenarioResult
from sipscen.engine import interrupts
from sipscen.engine.run import RunOptions, run_scenario
from sipscen.engine.select import Selection, in_shard
from sipscen.core.errors import ExitStatus, SipscenError
from sipscen.core.model import Scenario
from sipscen.scenario import load_scenarios


@dataclass
class SuiteOptions:
    run: RunOptions = field(default_factory=RunOptions)
    variables: dict[str, str] = field(default_factory=dict)
    jobs: int = 1
    fail_fast: bool = False
    selection: Selection = field(default_factory=Selection)


def load_all(files: list[Path], variables: dict[str, str], environ=None
             ) -> list[Scenario | ScenarioResult]:
    """Each file's scenarios, or an error result for a file that does not load
    (``environ``: as ``load_scenarios`` takes it; default the process's)."""

    loaded: list[Scenario | ScenarioResult] = []
    for path in files:
        try:
            loaded.extend(load_scenarios(path, variables, environ=environ))
        except SipscenError as exc:
            loaded.append(invalid_result(path, exc))
        except Exception as exc:  # noqa: BLE001 - a bug on one file must not sink the others
            result = invalid_result(path, SipscenError(f"internal error while loading: {exc!r}"))
            result.exit_status = int(ExitStatus.INFRASTRUCTURE)
            loaded.append(result)
    return loaded


def select(items: list[Scenario | ScenarioResult], selection: Selection
           ) -> list[tuple[int, Scenario | ScenarioResult]]:
    """The items this run takes, each with its position in the whole selection
    (it becomes ``ScenarioResult.order``, so sharded reports merge back into
    one order). Invalid files are always kept: a broken file never passes silently."""
    chosen = [i for i in items if isinstance(i, ScenarioResult) or selection.matches(i)]
    return [(pos, item) for pos, item in enumerate(chosen) if in_shard(pos, selection.shard)]


def invalid_result(path: Path, exc: SipscenError) -> ScenarioResult:
    location = str(getattr(exc, "location", "") or f"{path}:1:1")
    return ScenarioResult(name=path.stem, file=str(path), status=ERROR, error=str(exc),
                          exit_status=int(ExitStatus.INVALID_INPUT), location=location)


class SuiteState:
    """Every selected scenario's slot, readable at any moment (issue 20).

    The engine hands each scenario's result object over as soon as it exists
    (``RunOptions.result_sink``) and fills it in place, so an interrupt that
    lands anywhere - after a verdict, between parametrized sets, on the way
    back to the caller - never loses a result: :meth:`results` settles every
    slot (a verdict is kept; a scenario cut before its verdict is an
    interrupted error; one that never started is not run)."""

    def __init__(self) -> None:
        self.items: list[Scenario | ScenarioResult] = []
        self.positions: list[int] = []
        self.slots: list[ScenarioResult | None] = []
        self.interrupted = False
        self.fail_fast_stopped = False

    def fill(self, selected: list[tuple[int, Scenario | ScenarioResult]]) -> None:
        self.positions = [pos for pos, _ in selected]
        self.items = [item for _, item in selected]
        for pos, item in selected:
            if isinstance(item, ScenarioResult):
                item.order = pos
        self.slots = [i if isinstance(i, ScenarioResult) else None for i in self.items]

    def sink(self, index: int):
        def keep(result: ScenarioResult) -> None:
            result.order = self.positions[index]
            self.slots[index] = result
        return keep

    def results(self) -> list[ScenarioResult]:
        """Every selected scenario's result, in selection order."""
        why = ("not run: the run was interrupted before it started" if self.interrupted
               else "not run: --fail-fast stopped the run after a failure")
        out = []
        for i, item in enumerate(self.items):
            result = self.slots[i]
            if result is None and isinstance(item, Scenario):
                if not (self.interrupted or self.fail_fast_stopped):
                    continue
                result = not_run_result(item, self.positions[i], why)
            elif result is not None and not has_verdict(result):
                result.status, result.error = ERROR, "interrupted"
                result.exit_status = int(ExitStatus.INTERRUPTED)
            if result is not None:
                out.append(result)
        return out


def has_verdict(result: ScenarioResult) -> bool:
    """Whether the engine concluded on ``result`` (passed, failed, or an error
    with its reason); a result still without one was cut by an interrupt."""
    return result.status in (PASSED, FAILED, NOT_RUN) or bool(result.error)


def run_suite(files: list[Path], options: SuiteOptions,
              state: SuiteState | None = None) -> list[ScenarioResult]:
    """Run every scenario of ``files``; results in file order.

    On Ctrl-C every running scenario is torn down, and the KeyboardInterrupt is
    re-raised with ``exc.results`` holding every scenario (see SuiteState);
    a caller that passes ``state`` can read them even if the interrupt lands
    after this function has returned.
    """
    state = state if state is not None else SuiteState()
    try:
        state.fill(select(load_all(files, options.variables), options.selection))
        _run_all(state, options)
        return state.results()
    except KeyboardInterrupt as exc:
        state.interrupted = True
        exc.results = state.results()  # type: ignore[attr-defined]
        raise


def _run_all(state: SuiteState, options: SuiteOptions) -> None:
    stop = threading.Event()          # Ctrl-C: tear down what runs
    no_more = threading.Event()       # --fail-fast: start nothing new
    items = state.items

    def one(index: int) -> None:
        if stop.is_set() or no_more.is_set():
            return
        run_options = replace(options.run, stop_event=stop, result_sink=state.sink(index))
        try:
            result = run_scenario(items[index], run_options)
        except KeyboardInterrupt as exc:    # Ctrl-C, or stopped because of one elsewhere
            partial = getattr(exc, "result", None)
            if partial is not None and state.slots[index] is None:
                state.sink(index)(partial)
            if threading.current_thread() is threading.main_thread():
                raise
            return
        state.sink(index)(result)
        if options.fail_fast and result.status != PASSED:
            no_more.set()
            state.fail_fast_stopped = True

    todo = [i for i, item in enumerate(items) if not isinstance(item, ScenarioResult)]
    try:
        if options.jobs <= 1:
            for i in todo:
                one(i)
        else:
            _run_parallel(one, todo, options.jobs, stop)
    except KeyboardInterrupt:
        stop.set()
        raise


def not_run_result(item: Scenario, position: int, why: str) -> ScenarioResult:
    """A scenario that never started: listed as not run, never left out."""
    return ScenarioResult(
        name=item.name, file=str(item.file), status=NOT_RUN, error=why,
        tags=list(item.tags), description=item.description, order=position,
        location=str(item.location) if item.location else f"{item.file}:1:1",
        exit_status=int(ExitStatus.INTERRUPTED if "interrupted" in why
                        else ExitStatus.SUCCESS), secrets=sorted(item.secrets))


# how long an interrupted suite waits for its running scenarios to tear down; a
# scenario thread stuck past it (a bug: nothing it runs may block for ever) is left
# behind, a daemon, so the reports are still written and sipscen still exits
TEARDOWN_BOUND = 60.0


def _run_parallel(one, todo: list[int], jobs: int, stop: threading.Event) -> None:
    """Run ``one(i)`` for every index on ``jobs`` daemon threads. The main thread
    only waits, so Ctrl-C lands here: then every running scenario is told to stop
    (``stop``), queued ones never start, and we wait for the teardowns (at most
    ``TEARDOWN_BOUND``). A bug in a scenario thread surfaces here."""
    queue = list(todo)
    lock = threading.Lock()
    errors: list[BaseException] = []
    workers = min(jobs, len(queue))
    # each worker's end, waited on with Event.wait: a Thread.join interrupted by
    # Ctrl-C leaves CPython believing the thread has ended (it has not)
    ended = [threading.Event() for _ in range(workers)]

    def worker(k: int) -> None:
        try:
            while not stop.is_set():
                with lock:
                    if not queue:
                        return
                    index = queue.pop(0)
                one(index)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            errors.append(exc)
        finally:
            ended[k].set()

    for k in range(workers):
        threading.Thread(target=worker, args=(k,), name=f"scenario_{k}", daemon=True).start()
    try:
        while not all(e.is_set() for e in ended):
            next(e for e in ended if not e.is_set()).wait(0.1)
            if errors:
                raise errors[0]
        if errors:
            raise errors[0]
    except BaseException:
        stop.set()
        with lock:
            queue.clear()
        with interrupts.held(deliver=False):    # a second Ctrl-C must not skip the teardowns
            deadline = time.monotonic() + TEARDOWN_BOUND
            for e in ended:
                e.wait(max(0.0, deadline - time.monotonic()))
        raise
