"""Join the JSON reports of several shards into one list of results.

Each scenario entry in a JSON report carries the full result (see
json_report); ``order`` (its position in the unsharded selection) restores the
order a single run would have had.
"""
from __future__ import annotations

import json
from pathlib import Path

from runner.engine.results import CheckResult, ScenarioResult
from runner.errors import UsageError


def result_from_dict(d: dict) -> ScenarioResult:
    fields = set(ScenarioResult.__dataclass_fields__)
    data = {k: v for k, v in d.items() if k in fields}
    data["checks"] = [CheckResult(**{k: v for k, v in c.items()
                                     if k in CheckResult.__dataclass_fields__})
                      for c in d.get("checks", [])]
    return ScenarioResult(**data)


def merge_reports(paths: list[Path]) -> list[ScenarioResult]:
    results: list[ScenarioResult] = []
    for path in paths:
        try:
            report = json.loads(Path(path).read_text())
            scenarios = report["scenarios"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise UsageError(f"{path}: not a sipscen JSON report ({exc})") from None
        results.extend(result_from_dict(s) for s in scenarios)
    results.sort(key=lambda r: r.order)
    return results
