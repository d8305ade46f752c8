"""``repeat``: a block of steps, ``count`` times, ``interval`` apart; ``${i}`` numbers them.

The file's block is written out once per iteration before validation
(``scenario/repeats.py``): ``steps`` here holds every iteration's copy, one
after the other, so the block is ``len(steps) // count`` steps long. The
repeat is one step of the agent's timeline (its index in phases and reports);
the steps inside it are announced as ``REPEAT.ITERATION.STEP`` (e.g. ``2.3.0``:
step 2's third iteration, its first step).
"""
from __future__ import annotations

from sipscen.core.model import Step, parse_duration
from sipscen.language import registry
from sipscen.language.registry import StepKind, register_step

SCHEMA = {
    "description": "Repeat a block of `steps` `count` times, `interval` apart (from the end "
                   "of one iteration to the start of the next); `${i}` (or `${VAR}` with "
                   "`var`) is the iteration, 1 to count.",
    "type": "object", "required": ["count", "steps"], "additionalProperties": False,
    "properties": {
        "count": {"type": "integer", "minimum": 1, "maximum": 10000},
        "interval": {"$ref": "#/$defs/duration"},
        "var": {"$ref": "#/$defs/variable_name",
                "description": "the variable that numbers the iterations (default i)"},
        "steps": {"$ref": "#/$defs/steps", "minItems": 1},
    },
}


def check(lc, params) -> None:
    """Every written-out step is checked like a step of the agent (its kind, its own
    check, the call ids it names)."""
    for j, step in enumerate(params.get("steps") or []):
        lc.checker.check_step(lc.agent, step, lc.path + ["steps", j])
    lc.durations(params, [])


def _block(params) -> tuple[int, list]:
    steps = list(params.get("steps") or [])
    count = max(1, int(params.get("count") or 1))
    return count, steps[:max(1, len(steps) // count)] if steps else []


def scripted(params) -> float:
    count, _ = _block(params)
    kinds = registry.steps()
    inner = 0.0
    for step in params.get("steps") or []:
        (kind, sub), = step.items()
        record = kinds.get(kind)
        if record is not None and record.scripted is not None:
            inner += record.scripted(sub if isinstance(sub, dict) else {"value": sub})
    return inner + (count - 1) * parse_duration(params.get("interval", 0))


def run(t, params) -> None:
    count, block = _block(params)
    steps = list(params.get("steps") or [])
    interval = t.duration(params.get("interval", 0), "repeat interval")
    outer = t.step
    index = t.current_index
    for n in range(count):
        pairs = []
        for j, raw in enumerate(steps[n * len(block):(n + 1) * len(block)]):
            (kind, sub), = raw.items()
            sub = sub if isinstance(sub, dict) else ({} if sub is None else {"value": sub})
            pairs.append((f"{index}.{n + 1}.{j}",
                          Step(kind=kind, params=sub, location=outer.location,
                               path=f"{outer.path}.repeat.steps[{n * len(block) + j}]")))
        t.run(pairs)
        if t.ctx.board.cancelled.is_set():
            return
        if interval and n + 1 < count:
            t.pause(interval)
    t.step = outer


register_step(StepKind(
    name="repeat", schema=SCHEMA, check=check, run=run, scripted=scripted, generic=True,
    doc="Repeat a block of `steps` `count` times, `interval` apart; inside it `${i}` is the "
        "iteration (1..count), so `call: {to: bob, id: 'c-${i}'}` names each call and "
        "expectations can judge `c-7`. `validate` checks every iteration's steps.",
    example="- repeat: {count: 50, interval: 2s, steps: [{call: {to: bob, id: 'c-${i}'}}, "
            "{wait: {event: answered}}, {dtmf: {digits: '1'}}, {hangup: {}}, "
            "{wait: {event: disconnected}}]}"))
