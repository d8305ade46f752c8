"""``unhold``: take the current call off hold (re-INVITE with a=sendrecv)."""
from sipscen.language.registry import StepKind, register_step

SCHEMA = {"description": "Resume the held call: a re-INVITE with a=sendrecv.",
          "type": ["object", "null"], "additionalProperties": False,
          "properties": {"call": {"$ref": "#/$defs/name"}}}


def run(t, params) -> None:
    t.control.unhold(t.target(params or {}))


register_step(StepKind(
    name="unhold", schema=SCHEMA, run=run,
    doc="Resume the current call after a hold (re-INVITE with a=sendrecv); both sides then "
        "see event `resumed`.",
    example="- unhold: {}"))
