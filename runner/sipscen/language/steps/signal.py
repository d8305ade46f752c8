"""``signal``: post a named event other agents can wait for."""
from sipscen.language.registry import StepKind, register_step

SCHEMA = {"$ref": "#/$defs/name"}


def run(t, params) -> None:
    name = params.get("value", params.get("name"))
    if not name:
        raise t.fail("signal needs a name")
    t.ctx.board.post(t.name, "signal", name=str(name))


register_step(StepKind(
    name="signal", schema=SCHEMA, run=run,
    doc="Post a named signal; another agent's `wait: {signal: NAME, agent: ME}` consumes it.",
    example="- signal: done"))
