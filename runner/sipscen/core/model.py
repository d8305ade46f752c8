"""The scenario model: frozen dataclasses built from a validated file.

Steps and expectations stay generic (``kind`` + ``params``): each agent type and
each check family interprets its own, so adding an agent type or a check touches
no engine code. Every piece remembers where it came from (``location``, ``path``)
so runtime errors can point at the YAML line.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from sipscen.core.errors import Location

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


# The longest duration anything may take: far beyond any test, far below what
# clocks, threading waits and SIPp's millisecond arguments can hold.
MAX_DURATION = 30 * 24 * 3600.0


def parse_duration(value: Any) -> float:
    """'200ms' -> 0.2, '2s' -> 2.0, '1.5m' -> 90.0, 3 -> 3.0 (plain numbers are seconds).

    The result is finite, not negative and at most :data:`MAX_DURATION` (30
    days); anything else raises ValueError. Whether 0 makes sense is for the
    caller (a timeout must be above 0, a sleep may be 0).
    """
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int) and value > MAX_DURATION:   # float() of 10**400 overflows
        raise ValueError(f"duration {_short(value)} is too long (at most 30 days)")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        m = _DURATION.match(str(value))
        if not m:
            raise ValueError(f"not a duration: {value!r} (use e.g. 200ms, 2s, 1m)")
        seconds = float(m.group(1)) * _UNIT[m.group(2)]
    if math.isnan(seconds):
        raise ValueError(f"not a duration: {_spell(value)} (not a number)")
    if math.isinf(seconds):
        raise ValueError(f"not a duration: {_spell(value)} (must be finite)")
    if seconds < 0:
        raise ValueError(f"not a duration: {value!r} (must not be negative)")
    if seconds > MAX_DURATION:
        raise ValueError(f"duration {_short(value)} is too long (at most 30 days)")
    return seconds


def status_matches(spec: Any, code: int | None) -> bool:
    """Whether a SIP status ``code`` is what ``spec`` asks: 200, "4xx" or [404, 480]."""
    if code is None:
        return False
    if isinstance(spec, list):
        return code in spec
    if isinstance(spec, str):
        return str(code)[0] == spec[0]
    return code == spec


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:20]}...({len(text)} characters)"


def _spell(value: Any) -> str:
    """A value as the YAML author wrote it: .nan / .inf / -.inf for those floats."""
    if isinstance(value, float) and math.isnan(value):
        return ".nan"
    if isinstance(value, float) and math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    return repr(value)


@dataclass(frozen=True)
class Step:
    kind: str                      # call | wait | sleep | play | dtmf | record | hangup | signal | ...
    params: Mapping[str, Any]      # the step's mapping (a scalar step value is {"value": v})
    location: Location
    path: str                      # e.g. "agents.alice.steps[2]"


@dataclass(frozen=True)
class AgentSpec:
    name: str
    type: str                      # "pjsua" | "sipp" | ...
    config: Mapping[str, Any]      # every key but name/type/steps, as written
    steps: tuple[Step, ...]
    location: Location
    path: str                      # "agents.alice"


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    config: Mapping[str, Any]      # command, ready, address, port, transport, ...
    location: Location
    path: str
    steps: tuple[Step, ...] = ()   # what it does while the agents run (language/steps/)


@dataclass(frozen=True)
class Expectation:
    kind: str                      # call | codec | srtp | dtmf | response | load | ...
    params: Mapping[str, Any]
    location: Location
    path: str                      # "expect[3]"


@dataclass(frozen=True)
class CaptureSpec:
    enabled: bool = True
    interface: str = "lo"
    filter: str | None = None      # extra BPF ANDed with the scenario's ports
    snaplen: int = 0               # 0 = whole packets
    buffer: int | None = None      # kernel capture buffer (tcpdump -B), bytes; None = 64 MiB
    rotate: int | None = None      # a new file every this many bytes (tcpdump -C); None = one


@dataclass(frozen=True)
class Scenario:
    name: str
    file: Path
    description: str = ""
    tags: tuple[str, ...] = ()
    timeout: float = 60.0
    agents: tuple[AgentSpec, ...] = ()
    services: tuple[ServiceSpec, ...] = ()
    capture: CaptureSpec = field(default_factory=CaptureSpec)
    expectations: tuple[Expectation, ...] = ()
    secrets: frozenset[str] = frozenset()   # values to redact in reports and logs
    env_names: frozenset[str] = frozenset() # the NAMEs of every ${env:NAME} (kube Secrets)
    location: Location | None = None
    name_location: Location | None = None   # of the `name:` value
    parameters: Mapping[str, str] = field(default_factory=dict)  # this instance's parametrize set
    includes: tuple[Path, ...] = ()         # files merged in by `include:` (absolute)

    def agent(self, name: str) -> AgentSpec:
        for a in self.agents:
            if a.name == name:
                return a
        raise KeyError(name)
