"""``tcp``: send text to a service's TCP control port."""
from sipscen.language.registry import StepKind, register_step

SCHEMA = {"description": "Send text over TCP to the service (its port, or `port`).",
          "type": "object", "required": ["send"], "additionalProperties": False,
          "properties": {"send": {"type": "string"}, "port": {"$ref": "#/$defs/port"}}}


def run(t, params) -> None:
    t.control.perform("tcp", None, send=str(params["send"]), port=params.get("port"))


register_step(StepKind(
    name="tcp", schema=SCHEMA, run=run,
    doc="Open a TCP connection to the service (its own port, or `port`) and send `send`.",
    example='- tcp: {send: "ping\\n", port: 8000}'))
