"""Join the JSON reports of several shards into one list of results.

Each scenario entry of a JSON report carries the whole result (see
json_report); ``order`` (its position in the unsharded selection) restores the
order a single run would have had.
"""
from __future__ import annotations

import json
from pathlib import Path

from sipscen.engine.results import ScenarioResult
from sipscen.errors import UsageError
from sipscen.report.json_report import results_from_json_dict


def merge_reports(paths: list[Path]) -> list[ScenarioResult]:
    results: list[ScenarioResult] = []
    for path in paths:
        try:
            report = json.loads(Path(path).read_text())
            if not isinstance(report, dict) or not isinstance(report.get("scenarios"), list):
                raise ValueError("no 'scenarios' list")
            results.extend(results_from_json_dict(report))
        except (OSError, ValueError, TypeError, AttributeError, KeyError) as exc:
            raise UsageError(f"{path}: not a sipscen JSON report ({exc})") from None
    results.sort(key=lambda r: r.order)
    return results
