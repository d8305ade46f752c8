"""``run``: a command beside a service (e.g. its control tool), waited for."""
from sipscen.language.registry import StepKind, register_step
from sipscen.core.model import parse_duration

SCHEMA = {"description": "Run a command and wait for it to exit.",
          "type": "object", "required": ["command"], "additionalProperties": False,
          "properties": {"command": {"type": "array", "minItems": 1,
                                     "items": {"type": "string"}},
                         "timeout": {"$ref": "#/$defs/positive_duration"},
                         "expect_exit": {"type": "integer"}}}


def seconds(params) -> float:
    return 0.0          # as long as the command takes: nothing scripted


def run(t, params) -> None:
    t.control.perform("run", None, command=[str(a) for a in params["command"]],
                      timeout=parse_duration(params.get("timeout", "10s")),
                      expect_exit=int(params.get("expect_exit", 0)))


register_step(StepKind(
    name="run", schema=SCHEMA, run=run, scripted=seconds,
    doc="Run `command` (an argument list, references resolved; started through sipscen's "
        "process supervisor, its output kept with the service's logs) and wait up to "
        "`timeout` (10s) for it to exit with `expect_exit` (0); anything else fails the step.",
    example="- run: {command: [kamcmd, core.version], timeout: 5s}"))
