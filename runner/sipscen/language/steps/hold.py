"""``hold``: put the current call on hold (re-INVITE with a=sendonly or a=inactive)."""
from sipscen.language.registry import StepKind, register_step

MODES = ("sendonly", "inactive")
SCHEMA = {
    "description": "Put the current call on hold: a re-INVITE whose SDP says a=sendonly "
                   "(default) or a=inactive.",
    "type": ["object", "null"], "additionalProperties": False,
    "properties": {"mode": {"enum": list(MODES)}, "call": {"$ref": "#/$defs/name"}},
}


def run(t, params) -> None:
    t.control.hold(t.target(params or {}), str((params or {}).get("mode") or MODES[0]))


register_step(StepKind(
    name="hold", schema=SCHEMA, run=run,
    doc="Put the current call on hold with a re-INVITE (`mode`: sendonly, the default, or "
        "inactive). Both sides then see event `held`.",
    example="- hold: {mode: sendonly}"))
