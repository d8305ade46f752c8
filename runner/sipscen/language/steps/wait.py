"""``wait``: for an event of this agent (``event:``, see ``waits.py``) or a signal."""
from sipscen.language import registry
from sipscen.language.registry import StepKind, register_step

COMMON = {"timeout": {"$ref": "#/$defs/positive_duration", "description": "default 10s"}}
# waits named by their own key rather than by `event:`
_KEYED = ("signal", "log")


def schema() -> dict:
    """Assembled from the wait events: each event owns its own keys."""
    props = {"event": {"enum": sorted(e for e in registry.EVENTS if e not in _KEYED)}}
    for event in registry.EVENTS.values():
        props.update(event.keys)
    props.update(COMMON)
    return {"description": "Wait for an event of this agent, or for a signal of another agent.",
            "type": "object", "additionalProperties": False, "properties": props}


def owners_of(key: str) -> list[str]:
    return [event.name for event in registry.EVENTS.values() if key in event.keys]


def _name(params) -> str:
    return next((k for k in _KEYED if params.get(k)), None) or str(
        params.get("event") or params.get("value") or "")


def _kinds(agent_type) -> list[str]:
    """The wait keys a party of ``agent_type`` may give: event (if it has events of
    its own), signal, log (if it has a log)."""
    events = agent_type.events if agent_type is not None else set(registry.EVENTS)
    return (["event"] if set(events) - set(_KEYED) else []) + \
        [k for k in _KEYED if k in events]


def check(lc, params) -> None:
    kinds = _kinds(lc.agent_type)
    present = [k for k in ("event",) + _KEYED if k in params]
    if len(present) != 1:
        listed = " or ".join(f"'{k}'" for k in kinds)
        lc.fail(f"give either {listed}, not both" if present else f"needs {listed}",
                [present[1]] if present else [], key=bool(present))
        return
    name = _name(params)
    event = registry.events().get(name)
    for key in params:
        if key in COMMON or key in ("event",) or (event and key in event.keys):
            continue
        owners = owners_of(key)
        if "signal" in owners:
            lc.fail(f"'{key}' belongs to a signal wait", [key], key=True)
        elif owners and name in _KEYED:
            lc.fail(f"'{key}' belongs to an event wait, not a {name} wait", [key], key=True)
        elif owners:
            lc.fail(f"'{key}' only applies to event: {', '.join(owners)}", [key], key=True)
    if event is None:
        return
    lc.supports_event(name, [name if name in _KEYED else "event"])
    if event.check is not None:
        event.check(lc, params)


def run(t, params) -> None:
    timeout = t.duration(params.get("timeout", 10.0), "wait timeout")
    name = _name(params)
    event = registry.events().get(name)
    if event is None:
        raise t.error(f"unknown wait event {name!r} "
                      f"({', '.join(sorted(registry.events()))})")
    event.run(t, params, timeout)


register_step(StepKind(
    name="wait", schema={"$ref": "#/$defs/step_wait"}, check=check, run=run,
    doc="Wait for an event of this agent (`event:`, see the events below), for another "
        "party's `signal`, or (a service) for a line in its `log`; `timeout` defaults to "
        "10s. A wait consumes what it matched.",
    example="- wait: {event: answered, timeout: 5s}"))
