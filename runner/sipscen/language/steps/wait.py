"""``wait``: for an event of this agent (``event:``, see ``waits.py``) or a signal."""
from sipscen.language import registry
from sipscen.language.registry import StepKind, register_step

COMMON = {"timeout": {"$ref": "#/$defs/positive_duration", "description": "default 10s"}}


def schema() -> dict:
    """Assembled from the wait events: each event owns its own keys."""
    props = {"event": {"enum": sorted(e for e in registry.EVENTS if e != "signal")}}
    for event in registry.EVENTS.values():
        props.update(event.keys)
    props.update(COMMON)
    return {"description": "Wait for an event of this agent, or for a signal of another agent.",
            "type": "object", "additionalProperties": False, "properties": props}


def owners_of(key: str) -> list[str]:
    return [event.name for event in registry.EVENTS.values() if key in event.keys]


def check(lc, params) -> None:
    if not lc.exactly_one(params, ("event", "signal")):
        return
    name = "signal" if "signal" in params else params["event"]
    event = registry.events().get(name)
    for key in params:
        if key in COMMON or key in ("event",) or (event and key in event.keys):
            continue
        owners = owners_of(key)
        if "signal" in owners:
            lc.fail(f"'{key}' belongs to a signal wait", [key], key=True)
        elif owners and name == "signal":
            lc.fail(f"'{key}' belongs to an event wait, not a signal wait", [key], key=True)
        elif owners:
            lc.fail(f"'{key}' only applies to event: {', '.join(owners)}", [key], key=True)
    if event is None:
        return
    lc.supports_event(name, ["signal" if name == "signal" else "event"])
    if event.check is not None:
        event.check(lc, params)


def run(t, params) -> None:
    timeout = t.duration(params.get("timeout", 10.0), "wait timeout")
    name = "signal" if params.get("signal") else str(params.get("event") or
                                                     params.get("value") or "")
    event = registry.events().get(name)
    if event is None:
        raise t.error(f"unknown wait event {name!r} "
                      f"({', '.join(sorted(registry.events()))})")
    event.run(t, params, timeout)


register_step(StepKind(
    name="wait", schema={"$ref": "#/$defs/step_wait"}, check=check, run=run,
    doc="Wait for an event of this agent (`event:`, see the events below) or for another "
        "agent's `signal`; `timeout` defaults to 10s. A wait consumes what it matched.",
    example="- wait: {event: answered, timeout: 5s}"))
