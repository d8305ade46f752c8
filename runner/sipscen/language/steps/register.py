"""``register``: (re-)register the agent's account at its registrar."""
from sipscen.language.registry import StepKind, register_step


def registration_step(name: str, operation: str, description: str, doc: str,
                      example: str) -> StepKind:
    """A step with no parameters that calls `control.<operation>()` and needs the
    account's registrar (``register``, ``unregister``)."""
    def check(lc, params) -> None:
        lc.needs_registrar()

    def run(t, params) -> None:
        getattr(t.control, operation)()

    return register_step(StepKind(
        name=name, run=run, check=check, doc=doc, example=example,
        schema={"description": description, "type": ["object", "null"],
                "additionalProperties": False, "properties": {}}))


registration_step(
    "register", "register",
    "REGISTER again (the account needs `account.registrar`).",
    doc="Send a REGISTER to the account's registrar (the agent registers at start by itself; "
        "this re-registers, e.g. after `unregister`). Wait for `registered`.",
    example="- register: {}")
