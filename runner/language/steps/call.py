"""``call``: place a call to an agent/service by name, or to a URI."""
from sipscen.language.registry import StepKind, register_step

SCHEMA = {
    "description": "Place a call: `to` an agent or service by name, or a `uri`.",
    "type": "object", "additionalProperties": False,
    "properties": {
        "to": {"$ref": "#/$defs/name"},
        "uri": {"type": "string", "minLength": 1},
        "id": {"$ref": "#/$defs/name",
               "description": "name this call: steps, waits and expectations can aim at it"},
        "headers": {"$ref": "#/$defs/headers_to_add"},
        "timeout": {"$ref": "#/$defs/positive_duration",
                    "description": "CANCEL the call when it is not answered by then "
                                   "(the caller sees 487)."},
    },
}


def check(lc, params) -> None:
    lc.exactly_one(params, ("to", "uri"))
    if params.get("id") and params["id"] in lc.checker.call_ids.setdefault(lc.agent, set()):
        lc.fail(f"this agent already names a call '{params['id']}'", ["id"])
    elif params.get("id"):
        lc.checker.call_ids[lc.agent].add(params["id"])
    lc.ref(params.get("to"), ["to"], services_too=True)


def run(t, params) -> None:
    if params.get("uri"):
        uri = str(params["uri"])
    elif params.get("to"):
        name = str(params["to"])
        if name not in t.ctx.contacts:
            raise t.fail(f"call: unknown agent or service {name!r}")
        uri = t.ctx.contact(name).uri
    else:
        raise t.fail("call needs 'to' (agent/service name) or 'uri'")
    timeout = params.get("timeout")
    seconds = t.duration(timeout, "call timeout") if timeout else None
    name = str(params["id"]) if params.get("id") else None
    if name and name in t.named:
        raise t.fail(f"a call named '{name}' was already placed")
    t.placed(t.control.make_call(uri, seconds, dict(params.get("headers") or {}), name), name)


register_step(StepKind(
    name="call", schema=SCHEMA, check=check, run=run,
    doc="Place a call to another agent or service (`to`) or to any `uri`; the waits "
        "that follow are about this call. `timeout` cancels it when unanswered (487); "
        "`id` names it (for `call:` in later steps, waits and `call` expectations); "
        "`headers` are added to the INVITE.",
    example="- call: {to: bob, id: first, timeout: 5s, headers: {X-Case: hold-1}}"))
