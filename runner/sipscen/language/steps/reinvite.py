"""``reinvite``: a new offer on the answered call (re-INVITE or UPDATE)."""
from sipscen.language.registry import StepKind, register_step

SCHEMA = {
    "description": "Send a new SDP offer on the call: a re-INVITE (default) or an UPDATE, "
                   "optionally with another codec list.",
    "type": ["object", "null"], "additionalProperties": False,
    "properties": {"method": {"enum": ["INVITE", "UPDATE"]},
                   "codecs": {"type": "array", "minItems": 1, "uniqueItems": True,
                              "items": {"$ref": "#/$defs/codec"}},
                   "call": {"$ref": "#/$defs/name"},
                   "headers": {"$ref": "#/$defs/headers_to_add"}},
}


def run(t, params) -> None:
    params = params or {}
    t.control.reinvite(t.target(params), str(params.get("method") or "INVITE"),
                       list(params.get("codecs") or []), dict(params.get("headers") or {}))


register_step(StepKind(
    name="reinvite", schema=SCHEMA, run=run,
    doc="Renegotiate the answered call: a re-INVITE (or `method: UPDATE`) with a new SDP "
        "offer; `codecs` replaces the agent's codec list first (the offer lists only those). "
        "Both sides then see a new `media_active`.",
    example="- reinvite: {codecs: [PCMU]}"))
