"""Every scenario under examples/ and scenarios/ validates and loads.

Picked up: ``*.yaml`` files (recursively) with a top-level ``agents`` key that
no other file includes (an included library is checked through its
includer), unless their name or a folder marks them as deliberately invalid
(``invalid``, ``broken``, ``bad``, ``failing-syntax``). ``${env:NAME}``
references get a placeholder value: this test checks the language, not the
machine's secrets.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml

from sipscen.scenario import load_scenarios, validate_file

ROOT = Path(__file__).resolve().parents[2]
INVALID_MARKS = re.compile(r"(^|[^a-z])(invalid|broken|bad|malformed-yaml)([^a-z]|$)")


def _top_level(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def scenario_files() -> list[Path]:
    candidates: dict[Path, dict] = {}
    for folder in ("examples", "scenarios"):
        for path in sorted((ROOT / folder).rglob("*.yaml")):
            relative = path.relative_to(ROOT).as_posix().lower()
            if INVALID_MARKS.search(relative):
                continue
            candidates[path.resolve()] = _top_level(path)
    included = {(path.parent / entry).resolve()
                for path, data in candidates.items()
                for entry in (data.get("include") or []) if isinstance(entry, str)}
    return [p for p, data in candidates.items() if "agents" in data and p not in included]


FILES = scenario_files()


def _environ_for(path: Path) -> dict[str, str]:
    names = re.findall(r"\$\{env:\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}", path.read_text("utf-8"))
    return {**os.environ, **{name: f"placeholder-{name.lower()}" for name in names}}


def test_the_demo_is_among_them():
    assert (ROOT / "examples" / "demo.yaml").resolve() in FILES


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_scenario_file_is_valid(path: Path):
    if not path.exists():
        pytest.skip("the file went away after collection (someone is editing the tree)")
    environ = _environ_for(path)
    errors = validate_file(path, environ=environ)
    assert errors == [], "\n".join(map(str, errors))
    scenarios = load_scenarios(path, environ=environ)
    assert scenarios and all(s.agents for s in scenarios)
    assert all(s.file == path for s in scenarios)
