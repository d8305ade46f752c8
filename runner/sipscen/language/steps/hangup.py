"""``hangup``: end every active call (BYE, or CANCEL while it rings)."""
from sipscen.language.registry import StepKind, register_step

SCHEMA = {"description": "Hang up every active call, or the named `call`.",
          "type": ["object", "null"], "additionalProperties": False,
          "properties": {"call": {"$ref": "#/$defs/name"}}}


def run(t, params) -> None:
    t.control.hangup(t.target(params) if (params or {}).get("call") else None)


register_step(StepKind(
    name="hangup", schema=SCHEMA, run=run,
    doc="Hang up every active call (or only the named `call`): BYE once answered, CANCEL "
        "while it is still ringing.",
    example="- hangup: {}"))
