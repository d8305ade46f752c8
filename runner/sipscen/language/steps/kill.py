"""``kill``: a signal to a service's main process (a crash on purpose)."""
from sipscen.language.registry import StepKind, register_step

SCHEMA = {"description": "Send a signal to the service's main process.",
          "type": ["string", "integer"], "pattern": "^(SIG)?[A-Z0-9]+$", "minimum": 1}


def check(lc, params) -> None:
    lc.signal_name(params.get("value"), [])


def run(t, params) -> None:
    t.control.perform("kill", None, signal=params.get("value"))


register_step(StepKind(
    name="kill", schema=SCHEMA, run=run, check=check,
    doc="Send a signal (name or number) to the service's main process: a crash on purpose, "
        "to see what the rest of the platform does.",
    example="- kill: SIGSEGV"))
