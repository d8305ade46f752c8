"""What each party did and saw: the capture read as acts and observations.

An *act* is something an agent does that a step (or its agent's configuration)
reproduces: place a call, answer or refuse it, hold, re-INVITE, INFO, REFER,
MESSAGE, OPTIONS, REGISTER, DTMF, hang up. Messages a SIP stack sends by itself
(ACK, PRACK, NOTIFY, the 100 Trying, the retry with credentials, the call a
REFER asks for, the BYE of a replaced dialog) are marked ``auto``. An
*observation* is what an agent can wait for (``incoming``, ``answered``,
``held``, ``dtmf``, ...), at the time the message that causes it arrived.
Every act and observation keeps the frame numbers it came from.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sipscen.scaffold.parties import Parties, Party
from sipscen.scaffold.sipmsg import Msg

# headers the agent's SIP stack writes itself (or that routing and the transaction
# layer own): never copied into a step's `headers`
STACK_HEADERS = frozenset("""
via max-forwards from to contact call-id cseq route record-route allow allow-events
supported require session-expires min-se user-agent server content-type content-length
content-encoding content-disposition accept accept-encoding accept-language authorization
proxy-authorization www-authenticate proxy-authenticate expires date timestamp
referred-by replaces rseq rack event subscription-state refer-to refer-sub p-asserted-identity
organization mime-version warning retry-after unsupported proxy-require reason
x-sipscen call-info
""".split())


_TOKEN = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")


@dataclass
class Act:
    party: str
    time: float
    kind: str
    params: dict[str, Any]
    call: str | None
    frames: list[int]
    auto: bool = False
    note: str = ""


@dataclass
class Obs:
    party: str
    time: float
    event: str
    call: str | None
    data: dict[str, Any]
    frames: list[int]
    cause: str | None = None                # the party whose message caused it


@dataclass
class CallInfo:
    """One INVITE dialog, end to end."""

    call_id: str
    caller: str | None = None
    callee: str | None = None
    via: str | None = None                  # the SUT it went through
    start: float = 0.0
    answered_at: float | None = None
    ended_at: float | None = None
    status: int | None = None               # the final answer the caller got
    reason: str = ""
    ended_by: str | None = None
    redirect: dict[str, Any] | None = None
    auto_from: str | None = None            # "transfer" | "replaces": placed by the stack
    frames: dict[str, list[int]] = field(default_factory=dict)   # what -> frames
    hops: list[tuple[str, str]] = field(default_factory=list)    # (sender, receiver)
    messages: list[Msg] = field(default_factory=list)


@dataclass
class Registration:
    party: str
    registrar: str
    time: float
    expires: int | None
    status: int | None
    challenged: bool
    frames: list[int]
    unregister: bool = False
    complete: bool = True                   # its final answer is in the capture


@dataclass
class Model:
    parties: Parties
    acts: list[Act] = field(default_factory=list)
    obs: list[Obs] = field(default_factory=list)
    calls: dict[str, CallInfo] = field(default_factory=dict)
    registrations: list[Registration] = field(default_factory=list)
    notes: list[tuple[str, list[int]]] = field(default_factory=list)  # (text, frames)
    config: dict[str, dict[str, Any]] = field(default_factory=dict)   # party -> agent keys

    def act(self, party: Party, m: Msg | list[Msg], kind: str, call: str | None = None,
            auto: bool = False, note: str = "", **params) -> Act:
        msgs = m if isinstance(m, list) else [m]
        a = Act(party.name, msgs[0].time, kind, params, call,
                [x.frame for x in msgs if x.frame], auto, note)
        self.acts.append(a)
        return a

    def see(self, party: Party | None, m: Msg, event: str, call: str | None = None,
            **data) -> None:
        if party is None or party.is_sut:
            return
        if event == "disconnected" and any(o.party == party.name and o.call == call and
                                           o.event == "disconnected" for o in self.obs):
            return      # a call ends once (a second BYE, a BYE after a final answer)
        origin = self.parties.of((m.forwarded_from or m).src)
        self.obs.append(Obs(party.name, m.time, event, call, data,
                            [m.frame] if m.frame else [],
                            origin.name if origin is not None else None))

    def note(self, text: str, msgs: list[Msg] | Msg | None = None) -> None:
        frames = [x.frame for x in (msgs if isinstance(msgs, list) else [msgs] if msgs else [])
                  if x.frame]
        if (text, frames) not in self.notes:
            self.notes.append((text, frames))

    def set(self, party: Party, key: str, value: Any) -> None:
        self.config.setdefault(party.name, {})[key] = value


def custom_headers(m: Msg) -> dict[str, str]:
    """Headers of ``m`` no SIP stack writes by itself (X-..., Subject, Priority, ...),
    with their names as written."""
    out: dict[str, str] = {}
    lines = m.raw.replace("\r\n", "\n").split("\n\n", 1)[0].split("\n")[1:]
    last = None
    for line in lines:
        if line[:1] in (" ", "\t"):            # a folded header goes on
            if last is not None:
                out[last] += " " + line.strip()
            continue
        last = None
        name, sep, value = line.partition(":")
        name = name.strip()
        if not sep or not _TOKEN.match(name) or name.lower() in STACK_HEADERS or \
                len(name) == 1 or name in out:
            continue
        out[name] = value.strip()
        last = name
    return out
