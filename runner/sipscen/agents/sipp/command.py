"""Build the SIPp command line (an argv list, never a shell string).

Everything SIPp writes goes into the agent's artifacts folder: the command runs
with that folder as its working directory (SIPp writes its ``-trace_rtt`` and
``-trace_counts`` files next to itself, named after the scenario and its pid)
and every trace file that can be named is named explicitly.

SIPp facts this relies on (docs FIELD-NOTES): foreground with ``-nostdin``
(``-bg`` loses the exit code), the control socket bound to loopback with
``-ci 127.0.0.1`` on a port of our own, ``-timeout`` without
``-timeout_error`` (which turns every run into a fatal 255).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from sipscen.core.errors import ScenarioError
from sipscen.core.model import parse_duration

# SIPp's embedded scenarios (``sipp -sn NAME``) and which side they play.
BUILTIN_SCENARIOS: dict[str, str] = {
    "uac": "uac", "uas": "uas", "regexp": "uac", "branchc": "uac", "branchs": "uas",
    "uac_pcap": "uac", "3pcc-C-A": "uac", "3pcc-C-B": "uac", "3pcc-A": "uas", "3pcc-B": "uas",
}

STAT_FILE = "stat.csv"
MESSAGE_FILE = "messages.log"
SHORTMESSAGE_FILE = "shortmessages.log"
ERROR_FILE = "errors.log"


@dataclass(frozen=True)
class LoadSettings:
    """Load knobs of one SIPp agent (all optional; None = SIPp's default)."""

    rate: float | None = None           # -r: calls per rate period
    rate_period_ms: int | None = None   # -rp
    calls: int | None = None            # -m: stop after this many calls
    limit: int | None = None            # -l: concurrent calls
    duration_ms: int | None = None      # -d: pause length in the built-in scenarios
    rate_increase: float | None = None  # -rate_increase (per second)
    rate_max: float | None = None       # -rate_max (with -no_rate_quit: hold it)
    time_limit: float | None = None     # -timeout, seconds

    @property
    def target_rate(self) -> float | None:
        """Calls per second asked for (the achieved rate is compared to this)."""
        if self.rate is None:
            return None
        period = (self.rate_period_ms or 1000) / 1000.0
        return self.rate / period


@dataclass
class SippCommand:
    """Everything one SIPp process needs; ``argv()`` renders it."""

    binary: str
    address: str
    port: int
    control_port: int
    media_port: int
    transport: str = "udp"
    builtin: str | None = None          # -sn NAME
    scenario_file: Path | None = None   # -sf FILE
    remote: str | None = None           # host:port of the peer (UAC side)
    service: str | None = None          # -s: user part of the Request-URI
    load: LoadSettings = field(default_factory=LoadSettings)
    full_trace: bool = True             # -trace_msg (else -trace_shortmsg)
    rtp_echo: bool = False
    default_behaviors: str | None = None
    no_retransmissions: bool = False    # -nr: every message goes out once (inline)
    variables: Mapping[str, Any] = field(default_factory=dict)   # -set NAME VALUE
    extra_args: tuple[str, ...] = ()
    secret_args: tuple[str, ...] = ()   # -ap/-au/-set carrying secrets (inline.hide_secrets)

    def argv(self) -> list[str]:
        a: list[str] = [self.binary]
        if self.builtin:
            a += ["-sn", self.builtin]
        elif self.scenario_file:
            a += ["-sf", str(self.scenario_file)]
        if self.remote:
            a.append(self.remote)
        a += ["-i", self.address, "-p", str(self.port),
              "-mi", self.address, "-mp", str(self.media_port),
              "-cp", str(self.control_port), "-ci", _control_address(self.address),
              "-nostdin"]
        a += ["-t", {"udp": "u1", "tcp": "t1"}[self.transport]]
        if self.service:
            a += ["-s", str(self.service)]
        load = self.load
        for flag, value, text in (("-r", load.rate, _num), ("-rp", load.rate_period_ms, str),
                                  ("-m", load.calls, str), ("-l", load.limit, str),
                                  ("-d", load.duration_ms, str),
                                  ("-rate_increase", load.rate_increase, _num)):
            if value is not None:
                a += [flag, text(value)]
        if load.rate_max is not None:
            a += ["-rate_max", _num(load.rate_max), "-no_rate_quit"]
        if load.time_limit is not None:
            a += ["-timeout", f"{max(1, int(round(load.time_limit)))}s"]
        a += ["-trace_stat", "-stf", STAT_FILE, "-fd", "1",
              "-trace_rtt", "-rtt_freq", "1",
              "-trace_err", "-error_file", ERROR_FILE,
              "-trace_counts"]
        if self.full_trace:
            a += ["-trace_msg", "-message_file", MESSAGE_FILE]
        else:
            a += ["-trace_shortmsg", "-shortmessage_file", SHORTMESSAGE_FILE]
        if self.rtp_echo:
            a.append("-rtp_echo")
        if self.no_retransmissions:
            a.append("-nr")
        if self.default_behaviors:
            a += ["-default_behaviors", self.default_behaviors]
        for name, value in self.variables.items():
            a += ["-set", str(name), str(value)]
        a += list(self.secret_args)
        a += list(self.extra_args)
        return a


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _control_address(address: str) -> str:
    """SIPp's control socket is IPv4 only (-ci ::1 fails with EAFNOSUPPORT)."""
    return "127.0.0.1"


def load_settings(config: Mapping[str, Any], default_time_limit: float | None,
                  location=None, path: str = "") -> LoadSettings:
    """Read the agent's load keys (rate, rate_period, calls, limit, duration,
    rate_increase, rate_max, time_limit; durations as in the rest of the language)."""

    raw = dict(config)

    def dur_ms(key: str) -> int | None:
        if raw.get(key) is None:
            return None
        try:
            return int(round(parse_duration(raw[key]) * 1000))
        except ValueError as exc:
            raise ScenarioError(str(exc), location, f"{path}.{key}") from None

    def number(key: str, kind=float):
        value = raw.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ScenarioError(f"must be a non-negative number, not {value!r}",
                                location, f"{path}.{key}")
        return kind(value)

    time_limit_ms = dur_ms("time_limit")
    return LoadSettings(
        rate=number("rate"),
        rate_period_ms=dur_ms("rate_period"),
        calls=number("calls", int),
        limit=number("limit", int),
        duration_ms=dur_ms("duration"),
        rate_increase=number("rate_increase"),
        rate_max=number("rate_max"),
        time_limit=(time_limit_ms / 1000.0) if time_limit_ms is not None else default_time_limit,
    )
