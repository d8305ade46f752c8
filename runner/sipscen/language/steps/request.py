"""``request``: send any out-of-dialog request (OPTIONS by default)."""
from sipscen.language.registry import StepKind, register_step
from sipscen.language.steps.call import check_uri, destination

SCHEMA = {
    "description": "Send an out-of-dialog request (`method`, default OPTIONS) `to` an "
                   "agent/service or a `uri`.",
    "type": "object", "additionalProperties": False,
    "properties": {"method": {"type": "string", "pattern": "^[A-Z]+$"},
                   "to": {"$ref": "#/$defs/name"}, "uri": {"type": "string", "minLength": 1},
                   "body": {"type": "string"},
                   "content_type": {"type": "string", "pattern": "^[\\w.+-]+/[\\w.+-]+$"},
                   "headers": {"$ref": "#/$defs/headers_to_add"}},
}
IN_DIALOG = ("INVITE", "ACK", "BYE", "CANCEL", "PRACK", "UPDATE", "REFER", "NOTIFY", "INFO")


def check(lc, params) -> None:
    lc.exactly_one(params, ("to", "uri"))
    check_uri(lc, params)
    lc.ref(params.get("to"), ["to"], services_too=True)
    if str(params.get("method", "")).upper() in IN_DIALOG:
        lc.fail(f"{params['method']} belongs to a call (use call, hangup, cancel, reinvite, "
                "info or transfer)", ["method"])


def run(t, params) -> None:
    uri = destination(t, params)
    t.control.send_request(str(params.get("method") or "OPTIONS"), uri,
                           str(params.get("content_type") or "text/plain"),
                           str(params.get("body") or ""), dict(params.get("headers") or {}))


register_step(StepKind(
    name="request", schema=SCHEMA, run=run, check=check,
    doc="Send an out-of-dialog request — `method` OPTIONS (default), or any other that "
        "needs no call — `to` an agent or service or to a `uri`, with `body` and `headers`; "
        "wait for its answer with event `request_answered`.",
    example="- request: {method: OPTIONS, to: sut}"))
