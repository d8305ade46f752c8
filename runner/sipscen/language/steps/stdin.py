"""``stdin``: one line to a service's stdin (a stdin-driven UA such as baresip's menu)."""
from sipscen.language.registry import StepKind, register_step

SCHEMA = {"description": "One line to the service's stdin.", "type": "string"}


def run(t, params) -> None:
    t.control.perform("stdin", None, line=str(params.get("value", "")))


register_step(StepKind(
    name="stdin", schema=SCHEMA, run=run,
    doc="Write one line to the service's stdin (references such as ${bob.uri} resolved); "
        "the service's stdin is then kept open as a pipe.",
    example='- stdin: "/dial ${bob.uri}"'))
