"""``repeat`` steps written out: one copy of the block per iteration, ``${i}`` numbered.

``- repeat: {count: 50, interval: 2s, steps: [...]}`` runs its steps 50 times,
2 s apart. Inside the block ``${i}`` (or the name given as ``var``) is the
iteration, 1 to ``count``: ``call: {to: bob, id: "call-${i}"}`` names the calls
call-1 ... call-50, and expectations can judge ``call-7``.

This stage runs after ``${...}`` substitution (which leaves a repeat's variable
in place inside its block, ``variables.py``) and before the schema: each
iteration's copy of the block is a tree like any other, so the schema and the
semantic checks judge every copy with its own number, and errors point at the
block's lines. ``steps`` then holds the ``count`` copies one after the other;
the step kind (``language/steps/repeat.py``) runs them a block at a time with
the ``interval`` between blocks, as one step of the agent's timeline.

A count that is not a whole number from 1 to :data:`MAX_COUNT`, an empty block,
or more than :data:`MAX_STEPS` steps written out are errors at their line.
"""
from __future__ import annotations

import re
from typing import Any

from sipscen.core.errors import ScenarioError
from sipscen.scenario.marks import MarkedMap, MarkedSeq, copy_marked, format_path, locate

MAX_COUNT = 10_000          # iterations of one repeat
MAX_STEPS = 100_000         # steps of one agent once every repeat is written out
DEFAULT_VAR = "i"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# a plan-time reference left by substitution: a string holding one keeps its `$${`
_DEFERRED = re.compile(r"\$\{(?:scenario_dir|[A-Za-z][A-Za-z0-9_-]*\.[A-Za-z_]+)\}")
_PENDING = re.compile(r"\$\{\s*[A-Za-z_][A-Za-z0-9_]*\s*\}")   # an inner repeat's variable


def loop_var(params: Any) -> str | None:
    """The variable a repeat step's block numbers its iterations with (None if the
    ``var`` given is not a name: the schema says so)."""
    var = params.get("var", DEFAULT_VAR) if isinstance(params, dict) else DEFAULT_VAR
    return var if isinstance(var, str) and _NAME.fullmatch(var) else None


def expand_repeats(tree: MarkedMap) -> list[ScenarioError]:
    """Write out every repeat of every agent's steps, in place; the errors found."""
    errors: list[ScenarioError] = []
    for section in ("agents", "services"):
        parties = tree.get(section)
        for name, party in (parties.items() if isinstance(parties, dict) else ()):
            steps = party.get("steps") if isinstance(party, dict) else None
            if not isinstance(steps, list):
                continue
            total = _expand_list(tree, steps, [section, name, "steps"], (), errors)
            if total > MAX_STEPS:
                errors.append(ScenarioError(
                    f"{total:,} steps once the repeats are written out (at most "
                    f"{MAX_STEPS:,}): fewer iterations, or a load agent", locate(
                        tree, [section, name, "steps"]), format_path([section, name])))
    return errors


def _expand_list(tree: MarkedMap, steps: list, path: list, outer: tuple[str, ...],
                 errors: list[ScenarioError]) -> int:
    """Expand the repeats of ``steps``; the number of steps once written out."""
    total = 0
    for index, step in enumerate(steps):
        params = step.get("repeat") if isinstance(step, dict) and len(step) == 1 else None
        if not isinstance(params, dict):
            total += 1
            continue
        here = path + [index, "repeat"]
        done = _expand_one(tree, params, here, outer, errors)
        total += 1 + done
        if total > MAX_STEPS:
            return total
    return total


def _fail(errors: list, tree: MarkedMap, message: str, path: list, key: bool = False) -> None:
    errors.append(ScenarioError(message, locate(tree, path, key=key), format_path(path)))


def _expand_one(tree: MarkedMap, params: dict, here: list, outer: tuple[str, ...],
                errors: list[ScenarioError]) -> int:
    count, body, var = params.get("count"), params.get("steps"), loop_var(params)
    if var is None:
        _fail(errors, tree, f"var must be a variable name (letters, digits, '_'), got "
              f"{params.get('var')!r}", here + ["var"])
        return 0
    if var in outer:
        _fail(errors, tree, f"an outer repeat already numbers its iterations '${{{var}}}': "
              "give this one another `var`", here + ["var"] if "var" in params else here)
        return 0
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
        _fail(errors, tree, f"a repeat count is a whole number from 1 to {MAX_COUNT:,}, got "
              f"{count!r}" + (" (a block repeated 0 times is no block: remove the step)"
                              if count == 0 else ""), here + ["count"] if "count" in params
              else here)
        return 0
    if not isinstance(body, list) or not body:
        _fail(errors, tree, "a repeat needs `steps`: the block of steps to repeat",
              here + ["steps"] if "steps" in params else here)
        return 0
    copies = MarkedSeq()
    copies.mark = getattr(body, "mark", None)
    for n in range(1, count + 1):
        for j, step in enumerate(body):
            copies.append(_numbered(copy_marked(step), var, n))
            copies.add_item_mark(body.item_mark(j) if isinstance(body, MarkedSeq) else None)
    params["steps"] = copies             # (the key's marks stay those of the block)
    # a repeat inside the block: each copy written out with its own numbers
    return _expand_list(tree, copies, here + ["steps"], outer + (var,), errors)


def _numbered(node: Any, var: str, n: int) -> Any:
    """``node`` with ``${var}`` replaced by ``n`` in every string value, in place."""
    token = re.compile(r"\$\$\{|\$\{\s*" + re.escape(var) + r"\s*\}")

    def text(value: str) -> str:
        if "${" not in value:
            return value
        out = token.sub(lambda m: m.group(0) if m.group(0) == "$${" else str(n), value)
        # `$${` stays an escape while a later pass still substitutes this string: an
        # inner repeat's variable, or a plan-time reference; then it is a literal `${`
        rest = out.replace("$${", "")
        if "$${" in out and not _DEFERRED.search(out) and not _PENDING.search(rest):
            out = out.replace("$${", "${")
        return out

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return text(value)
        if isinstance(value, dict):
            for key in list(value):
                value[key] = walk(value[key])
        elif isinstance(value, list):
            for i, item in enumerate(value):
                value[i] = walk(item)
        return value

    return walk(node)
