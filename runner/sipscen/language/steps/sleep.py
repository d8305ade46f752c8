"""``sleep``: do nothing for a while."""
from sipscen.language.registry import StepKind, register_step
from sipscen.core.model import parse_duration

SCHEMA = {"$ref": "#/$defs/duration"}


def seconds(params) -> float:
    return parse_duration(params.get("value", params.get("duration", 0)))


def run(t, params) -> None:
    t.pause(t.duration(params.get("value", params.get("duration", 0)), "sleep"))


register_step(StepKind(name="sleep", schema=SCHEMA, run=run, scripted=seconds,
                       doc="Do nothing for a duration.", example="- sleep: 500ms"))
