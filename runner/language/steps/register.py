"""``register``: (re-)register the agent's account at its registrar."""
from sipscen.language.registry import StepKind, register_step

SCHEMA = {"description": "REGISTER again (the account needs `account.registrar`).",
          "type": ["object", "null"], "additionalProperties": False, "properties": {}}


def check(lc, params) -> None:
    lc.needs_registrar()


def run(t, params) -> None:
    t.control.register()


register_step(StepKind(
    name="register", schema=SCHEMA, run=run, check=check,
    doc="Send a REGISTER to the account's registrar (the agent registers at start by itself; "
        "this re-registers, e.g. after `unregister`). Wait for `registered`.",
    example="- register: {}"))
