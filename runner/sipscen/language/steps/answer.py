"""``answer``: answer the ringing call (with ``answer: {manual: true}``)."""
from sipscen.language.registry import StepKind, register_step

SCHEMA = {
    "description": "Answer the ringing incoming call with `code` (default 200).",
    "type": "object", "additionalProperties": False,
    "properties": {"code": {"$ref": "#/$defs/status_code"},
                   "headers": {"$ref": "#/$defs/headers_to_add"}},
}


def run(t, params) -> None:
    t.control.answer(int(params.get("code", params.get("value", 200))),
                     dict(params.get("headers") or {}))


register_step(StepKind(
    name="answer", schema=SCHEMA, run=run,
    doc="Answer the incoming call that is ringing (the agent has `answer: {manual: true}`). "
        "A 180 while already ringing sends nothing more; "
        "`headers` are added to the answer.",
    example="- answer: {code: 200}"))
