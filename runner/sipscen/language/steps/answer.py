"""``answer``: answer the ringing call (with ``answer: {manual: true}``)."""
from sipscen.language.registry import StepKind, register_step

SCHEMA = {
    "description": "Answer the ringing incoming call with `code` (default 200).",
    "type": "object", "additionalProperties": False,
    "properties": {"code": {"$ref": "#/$defs/status_code"},
                   "reason": {"$ref": "#/$defs/reason_phrase"},
                   "headers": {"$ref": "#/$defs/headers_to_add"}},
}


def run(t, params) -> None:
    code = int(params.get("code", params.get("value", 200)))
    if params.get("reason"):
        t.control.answer(code, dict(params.get("headers") or {}), reason=str(params["reason"]))
    else:
        t.control.answer(code, dict(params.get("headers") or {}))


register_step(StepKind(
    name="answer", schema=SCHEMA, run=run,
    doc="Answer the incoming call that is ringing (the agent has `answer: {manual: true}`). "
        "A 180 while already ringing sends nothing more; "
        "`headers` are added to the answer; `reason` is its reason phrase.",
    example='- answer: {code: 480, reason: "Temporarily Unavailable"}'))
