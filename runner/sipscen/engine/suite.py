"""Run many scenario files: load each, run them (one by one or in parallel),
turn invalid files into error results so reports show them. Prints nothing."""
from __future__ import annotations

import threading
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path

from sipscen.core.results import ERROR, NOT_RUN, ScenarioResult
from sipscen.engine.run import RunOptions, run_scenario
from sipscen.engine.select import Selection, in_shard
from sipscen.core.errors import ExitStatus, SipscenError
from sipscen.core.model import Scenario


@dataclass
class SuiteOptions:
    run: RunOptions = field(default_factory=RunOptions)
    variables: dict[str, str] = field(default_factory=dict)
    jobs: int = 1
    fail_fast: bool = False
    selection: Selection = field(default_factory=Selection)


def load_all(files: list[Path], variables: dict[str, str]) -> list[Scenario | ScenarioResult]:
    """Each file's scenarios, or an error result for a file that does not load."""
    from sipscen.scenario import load_scenarios

    loaded: list[Scenario | ScenarioResult] = []
    for path in files:
        try:
            loaded.extend(load_scenarios(path, variables))
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


def run_suite(files: list[Path], options: SuiteOptions) -> list[ScenarioResult]:
    """Run every scenario of ``files``; results in file order.

    On Ctrl-C every running scenario is torn down, and the KeyboardInterrupt is
    re-raised with ``exc.results`` holding what finished.
    """
    selected = select(load_all(files, options.variables), options.selection)
    positions = [pos for pos, _ in selected]
    items = [item for _, item in selected]
    for pos, item in selected:
        if isinstance(item, ScenarioResult):
            item.order = pos
    results: list[ScenarioResult | None] = [i if isinstance(i, ScenarioResult) else None
                                            for i in items]
    stop = threading.Event()          # Ctrl-C: tear down what runs
    no_more = threading.Event()       # --fail-fast: start nothing new
    run_options = replace(options.run, stop_event=stop)

    def one(index: int) -> None:
        if stop.is_set() or no_more.is_set():
            return
        try:
            results[index] = run_scenario(items[index], run_options)
        except KeyboardInterrupt as exc:    # Ctrl-C, or stopped because of one elsewhere
            partial = getattr(exc, "result", None)
            if partial is not None:
                partial.order = positions[index]
                results[index] = partial
            if threading.current_thread() is threading.main_thread():
                raise
            return
        results[index].order = positions[index]
        if options.fail_fast and results[index].status != "passed":
            no_more.set()

    todo = [i for i, item in enumerate(items) if not isinstance(item, ScenarioResult)]
    try:
        if options.jobs <= 1:
            for i in todo:
                one(i)
        else:
            _run_parallel(one, todo, options.jobs, stop)
    except KeyboardInterrupt as exc:
        stop.set()
        _not_run(items, positions, results, "not run: the run was interrupted before it started")
        exc.results = [r for r in results if r is not None]  # type: ignore[attr-defined]
        raise
    _not_run(items, positions, results, "not run: --fail-fast stopped the run after a failure")
    return [r for r in results if r is not None]


def _not_run(items: list, positions: list[int], results: list, why: str) -> None:
    """Every scenario that never started is listed as not run, never left out."""
    for i, item in enumerate(items):
        if results[i] is None and isinstance(item, Scenario):
            results[i] = ScenarioResult(
                name=item.name, file=str(item.file), status=NOT_RUN, error=why,
                tags=list(item.tags), description=item.description, order=positions[i],
                location=str(item.location) if item.location else f"{item.file}:1:1",
                exit_status=int(ExitStatus.INTERRUPTED if "interrupted" in why
                                else ExitStatus.SUCCESS), secrets=sorted(item.secrets))


def _run_parallel(one, todo: list[int], jobs: int, stop: threading.Event) -> None:
    """Run ``one(i)`` for every index on ``jobs`` threads. The main thread only
    waits, so Ctrl-C lands here: then every running scenario is told to stop
    (``stop``), queued ones are cancelled, and we wait for the teardowns."""
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="scenario")
    try:
        futures = [pool.submit(one, i) for i in todo]
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
            for f in done:
                f.result()          # a bug in a scenario thread surfaces here
    except BaseException:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
