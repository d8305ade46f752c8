"""``unregister``: remove the agent's binding (REGISTER with Expires: 0)."""
from sipscen.language.registry import StepKind, register_step

SCHEMA = {"description": "REGISTER with Expires: 0: the binding is removed.",
          "type": ["object", "null"], "additionalProperties": False, "properties": {}}


def check(lc, params) -> None:
    lc.needs_registrar()


def run(t, params) -> None:
    t.control.unregister()


register_step(StepKind(
    name="unregister", schema=SCHEMA, run=run, check=check,
    doc="Remove the account's binding at its registrar: a REGISTER with `Expires: 0`. Wait "
        "for `unregistered`.",
    example="- unregister: {}"))
