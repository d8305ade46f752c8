"""``update``: a SIP UPDATE (RFC 3311) on the call, early or answered."""
from sipscen.language.registry import StepKind, register_step

SCHEMA = {
    "description": "Send an UPDATE on the call: a new SDP offer (optionally with another "
                   "codec list), or with `sdp: false` none at all (a session refresh).",
    "type": ["object", "null"], "additionalProperties": False,
    "properties": {"sdp": {"type": "boolean", "description": "send a new offer (default "
                                                             "true); false: an UPDATE "
                                                             "without a body"},
                   "codecs": {"type": "array", "minItems": 1, "uniqueItems": True,
                              "items": {"$ref": "#/$defs/codec"}},
                   "call": {"$ref": "#/$defs/name"},
                   "headers": {"$ref": "#/$defs/headers_to_add"}},
}


def check(lc, params) -> None:
    if params and params.get("sdp") is False and params.get("codecs"):
        lc.fail("'codecs' needs an offer: an UPDATE with `sdp: false` carries no SDP",
                ["codecs"], key=True)


def run(t, params) -> None:
    params = params or {}
    t.control.perform("update", t.target(params), offer=params.get("sdp", True) is not False,
                      codecs=list(params.get("codecs") or []),
                      headers=dict(params.get("headers") or {}))


register_step(StepKind(
    name="update", schema=SCHEMA, run=run, check=check,
    doc="Send a SIP UPDATE (RFC 3311) on the current (or named) call, in its early or "
        "answered dialog: a new SDP offer, `codecs` first replacing the agent's codec list "
        "(both sides then see a new `media_active`), or `sdp: false`: no body, a session "
        "refresh (RFC 4028) that changes no media.",
    example="- update: {sdp: false}"))
