"""Turn command-line paths (files, folders, globs) into scenario files."""
from __future__ import annotations

import glob
from pathlib import Path

from sipscen.core.errors import UsageError
from sipscen.core.paths import path_problem

SUFFIXES = (".yaml", ".yml")


def is_scenario_file(path: Path) -> bool:
    """A YAML file whose top level has an ``agents:`` key (cheap textual test:
    shared fragments and SUT configs in the same folders are not scenarios)."""
    if path.suffix not in SUFFIXES or not path.is_file():
        return False
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return any(line.startswith("agents:") for line in text.splitlines())


def discover(paths: list[str]) -> list[Path]:
    """Scenario files named by ``paths``, in a stable order, each once.

    A file is taken as given (so a broken file is reported, not skipped); a folder
    is searched recursively; a glob is expanded.
    """
    found: list[Path] = []
    for text in paths:
        problem = path_problem(text)
        if problem:
            raise UsageError(f"{text[:80]}: {problem}")
        path = Path(text)
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if is_scenario_file(p))
        elif path.exists():
            found.append(path)
        elif glob.has_magic(text):
            matches = [Path(m) for m in sorted(glob.glob(text, recursive=True))]
            found += [m for m in matches if (m.is_file() and m.suffix in SUFFIXES)]
        else:
            raise UsageError(f"{text}: no such file or folder")
    seen: set[Path] = set()
    unique = []
    for p in found:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique
