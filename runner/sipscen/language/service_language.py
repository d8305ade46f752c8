"""The service keys of the scenario language (issue 10), as schema fragments the
schema generator adds to ``$defs.service``, and the record of what a service's
steps may be (``SERVICE``: the step kinds and waits it carries out, as an agent
type's record says for its agents).

Runtime: ``engine/services.py`` (user, media_ports, impair through
``core/netfilter.py``, files, stdin, health),
``engine/run.py`` (``after``), ``engine/service_steps.py`` (steps, through the one
timeline interpreter). Load-time checks: ``scenario/semantic_services.py`` and,
for the steps, the same as any agent's (``scenario/semantic.py``).
"""
from __future__ import annotations

from typing import Any

from sipscen.language.registry import AgentType, register_service_type
from sipscen.language.schema_base import PERCENT_SCHEMA

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
              "type": "object",
              # a name of that folder: never '.' or '..' (they name folders, not files)
              "propertyNames": {"pattern": "^(?!\\.\\.?$)[A-Za-z0-9._-]+$",
                                "x-error": "invalid file name {value}: letters, digits, '.', "
                                           "'_' and '-', not '.' or '..'"},
              "additionalProperties": {"type": "string"}},
    "steps": {"$ref": "#/$defs/steps"},
    "impair": {"description": "Impair the service's media path: this share of the UDP packets "
                              "sent to its `media_ports` is dropped on arrival (iptables INPUT, "
                              "after the capture point: the capture sees them arrive, the "
                              "service never gets them), so a media relay's outgoing leg "
                              "carries the loss. Needs root and iptables; the rule and its "
                              "packet counts are in the service's facts (docs/LOAD.md).",
               "type": "object", "additionalProperties": False, "required": ["loss"],
               "properties": {"loss": PERCENT_SCHEMA}},
    "b2bua": {"description": "The service is a B2BUA (a new Call-ID per leg): checks between "
                             "two parties link its incoming and outgoing legs, by timing or by "
                             "a correlation `header` (its value: the incoming Call-ID, or the "
                             "same on both INVITEs).",
              "type": ["boolean", "object"], "additionalProperties": False,
              "required": ["header"],
              "properties": {"header": {"type": "string", "pattern": "^[A-Za-z0-9-]+$"}}},
}

# What a service's steps may be: the language's step kinds that act on a running
# process (stdin, tcp, run, kill) and the timeline's own (sleep, signal, wait for a
# signal or a log line). Not an agent type: no `type:` selects it.
SERVICE = register_service_type(AgentType(
    name="service", implementation="sipscen.engine.services:Service", schema_def="service",
    schema={}, noun="",
    steps=frozenset({"sleep", "signal", "wait", "stdin", "tcp", "run", "kill"}),
    events=frozenset({"signal", "log"}), capabilities=frozenset(),
    check_config="sipscen.engine.services:check_service_config",
    doc="A process the scenario starts (the SUT, a relay, a third-party UA): its steps act "
        "on it while the agents run."))


def extend_service_schema(defs: dict[str, Any]) -> None:
    defs["service"]["properties"].update(SERVICE_KEYS)
