"""``hangup``: end every active call (BYE, or CANCEL while it rings)."""
from sipscen.language.registry import StepKind, register_step

SCHEMA = {"description": "Hang up every active call.",
          "type": ["object", "null"], "additionalProperties": False, "properties": {}}


def run(t, params) -> None:
    t.control.hangup(None)


register_step(StepKind(
    name="hangup", schema=SCHEMA, run=run,
    doc="Hang up every active call: BYE once answered, CANCEL while it is still ringing.",
    example="- hangup: {}"))
