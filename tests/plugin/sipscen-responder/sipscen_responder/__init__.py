"""sipscen-responder: an agent type, a step kind and an expectation family.

Each is one record registered with sipscen's language registry on import
(sipscen loads this module through the ``sipscen.language`` entry point).
The records carry their own schema fragment, load-time check, doc and
example, so ``sipscen validate``, ``sipscen schema`` and ``sipscen doc`` know
them as they know the built-ins.
"""
from sipscen.language.registry import (AgentType, ExpectationFamily, StepKind,
                                       register_agent_type, register_expectation, register_step)

# --- the agent type ------------------------------------------------------------------
register_agent_type(AgentType(
    name="responder",
    implementation="sipscen_responder.agent:ResponderAgent",   # imported only to run
    schema_def="responder_agent",
    schema={"type": "object", "additionalProperties": False,
            "properties": {
                "type": {"const": "responder"},
                "address": {"$ref": "#/$defs/address"},
                "port": {"$ref": "#/$defs/port"},
                "status": {"type": "integer", "minimum": 200, "maximum": 699,
                           "description": "the final answer to every request (default 486)"},
                "reason": {"type": "string", "minLength": 1},
                "steps": {"$ref": "#/$defs/steps"}}},
    steps=frozenset({"sleep", "signal", "wait"}),
    events=frozenset({"signal"}),
    capabilities=frozenset(),          # its facts report no calls: callers' facts are judged
    doc="Answers every SIP request it receives with one final status (`status`, default "
        "486 Busy Here) from a UDP port on the loopback: a callee that is always busy, "
        "unavailable or declining (plugin: sipscen-responder)."))


# --- the step kind -----------------------------------------------------------------------
def _note(timeline, params) -> None:
    """A note on the run's board (the JSON report's events and the console's live view)."""
    timeline.ctx.board.post(timeline.name, "note", text=str(params.get("value", "")))


register_step(StepKind(
    name="note", schema={"type": "string", "minLength": 1}, run=_note, generic=True,
    doc="Put a note on the run's timeline (shown among the events of the reports).",
    example="- note: the SUT should now fail over"))


# --- the expectation family ------------------------------------------------------------------
register_expectation(ExpectationFamily(
    name="user_agent", evaluate="sipscen_responder.check:check_user_agent",
    evidence="wire",
    schema={"type": "object", "required": ["agent", "matches"], "additionalProperties": False,
            "properties": {"agent": {"$ref": "#/$defs/name"},
                           "matches": {"$ref": "#/$defs/regex"}}},
    doc="Every SIP request the agent sent (on the wire; ACK and CANCEL aside) carries a "
        "User-Agent header matching `matches` (plugin: sipscen-responder).",
    example='- user_agent: {agent: alice, matches: "^sipscen-pjsua"}'))
