"""Agent facts as typed records.

Every agent type's ``facts()`` is JSON (the contract of docs/ARCHITECTURE.md,
what reports and ``report merge`` read); these records are how code reads it.
Each agent type names its record class in the language registry
(``AgentType.facts_record``); :func:`record_of` is the one place that picks the
class, so checks and reports ask a record (``isinstance``, ``summary()``)
instead of branching on agent-type strings.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping
from sipscen.language import registry


def _known(cls, data: Mapping[str, Any]) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in dict(data or {}).items() if k in names}


@dataclass(frozen=True)
class Digit:
    """One DTMF digit an agent received or sent (a typed view of a facts entry)."""
    digit: str = ""
    method: str | None = None          # rfc4733 | sip-info | inband
    t: float | None = None             # board seconds (capture time for a wire party)
    call_id: str | None = None         # the SIP Call-ID of its call (None: unknown)
    duration_ms: float | None = None
    level_dbfs: float | None = None    # inband only

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Digit":
        values = _known(cls, data)
        values["digit"] = str(values.get("digit") or "")
        values["call_id"] = values.get("call_id") or None
        return cls(**values)


@dataclass(frozen=True)
class MediaSession:
    """One media session of a call (a typed view of an ``rtp_sessions`` entry: PJSUA
    counts per audio stream, and a re-INVITE that changes the media starts the next)."""
    index: int = 0
    started_at: float | None = None    # board seconds
    ended_at: float | None = None      # None: still running when the facts were taken
    state: str | None = None           # active | local_hold | remote_hold
    codec: str | None = None
    counters: Mapping[str, Any] = field(default_factory=dict)   # its RTP counters (rx_packets, ...)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "MediaSession":
        return cls(**{**_known(cls, data), "counters": data})

    @property
    def rx_packets(self) -> int:
        return int(self.counters.get("rx_packets") or 0)


@dataclass
class CallRecord:
    """One call as an agent saw it (times in board seconds)."""
    direction: str = "outgoing"            # outgoing | incoming
    call_id: str = ""
    remote_uri: str = ""
    name: str | None = None                # the `id` its call step gave
    started_at: float | None = None        # INVITE sent / received
    early_at: float | None = None          # first 18x
    final_at: float | None = None          # final response to the INVITE (sent or received)
    cancelled_at: float | None = None      # CANCEL sent (an unanswered outgoing call)
    status_code: int | None = None
    reason: str = ""
    answered: bool = False
    confirmed_at: float | None = None
    disconnected_at: float | None = None
    duration: float | None = None
    codec: str | None = None
    clock_rate: int | None = None
    payload_type: int | None = None
    srtp: dict = field(default_factory=lambda: {"active": False, "suite": None})
    local_sdp: str = ""
    remote_sdp: str = ""
    rtp: dict = field(default_factory=dict)           # the whole call's RTP counters
    rtp_sessions: list = field(default_factory=list)  # the same per media session (pjsua)
    redirect: dict | None = None           # {target, code, reason, followed}
    rx_audio: dict | None = None           # {path, rate, started_at, summary}: what it received
    request_uri: str = ""                  # an incoming call's INVITE: its Request-URI ...
    invite_headers: dict = field(default_factory=dict)   # ... and headers, as received
    offerer: str | None = None             # whose SDP was the offer: local | remote

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "CallRecord":
        return cls(**_known(cls, data))

    def sessions(self) -> list[MediaSession]:
        """Its media sessions, typed ([] when its agent counts per call only)."""
        return [MediaSession.from_dict(s) for s in self.rtp_sessions or []
                if isinstance(s, Mapping)]

    def srtp_active(self) -> bool:
        return bool((self.srtp or {}).get("active"))

    def srtp_suite(self) -> str | None:
        """The SRTP suite its media used (None: none, or not known)."""
        return (self.srtp or {}).get("suite")

    def summary(self) -> str:
        srtp = self.srtp or {}
        secure = (srtp.get("suite") or "on") if srtp.get("active") else "off"
        return f"{self.direction} {self.status_code or '-'} {self.codec or '-'} SRTP:{secure}"


@dataclass(frozen=True)
class Registration:
    """One answer to a REGISTER the agent sent (a typed view of a facts entry)."""
    t: float | None = None
    code: int | None = None
    reason: str = ""
    expires: int | None = None
    at_teardown: bool = False          # the unregistration while the agent stopped

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Registration":
        return cls(**_known(cls, data))


@dataclass
class AgentRecord:
    """What every agent type reports."""
    type: str = ""
    uri: str = ""
    calls: list[CallRecord] = field(default_factory=list)

    # what a party's facts rest on: "" its own report, "wire" the capture (WirePartyFacts)
    source: ClassVar[str] = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "AgentRecord":
        values = _known(cls, data)
        values["calls"] = [CallRecord.from_dict(c) for c in values.get("calls") or []
                           if isinstance(c, Mapping)]
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def summary(self) -> list[str]:
        """Short lines for reports."""
        return [c.summary() for c in self.calls]

    # --- what a check asks of any party (None / empty: its type does not report it) ---
    def digits_received(self) -> list[Digit] | None:
        """The DTMF digits it received, or None when its type does not report them."""
        entries = getattr(self, "dtmf_received", None)
        return None if entries is None else [Digit.from_dict(d) for d in entries
                                             if isinstance(d, Mapping)]

    def registration_entries(self) -> list[Registration]:
        """The answers to its REGISTERs ([] when its type does not register)."""
        return [Registration.from_dict(r) for r in getattr(self, "registrations", None) or []
                if isinstance(r, Mapping)]

    def unseen_dtmf_methods(self) -> list[str]:
        """DTMF methods it cannot observe when received (a browser: rfc4733)."""
        return list(getattr(self, "dtmf_unseen_methods", None) or [])

    def own_addresses(self) -> list[str]:
        """Ephemeral "ip:port" addresses it used (a browser's WebSocket and ICE)."""
        return list(getattr(self, "addresses", None) or [])

    def face(self) -> str | None:
        """Its address on the impairment relay (agents/impair.py), if it has one."""
        return getattr(self, "media_face", None)

    def connection_ends(self) -> list[str]:
        """The local "ip:port" of every connection it reports (TLS, a WebSocket)."""
        return [str(c.get("local") or "") for c in getattr(self, "connections", None) or []
                if isinstance(c, Mapping)]


@dataclass
class PjsuaFacts(AgentRecord):
    type: str = "pjsua"
    dtmf_received: list[dict] = field(default_factory=list)  # {digit, method, t, duration_ms, call_id}
    dtmf_sent: list[dict] = field(default_factory=list)      # {digit, method, t, call_id}
    registrations: list[dict] = field(default_factory=list)  # {t, code, reason, expires}
    messages: list[dict] = field(default_factory=list)       # {t, sender, to, content_type, body, headers}
    transfers: list[dict] = field(default_factory=list)      # {t, kind, call_id, target|code, ...}
    tones_heard: list[dict] = field(default_factory=list)    # {call_id, frequencies, onset_at, heard_at, ...}
    media_face: str | None = None          # its address on the impairment relay (agents/impair.py)
    impair: dict | None = None             # {loss_pct, delay_ms, ..., counts}
    connections: list[dict] = field(default_factory=list)    # TLS: {t, state, local, remote}


@dataclass
class SippFacts(AgentRecord):
    type: str = "sipp"
    side: str = "uac"
    exit_code: int | None = None
    stats: dict = field(default_factory=dict)
    responses: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> list[str]:
        return super().summary() + _sipp_lines(self.to_dict())


@dataclass
class BaresipFacts(AgentRecord):
    """baresip reports its digits; its calls are judged from the capture (``from_wire``)."""
    type: str = "baresip"
    from_wire: bool = True
    dtmf_received: list[dict] = field(default_factory=list)
    dtmf_sent: list[dict] = field(default_factory=list)


@dataclass
class BrowserFacts(AgentRecord):
    """A browser agent (agents/browser): JsSIP's view of its calls and the browser's own
    RTP statistics (getStats) per call; ``addresses`` are the ephemeral ports it used
    (its WebSocket and its ICE candidates), so the capture's messages and streams
    there are its own."""
    type: str = "browser"
    dtmf_received: list[dict] = field(default_factory=list)
    dtmf_sent: list[dict] = field(default_factory=list)
    registrations: list[dict] = field(default_factory=list)
    messages: list[dict] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    connections: list[dict] = field(default_factory=list)  # its WebSocket: {local, remote, transport}
    websocket: dict = field(default_factory=dict)     # {url, transport, local, connected_at, ...}
    browser: dict = field(default_factory=dict)       # {version, ready_s}
    # what a page cannot see: received RFC 4733 events (judge those on the wire)
    dtmf_unseen_methods: list[str] = field(default_factory=lambda: ["rfc4733"])


@dataclass
class WirePartyFacts(AgentRecord):
    """A service as a party (checks/wire_party.py): its calls and digits read from the
    capture, next to what the service itself reports (engine/services.py)."""
    type: str = "service"
    source: ClassVar[str] = "wire"
    user: str = ""
    media_ports: list | None = None
    ready: Any = None
    exited_during_run: int | None = None
    exit_code: int | None = None
    logs: dict = field(default_factory=dict)
    dtmf_received: list[dict] = field(default_factory=list)   # {digit, method, t, ...}
    dtmf_sent: list[dict] = field(default_factory=list)


def _sipp_lines(facts: dict[str, Any]) -> list[str]:
    """A SIPp agent's summary: its scalar statistics, response codes and errors."""
    lines = []
    stats = facts.get("stats")
    if isinstance(stats, dict):
        scalars = [f"{k}={v}" for k, v in stats.items()
                   if isinstance(v, (int, float, str)) and not isinstance(v, bool)]
        lines.append(", ".join(scalars))
        rt = stats.get("response_time_ms")
        if isinstance(rt, dict) and rt:
            lines.append("response time (ms): " + ", ".join(f"{k}={v}" for k, v in rt.items()))
        if stats.get("failed_by_reason"):
            lines.append(f"failed by reason: {_show(stats['failed_by_reason'], 200)}")
    for r in facts.get("responses") or []:      # one per sent message (inline SIPp)
        if not isinstance(r, dict):
            continue
        got = r.get("received")
        final = (f"{got.get('status')} {got.get('reason') or ''}".strip()
                 if isinstance(got, dict) else "no answer")
        provisional = "".join(f"{p}, " for p in r.get("provisional") or [])
        sent = r.get("sent") if r.get("was_sent", True) else f"{r.get('sent')} (not sent)"
        lines.append(f"{sent} -> {provisional}{final}")
    for err in (facts.get("errors") or [])[:5]:
        lines.append(f"error: {_show(err, 200)}")
    return lines


def _show(value: Any, limit: int) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def record_of(facts: Any) -> AgentRecord | None:
    """The typed record of one agent's facts (JSON), by its type's registered class
    (a record is returned as it is)."""
    if isinstance(facts, AgentRecord):
        return facts
    if not isinstance(facts, Mapping):
        return None
    agent_type = registry.agent_types().get(str(facts.get("type")))
    cls: type[AgentRecord] = agent_type.facts_record_class() if agent_type else AgentRecord
    return cls.from_dict(facts)
