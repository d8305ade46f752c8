"""``stop_record``: stop every recording of the agent (the WAV files are finalised)."""
from sipscen.language.registry import StepKind, register_step

SCHEMA = {"description": "Stop every running recording.",
          "type": ["object", "null"], "additionalProperties": False, "properties": {}}


def run(t, params) -> None:
    t.control.stop_record()


register_step(StepKind(name="stop_record", schema=SCHEMA, run=run,
                       doc="Stop every recording this agent started.",
                       example="- stop_record: {}"))
