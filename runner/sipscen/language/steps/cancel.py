"""``cancel``: CANCEL the outgoing call while it rings (the caller then sees 487)."""
from sipscen.language.registry import StepKind, register_step

SCHEMA = {"description": "CANCEL the current (or the named) outgoing call before it is "
                         "answered.",
          "type": ["object", "null"], "additionalProperties": False,
          "properties": {"call": {"$ref": "#/$defs/name"}}}


def run(t, params) -> None:
    t.control.cancel(t.target(params or {}))


register_step(StepKind(
    name="cancel", schema=SCHEMA, run=run,
    doc="CANCEL the current (or the named `call`) outgoing call while it is still ringing; "
        "the callee answers 487 Request Terminated. Fails if the call was already answered. "
        "For a ring timeout use `call: {timeout: ...}`.",
    example="- cancel: {}"))
