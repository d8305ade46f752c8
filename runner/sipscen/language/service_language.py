"""The service keys and service steps of the scenario language (issue 10), as
schema fragments the schema generator adds to ``$defs.service``.

Runtime: ``engine/services.py`` (user, media_ports, files, stdin, health),
``engine/run.py`` (``after``), ``engine/service_steps.py`` (steps). Load-time
checks: ``scenario/semantic_services.py``.
"""
from __future__ import annotations

from typing import Any

SERVICE_KEYS: dict[str, Any] = {
    "user": {"description": "The service's SIP user: `call: {to: NAME}` dials "
                            "sip:USER@host:port.", "type": "string", "minLength": 1},
    "media_ports": {
        "description": "Where the service sends and receives RTP: a count (a range is "
                       "allocated; ${NAME.media_min|media_max}) or [low, high]. Captured and "
                       "attributed to the service.",
        "type": ["integer", "array"], "minimum": 2, "maximum": 1000,
        "minItems": 2, "maxItems": 2, "items": {"type": "integer", "minimum": 1,
                                                "maximum": 65535}},
    "ws_port": {"description": "Where the service takes SIP over WebSocket (RFC 7118): a port "
                               "or `auto` (${NAME.ws_port}); browser agents with `transport: "
                               "ws` connect there. Captured and attributed to the service.",
                "$ref": "#/$defs/port"},
    "wss_port": {"description": "Where the service takes SIP over secure WebSocket (wss): a "
                                "port or `auto` (${NAME.wss_port}); browser agents with "
                                "`transport: wss` connect there.",
                 "$ref": "#/$defs/port"},
    "after": {"description": "Services that must be ready before this one starts.",
              "type": "array", "items": {"$ref": "#/$defs/name"}},
    "stdin": {"description": "Keep the service's stdin open as a pipe (implied by a stdin "
                             "step).", "type": "boolean"},
    "files": {"description": "Files written to the folder ${NAME.files} before the service "
                             "starts (references resolved): e.g. a UA's config.",
              "type": "object", "propertyNames": {"pattern": "^[A-Za-z0-9._-]+$"},
              "additionalProperties": {"type": "string"}},
    "steps": {"type": "array", "items": {"$ref": "#/$defs/service_step"}},
    "b2bua": {"description": "The service is a B2BUA (a new Call-ID per leg): checks between "
                             "two parties link its incoming and outgoing legs, by timing or by "
                             "a correlation `header` (its value: the incoming Call-ID, or the "
                             "same on both INVITEs).",
              "type": ["boolean", "object"], "additionalProperties": False,
              "required": ["header"],
              "properties": {"header": {"type": "string", "pattern": "^[A-Za-z0-9-]+$"}}},
}

SERVICE_STEP: dict[str, Any] = {
    "description": "A step that acts on the service, run alongside the agents.",
    "type": "object", "minProperties": 1, "maxProperties": 1, "additionalProperties": False,
    "properties": {
        "stdin": {"description": "One line to the service's stdin.", "type": "string"},
        "tcp": {"type": "object", "required": ["send"], "additionalProperties": False,
                "properties": {"send": {"type": "string"}, "port": {"$ref": "#/$defs/port"}}},
        "run": {"type": "object", "required": ["command"], "additionalProperties": False,
                "properties": {"command": {"type": "array", "minItems": 1,
                                           "items": {"type": "string"}},
                               "timeout": {"$ref": "#/$defs/positive_duration"},
                               "expect_exit": {"type": "integer"}}},
        "wait": {"type": "object", "additionalProperties": False,
                 "properties": {"log": {"$ref": "#/$defs/regex"},
                                "signal": {"$ref": "#/$defs/name"},
                                "agent": {"$ref": "#/$defs/name"},
                                "timeout": {"$ref": "#/$defs/positive_duration"}}},
        "signal": {"$ref": "#/$defs/name"},
        "sleep": {"$ref": "#/$defs/duration"},
        "kill": {"description": "Send a signal to the service's main process (e.g. a crash "
                                "on purpose).", "type": ["string", "integer"],
                 "pattern": "^(SIG)?[A-Z0-9]+$", "minimum": 1},
    },
}


def extend_service_schema(defs: dict[str, Any]) -> None:
    defs["service"]["properties"].update(SERVICE_KEYS)
    defs["service_step"] = dict(SERVICE_STEP)
