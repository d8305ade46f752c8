"""``transfer``: blind transfer of the current call (REFER)."""
from sipscen.language.registry import StepKind, register_step
from sipscen.language.steps.call import check_uri, destination

SCHEMA = {
    "description": "Blind transfer: REFER the other party of the call `to` an agent/service "
                   "or a `uri`.",
    "type": "object", "additionalProperties": False,
    "properties": {"to": {"$ref": "#/$defs/name"}, "uri": {"type": "string", "minLength": 1},
                   "call": {"$ref": "#/$defs/name"},
                   "replaces": {"$ref": "#/$defs/name",
                                "description": "attended: our named consult call the other "
                                               "party's new call replaces"},
                   "headers": {"$ref": "#/$defs/headers_to_add"}},
}


def check(lc, params) -> None:
    if "replaces" in params:
        for key in ("to", "uri"):
            if key in params:
                lc.fail(f"'{key}' does not go with 'replaces' (the consult call names the "
                        "target)", [key], key=True)
        return
    lc.exactly_one(params, ("to", "uri"))
    check_uri(lc, params)
    lc.ref(params.get("to"), ["to"], services_too=True)


def run(t, params) -> None:
    if params.get("replaces"):
        consult = t.target({"call": params["replaces"]})
        t.control.transfer(t.target(params), "", dict(params.get("headers") or {}), consult)
        return
    uri = destination(t, params)
    t.control.transfer(t.target(params), uri, dict(params.get("headers") or {}))


register_step(StepKind(
    name="transfer", schema=SCHEMA, run=run, check=check,
    doc="Blind transfer: send a REFER on the current (or named `call`) answered call, asking "
        "the other party to call `to` (an agent or service) or `uri`. The transferee sees "
        "`transfer_requested` and places the new call (its agent's `transfer.code` decides the "
        "REFER reply); this agent sees `transferred` once the NOTIFY says 200. Attended: "
        "`replaces: CONSULT` (a named call of this agent) sends a REFER with Replaces: the "
        "other party's new call replaces the consult call at its far end.",
    example="- transfer: {to: carol}"))
