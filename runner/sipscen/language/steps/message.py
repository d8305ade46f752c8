"""``message``: send an out-of-dialog SIP MESSAGE."""
from sipscen.language.registry import StepKind, register_step
from sipscen.language.steps.call import check_uri, destination

SCHEMA = {
    "description": "Send a SIP MESSAGE `to` an agent/service or a `uri`.",
    "type": "object", "required": ["body"], "additionalProperties": False,
    "properties": {"to": {"$ref": "#/$defs/name"}, "uri": {"type": "string", "minLength": 1},
                   "body": {"type": "string"},
                   "content_type": {"type": "string", "pattern": "^[\\w.+-]+/[\\w.+-]+$"},
                   "headers": {"$ref": "#/$defs/headers_to_add"}},
}


def check(lc, params) -> None:
    lc.exactly_one(params, ("to", "uri"))
    check_uri(lc, params)
    lc.ref(params.get("to"), ["to"], services_too=True)


def run(t, params) -> None:
    uri = destination(t, params)
    t.control.send_message(uri, str(params.get("body", "")),
                           str(params.get("content_type") or "text/plain"),
                           dict(params.get("headers") or {}))


register_step(StepKind(
    name="message", schema=SCHEMA, run=run, check=check,
    doc="Send a SIP MESSAGE (RFC 3428) `to` an agent or service, or to a `uri`, with `body`, "
        "`content_type` (text/plain) and extra `headers`. The receiver sees event `message`.",
    example='- message: {to: bob, body: "hello bob", headers: {X-Case: msg-1}}'))
