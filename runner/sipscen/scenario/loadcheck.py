"""What a step kind's, wait event's or expectation family's load-time ``check``
receives: :class:`LoadCheck`, the semantic checker's helpers seen from one step
(or expectation), with paths relative to its params."""
from __future__ import annotations

from typing import Any


class LoadCheck:
    """What a step kind's, wait event's or expectation family's load-time ``check``
    gets: the checker's helpers, with paths relative to the step's (or
    expectation's) params."""

    def __init__(self, checker: Any, agent: str | None, agent_type: Any,
                 path: list):
        self.checker, self.agent, self.agent_type, self.path = checker, agent, agent_type, path

    def fail(self, message: str, sub: list, key: bool = False) -> None:
        self.checker.fail(message, self.path + list(sub), key=key)

    def ref(self, name: Any, sub: list, services_too: bool = False) -> None:
        self.checker.ref(name, self.path + list(sub), services_too)

    def file(self, node: dict, key: str, sub: list) -> None:
        self.checker.file(node, key, self.path + list(sub))

    def exactly_one(self, params: dict, keys: tuple[str, str], sub: list = ()) -> bool:
        return self.checker.exactly_one(params, keys, self.path + list(sub))

    def signal_name(self, value: Any, sub: list) -> None:
        """A signal of this system, by name (TERM, SIGTERM) or number."""
        self.checker.check_signal(value, self.path + list(sub))

    def durations(self, node: dict, sub: list) -> None:
        self.checker.check_durations(node, self.path + list(sub))

    def names_call(self, owner: Any, name: Any, sub: list, placed: bool = False) -> None:
        """An expectation's named call (``id``, ``call``) is one that agent ``owner``'s
        steps name (a `call` step's or, unless ``placed``, an incoming wait's ``id``)."""
        c = self.checker
        if not isinstance(owner, str) or owner not in c.agents or not isinstance(name, str):
            return
        known = (c.placed_ids if placed else c.call_ids).get(owner, set())
        if name not in known:
            incoming = placed and name in c.call_ids.get(owner, set())
            self.fail(f"{owner} names no call '{name}'"
                      + (" it placed (an incoming call: judge it from its caller)"
                         if incoming else "")
                      + f" (its calls: {', '.join(sorted(known)) or 'none'})", sub)

    def judges_something(self, params: dict, keys: tuple[str, ...]) -> None:
        """At least one of ``keys`` (the verdicts) is given."""
        if not any(k in params for k in keys):
            self.fail(f"it judges nothing: give {', '.join(keys[:-1])} or {keys[-1]}", [])

    def needs_registrar(self) -> None:
        """The agent's account has a registrar."""
        account = (self.checker.agents.get(self.agent) or {}).get("account") or {}
        if not account.get("registrar"):
            self.fail(f"agent '{self.agent}' has no account.registrar to register at", [],
                      key=True)

    def supports_event(self, event: str, sub: list) -> None:
        """The agent's type waits for ``event``, else an error at the event's value."""
        t = self.agent_type
        if t is not None and event not in t.events:
            self.fail(f"{t.label} cannot wait for event '{event}' (its events: "
                      f"{', '.join(sorted(t.events))})", sub)

    def signal_sent(self, params: dict) -> None:
        """A waited-for signal is sent by the agent named (or by some agent)."""
        c = self.checker
        other = params.get("agent")
        parties = {**c.services, **c.agents}     # a service's steps signal too
        if other is not None and other not in parties:
            self.ref(other, ["agent"], services_too=True)
            return
        senders = [other] if other in parties else list(parties)
        if not any(params["signal"] in c._signals(s) for s in senders):
            kind = "agent" if other in c.agents else "service"
            who = f"{kind} '{other}'" if other in parties else "no agent"
            verb = "never signals" if other in parties else "signals"
            self.fail(f"{who} {verb} '{params['signal']}'", ["signal"])
