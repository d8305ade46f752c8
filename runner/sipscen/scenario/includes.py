"""Reusable scenario pieces: ``include:`` and ``parametrize:``.

``include: [lib/sut.yaml, ...]`` (paths relative to the including file)
merges the ``variables``, ``agents`` and ``services`` entries and the
``capture`` and ``timeout`` settings of other files into the scenario before
anything else happens. The including file's own entries always win; among
included files a later one wins over an earlier one. Included files may
include others (cycles are errors) and may hold only those keys (plus
``name``, ``description`` and ``tags``, which document the library and are
not merged). Merged entries keep their line marks, so an error in an included
piece points at the included file's line.

``parametrize:`` runs one file with several variable sets, each a separate
scenario named ``name[key=value,...]``: either a list of sets
(``[{codec: PCMA}, {codec: PCMU}]``) or a mapping ``NAME: [values]`` whose
cartesian product gives the sets. Parameter values win over ``--var``, the
environment and ``variables:`` defaults.
"""
from __future__ import annotations

import difflib
import itertools
import math
import os
from pathlib import Path
from typing import Any

from sipscen.core.errors import Location, ScenarioError
from sipscen.scenario.loader import load_yaml_file, load_yaml_file_counted
from sipscen.scenario.marks import MarkedMap, format_path, locate
from sipscen.core.paths import path_problem
from sipscen.scenario.semantic import base_dir
from sipscen.scenario.variables import variable_text

MERGED_SECTIONS = ("variables", "agents", "services")
MERGED_SETTINGS = ("capture", "timeout")
LIBRARY_KEYS = ("include", "name", "description", "tags") + MERGED_SECTIONS + MERGED_SETTINGS
MAX_PARAMETER_SETS = 1000      # each set is a whole scenario: more is a mistake, not a matrix


def expand_includes(tree: MarkedMap, path: Path) -> tuple[tuple[Path, ...], list[ScenarioError]]:
    """Merge every included file into ``tree`` in place.

    Returns the included files (absolute, in the order met) and the errors.
    """
    included: list[Path] = []
    errors: list[ScenarioError] = []
    _expand(tree, [Path(path).resolve()], included, errors)
    return tuple(included), errors


def _expand(tree: MarkedMap, chain: list[Path], included: list[Path],
            errors: list[ScenarioError]) -> None:
    entries = tree.get("include")
    if not isinstance(entries, list):
        return                      # absent, or a shape error the schema reports
    libraries: list[tuple[MarkedMap, bool]] = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, str):
            continue
        loc = locate(tree, ["include", i])
        where = format_path(["include", i])
        problem = path_problem(entry)
        if problem:
            errors.append(ScenarioError(problem, loc, where))
            continue
        target = (base_dir(loc) / entry).resolve()
        if not target.is_file():
            errors.append(ScenarioError(f"file not found: '{entry}' (relative to the file's folder)",
                                        loc, where))
            continue
        if target in chain:
            cycle = " -> ".join(p.name for p in chain + [target])
            errors.append(ScenarioError(f"include cycle: {cycle}", loc, where))
            continue
        label = os.path.normpath(os.path.join(os.path.dirname(loc.file), entry)) \
            if loc else str(target)
        try:
            library, aliased = _load_library(target, label)
        except ScenarioError as exc:
            errors.append(exc)
            continue
        included.append(target)
        _expand(library, chain + [target], included, errors)
        libraries.append((library, aliased))
    for library, aliased in reversed(libraries):     # later includes win over earlier ones
        _merge(tree, library, share=not aliased)


def _load_library(target: Path, label: str) -> tuple[MarkedMap, bool]:
    """The included file's tree, and whether it used YAML aliases."""
    text_tree, aliases = load_yaml_file_counted(
        label if Path(label).resolve() == target else target)
    if not isinstance(text_tree, MarkedMap):
        raise ScenarioError("an included file is a mapping (agents:, services:, variables:, ...)",
                            Location(label, 1, 1))
    for key in text_tree:
        if key not in LIBRARY_KEYS:
            close = difflib.get_close_matches(key, LIBRARY_KEYS, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else \
                "included files may hold: " + ", ".join(LIBRARY_KEYS)
            raise ScenarioError(f"unknown key '{key}' in an included file — {hint}",
                                text_tree.key_mark(key), key)
    return text_tree, aliases > 0


def _merge(tree: MarkedMap, library: MarkedMap, share: bool = False) -> None:
    """Add the library's entries that ``tree`` does not define itself (marks included).

    With ``share`` (a library without YAML aliases: none of its sections is also
    reachable elsewhere) a section ``tree`` lacks becomes the library's own map
    rather than a copy: a huge ``variables:`` map is never held twice.
    """
    for section in MERGED_SECTIONS:
        source = library.get(section)
        if not isinstance(source, MarkedMap):
            continue
        target = tree.get(section)
        if target is None:
            if not share:       # a shallow copy (the values and packed marks are shared)
                target = MarkedMap(source)
                target.mark, target._marks = source.mark, dict(source._marks)
                source = target
            tree[section] = source
            tree.copy_mark(section, library)
            continue
        if not isinstance(target, MarkedMap):
            continue                        # a shape error the schema reports
        for key, value in source.items():
            if key not in target:
                target[key] = value
                target.copy_mark(key, source)
    for key in MERGED_SETTINGS:
        if key in library and key not in tree:
            tree[key] = library[key]
            tree.copy_mark(key, library)


def parameter_sets(path: Path | str) -> list[dict[str, str]]:
    """The file's ``parametrize:`` sets as strings ([] when it has none)."""
    return parameter_sets_of(load_yaml_file(path))


def parameter_sets_of(tree: Any) -> list[dict[str, str]]:
    """The ``parametrize:`` sets of a loaded tree ([] when it has none)."""
    if not isinstance(tree, MarkedMap) or "parametrize" not in tree:
        return []
    spec = tree["parametrize"]
    loc = tree.value_mark("parametrize")
    shape = ("parametrize is a list of variable sets ({NAME: value, ...}) "
             "or a mapping NAME -> list of values")
    scalar = (str, int, float, bool)
    limit = (f"at most {MAX_PARAMETER_SETS} sets are allowed (each set is a scenario run): "
             "split the file or use fewer values")
    if isinstance(spec, list) and len(spec) > MAX_PARAMETER_SETS:
        raise ScenarioError(f"parametrize lists {len(spec)} sets; {limit}", loc, "parametrize")
    if isinstance(spec, dict) and spec and all(isinstance(v, list) for v in spec.values()):
        count = math.prod(len(v) for v in spec.values())
        if count > MAX_PARAMETER_SETS:
            sizes = " x ".join(str(len(v)) for v in spec.values())
            raise ScenarioError(f"parametrize gives {sizes} = {count} sets; {limit}", loc,
                                "parametrize")
    if isinstance(spec, list) and spec and all(
            isinstance(s, dict) and s and all(isinstance(v, scalar) for v in s.values())
            for s in spec):
        sets = [{k: variable_text(v) for k, v in s.items()} for s in spec]
    elif isinstance(spec, dict) and spec and all(
            isinstance(v, list) and v and all(isinstance(x, scalar) for x in v)
            for v in spec.values()):
        names = list(spec)
        sets = [{n: variable_text(v) for n, v in zip(names, combo)}
                for combo in itertools.product(*(spec[n] for n in names))]
    else:
        raise ScenarioError(shape, loc, "parametrize")
    seen: set[tuple] = set()
    for i, s in enumerate(sets):
        key = tuple(sorted(s.items()))
        if key in seen:
            raise ScenarioError(f"parameter set {i + 1} repeats an earlier one: {s}", loc,
                                "parametrize")
        seen.add(key)
    return sets
