"""``info``: send an in-dialog INFO with any body."""
from sipscen.language.registry import StepKind, register_step

SCHEMA = {
    "description": "Send an INFO request on the call with any body.",
    "type": "object", "additionalProperties": False,
    "properties": {"body": {"type": "string"},
                   "content_type": {"type": "string", "pattern": "^[\\w.+-]+/[\\w.+-]+$"},
                   "call": {"$ref": "#/$defs/name"},
                   "headers": {"$ref": "#/$defs/headers_to_add"}},
}


def run(t, params) -> None:
    t.control.send_info(t.target(params), str(params.get("content_type") or "text/plain"),
                        str(params.get("body") or ""), dict(params.get("headers") or {}))


register_step(StepKind(
    name="info", schema=SCHEMA, run=run,
    doc="Send an INFO on the current (or named `call`) call with `body` and `content_type` "
        "(text/plain); for DTMF by SIP INFO use the `dtmf` step.",
    example='- info: {content_type: application/json, body: \'{"case": 7}\'}'))
