"""Join the JSON reports of several shards into one list of results.

Each scenario entry of a JSON report carries the whole result (see
json_report); ``order`` (its position in the unsharded selection) restores the
order a single run would have had. The reports of the generators of a
distributed load are joined into one result per scenario (report/aggregate.py).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sipscen.core.results import ScenarioResult
from sipscen.core.errors import UsageError
from sipscen.report.aggregate import aggregate_generators
from sipscen.report.json_report import results_from_json_dict


def merge_reports(paths: list[Path]) -> list[ScenarioResult]:
    reports = []
    for path in paths:
        try:
            reports.append((str(path), json.loads(Path(path).read_text())))
        except (OSError, ValueError) as exc:
            raise UsageError(f"{path}: not a sipscen JSON report ({exc})") from None
    return merge_report_data(reports)


def merge_report_data(reports: list[tuple[str, Any]]) -> list[ScenarioResult]:
    """(label, parsed JSON report) pairs -> one ordered list of results."""
    results: list[ScenarioResult] = []
    for label, report in reports:
        try:
            if not isinstance(report, dict) or not isinstance(report.get("scenarios"), list):
                raise ValueError("no 'scenarios' list")
            results.extend(results_from_json_dict(report))
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            raise UsageError(f"{label}: not a sipscen JSON report ({exc})") from None
    results.sort(key=lambda r: r.order)
    return aggregate_generators(results)
