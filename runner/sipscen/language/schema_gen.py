"""The scenario JSON Schema, assembled from the registry's fragments.

``generate()`` = ``schema_base.BASE`` + each agent type's keys (and the
``agent`` dispatch on ``type``) + every step kind (``step``) + the wait keys of
every wait event (``step_wait``) + every expectation family (``expectation``).
The shipped ``schemas/scenario.schema.json`` is this, written by
``python -m sipscen.language.schema_gen --write`` (a test fails on drift).
"""
from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

from sipscen.language import registry
from sipscen.language.schema_base import BASE
from sipscen.language.service_language import extend_service_schema
from sipscen.language.steps import wait as wait_step

SHIPPED = Path(__file__).resolve().parents[3] / "schemas" / "scenario.schema.json"


def generate(builtin_only: bool = False) -> dict[str, Any]:
    """The scenario schema: the built-in language and every plugin's (unless
    ``builtin_only``, as shipped in schemas/)."""
    registry.load()
    schema = copy.deepcopy(BASE)
    defs = schema["$defs"]
    types = registry.builtin(registry.AGENT_TYPES, builtin_only)
    defs["agent"] = {
        "description": "An agent; its `type` selects the agent's own keys.",
        "type": "object", "required": ["type"],
        "properties": {"type": {"enum": list(types)}},
        "allOf": [{"if": {"properties": {"type": {"const": t.name}}, "required": ["type"]},
                   "then": {"$ref": f"#/$defs/{t.schema_def}"}} for t in types.values()],
    }
    for agent_type in types.values():
        defs[agent_type.schema_def] = copy.deepcopy(dict(agent_type.schema))
        for name, fragment in agent_type.extra_defs.items():
            defs[name] = copy.deepcopy(dict(fragment))
    extend_service_schema(defs)           # a service's own keys and steps (issue 10)
    defs["steps"] = {"type": "array", "items": {"$ref": "#/$defs/step"}}
    kinds: dict[str, Any] = {}
    for name, kind in registry.builtin(registry.STEPS, builtin_only).items():
        fragment = copy.deepcopy(dict(kind.schema))
        if set(fragment) != {"$ref"}:          # a mapping of params: a $defs entry of its own
            defs[f"step_{name}"] = fragment
            fragment = {"$ref": f"#/$defs/step_{name}"}
        kinds[name] = fragment
    defs["step"] = {
        "description": "One step: a one-key mapping `kind: params`.",
        "type": "object", "minProperties": 1, "maxProperties": 1,
        "additionalProperties": False, "properties": kinds,
    }
    defs["step_wait"] = wait_step.schema()
    defs["expectation"] = {
        "description": "One expectation: a one-key mapping `kind: params`.",
        "type": "object", "minProperties": 1, "maxProperties": 1,
        "additionalProperties": False,
        "properties": {name: copy.deepcopy(dict(family.schema))
                       for name, family in registry.builtin(registry.EXPECTATIONS,
                                                            builtin_only).items()},
    }
    return schema


def render(builtin_only: bool = False) -> str:
    return json.dumps(generate(builtin_only), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    if argv == ["--write"]:
        SHIPPED.write_text(render(builtin_only=True), encoding="utf-8")
        return 0
    sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
