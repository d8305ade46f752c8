"""Result objects: what the engine returns and every report renders."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

PASSED, FAILED, ERROR = "passed", "failed", "error"
# what a check result rests on: an agent's own report, or the capture (what a
# capture known to be incomplete turns inconclusive)
AGENT, WIRE = "agent", "wire"
NOT_RUN = "not_run"     # never started: the suite was interrupted or --fail-fast stopped it


@dataclass
class CheckResult:
    name: str                 # e.g. "dtmf alice->bob (wire)"
    status: str               # passed | failed | error
    expected: Any = None
    actual: Any = None
    message: str = ""
    location: str = ""        # FILE:LINE:COL of the expectation
    evidence: str = ""        # AGENT | WIRE | "" (neither: a service's log, ...)
    # the audio it judged, saved as a WAV: a path relative to the run's artifacts
    # folder ("heard/03-audio-alice-bob-wire.wav"); None for a check of no audio
    recording: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ScenarioResult:
    name: str
    file: str
    status: str = ERROR               # passed | failed | error | not_run
    duration: float = 0.0             # seconds, wall clock
    checks: list[CheckResult] = field(default_factory=list)
    error: str | None = None          # why the scenario errored or failed outside checks
    agents: dict[str, dict[str, Any]] = field(default_factory=dict)  # per-agent facts
    services: dict[str, dict[str, Any]] = field(default_factory=dict)  # per-service facts
    wire: dict[str, Any] = field(default_factory=dict)   # analysis summary (dtmf, streams)
    artifacts: dict[str, str] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    description: str = ""
    location: str = ""                # FILE:1:1 or the failing step's location
    scripted_wait: float = 0.0        # sum of the scenario's sleeps, for the overhead bench
    exit_status: int | None = None    # for status "error": the ExitStatus of its cause
    warnings: list[str] = field(default_factory=list)   # engine-level, e.g. a failed stop
    started_at: float = 0.0           # wall clock (epoch seconds) when the run began
    order: int = 0                    # position in the (unsharded) selection, for merging
    # generator K of N of a distributed load: {"generator": [K, N], "load": [deferred
    # load expectations]} (sipscen.engine.generators, sipscen.report.aggregate)
    distributed: dict[str, Any] | None = None
    no_checks: bool = False           # no expect: (passed, no checks; --strict fails it)
    # per load agent: calls, one-way count, worst calls, histograms and the time series
    # (sipscen.checks.load_media; the shape is in docs/LOAD.md)
    load: dict[str, Any] = field(default_factory=dict)
    # values to redact ("***") in every report; never written out themselves
    secrets: list[str] = field(default_factory=list, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("secrets", None)
        return d

    @property
    def failed_checks(self) -> list[CheckResult]:
        return [c for c in self.checks if c.status != PASSED]


def _wall_time(results: list[ScenarioResult]) -> float:
    ran = [r for r in results if r.started_at]
    if not ran:
        return sum(r.duration for r in results)
    return max(r.started_at + r.duration for r in ran) - min(r.started_at for r in ran)


def summarise(results: list[ScenarioResult]) -> dict[str, Any]:
    counts = {PASSED: 0, FAILED: 0, ERROR: 0, NOT_RUN: 0}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    return {
        "total": len(results),
        **counts,
        # passed without a single check (no expect:): a pass that proves little
        "no_checks": sum(1 for r in results if r.status == PASSED and r.no_checks),
        # The scenarios' own time, added up, and the time from the first start to
        # the last end: with -j they differ.
        "duration": round(sum(r.duration for r in results), 3),
        "wall_time": round(_wall_time(results), 3),
        # a suite with scenarios that never ran has not passed
        "status": (ERROR if counts[ERROR] else FAILED if counts[FAILED]
                   else NOT_RUN if counts[NOT_RUN] else PASSED),
    }


def jsonable(obj: Any) -> Any:
    """A value as JSON can hold it: tuples and sets to lists, keys to strings, bytes
    decoded, paths and other objects to strings (the JSON report and saved evidence)."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in obj]
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, bytes):
        return obj.decode("utf-8", errors="replace")
    return str(obj)
