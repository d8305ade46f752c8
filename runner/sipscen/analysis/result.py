"""The wire analysis as a typed result: what checks and the engine read.

``Analysis.to_dict()`` (analyze.py) is the ``sipscen analyze --json`` contract
and what ``evidence.json`` and the JSON report hold; :class:`WireAnalysis` is how
code reads it: :meth:`WireAnalysis.from_dict` is the one way in (a run's own
analysis and a saved one alike), :meth:`WireAnalysis.to_dict` writes back the
same JSON. What the engine learns about the capture (``incomplete``) is a
declared field, not a key added to a dict. Each typed object keeps the JSON
object it was read from, so keys this module does not name (and whether an
optional key was there at all) survive the round trip.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping


@dataclass(eq=False)
class _FromJson:
    """A typed view of one JSON object that writes back the same object."""

    origin: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)

    _keys: ClassVar[dict[str, str]] = {}        # field -> its JSON key, where they differ

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None):
        if type(data) is not dict:             # (a dict, nearly always: no ABC check)
            data = data if isinstance(data, Mapping) else {}
        obj = cls.__new__(cls)                 # the fields set here, as __init__ would
        values = obj.__dict__
        for name, key, default, factory in _spec(cls):
            if key in data:
                values[name] = data[key]
            else:
                values[name] = factory() if factory is not None else default
        values["origin"] = data
        return obj

    def to_dict(self) -> dict[str, Any]:
        """The JSON object: the one it was read from, with the fields' values now."""
        out = dict(self.origin or {})
        for name, key, default, _ in _spec(type(self)):
            value = getattr(self, name)
            if key not in out and value == default:
                continue                       # an optional key it did not have
            out[key] = _json(value)
        return out


# per class: (field, JSON key, its default, its default factory): a factory's value is
# made anew for each object (the default kept here is only compared against)
_SPECS: dict[type, tuple[tuple[str, str, Any, Any], ...]] = {}


def _spec(cls: type) -> tuple[tuple[str, str, Any, Any], ...]:
    spec = _SPECS.get(cls)
    if spec is None:
        spec = _SPECS[cls] = tuple(
            (f.name, cls._keys.get(f.name, f.name), _default(f),
             f.default_factory if f.default_factory is not dataclasses.MISSING else None)
            for f in dataclasses.fields(cls) if f.name != "origin")
    return spec


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


_SCALARS = frozenset({str, int, float, bool})


def _json(value: Any) -> Any:
    if value is None or type(value) in _SCALARS:
        return value
    if isinstance(value, _FromJson):
        return value.to_dict()
    if isinstance(value, list):
        return [_json(v) for v in value]
    return value


@dataclass(eq=False)
class WireDigit(_FromJson):
    """One DTMF digit on the wire (RFC 4733, SIP INFO or in-band)."""
    digit: str = ""
    method: str = ""                   # rfc4733 | sip-info | inband
    time: float | None = None          # capture time
    duration_ms: float | None = None
    src: str = ""                      # "ip:port"
    dst: str = ""
    call_id: str | None = None


@dataclass(eq=False)
class WireStream(_FromJson):
    """One RTP stream (one SSRC from one address to another): docs/ARCHITECTURE.md."""
    ssrc: str = ""                     # "0x11223344"
    src: str = ""                      # "ip:port"
    dst: str = ""
    payload_types: list[int] = field(default_factory=list)
    packets: int = 0
    lost: int = 0
    duplicated: int = 0
    jitter_ms: float = 0.0
    call_id: str | None = None         # the call whose SDP named its addresses
    srtp: dict | None = None           # {suite, key_source, authenticated, auth_failed}
    first_time: float | None = None    # capture times of its first and last packet
    last_time: float | None = None
    by_payload_type: dict = field(default_factory=dict)    # "PT" -> {first_time, last_time, ...}
    codecs: dict = field(default_factory=dict)             # "PT" -> "PCMA/8000"
    event_payload_types: list[int] = field(default_factory=list)
    quality: dict = field(default_factory=dict)            # {codec, loss_pct, r, mos, delay_ms}
    audio: dict | None = None          # decoded audio figures (--inband, --wav-dir)

    @property
    def direction(self) -> str:
        return f"{self.src}->{self.dst}"

    def srtp_proven(self) -> bool:
        """Every packet authenticated with a key (SRTP proven), none failed."""
        return bool(self.srtp and self.srtp.get("authenticated") and
                    not self.srtp.get("auth_failed"))


@dataclass(eq=False)
class WireMessage(_FromJson):
    """One SIP message on the wire (analysis/calls.py). Its values are the JSON's
    as they are (a key the JSON had as null reads None)."""
    time: float | None = None          # capture time (a TCP message: its last byte)
    src: str = ""                      # "ip:port" ("[v6]:port")
    dst: str = ""
    summary: str = ""                  # "INVITE sip:bob@b", "200 OK (INVITE)"
    transport: str = ""                # udp | tcp | tls | ws | wss
    method: str | None = None          # a request's method, a response's CSeq method
    status: int | None = None          # a response's status code (None: not read)
    raw: str = ""                      # the message's text (up to 8 KB)
    malformed: list[str] = field(default_factory=list)     # fields whose numbers were unreadable

    @property
    def is_response(self) -> bool:
        """A status code read, or a status line whose code was not."""
        return self.status is not None or (self.raw or "").startswith("SIP/2.0 ")

    def get(self, key: str, default: Any = None) -> Any:
        """The JSON value under ``key`` (``default`` when absent): how plugins written
        when messages were dicts read them (docs/EXTENDING.md); code reads attributes."""
        if key in self._fields():
            value = getattr(self, key)
            present = key in (self.origin or {}) or value != _default(self._fields()[key])
            return value if present else default
        return (self.origin or {}).get(key, default)

    def __getitem__(self, key: str) -> Any:
        missing = object()
        value = self.get(key, missing)
        if value is missing:
            raise KeyError(key)
        return value

    @classmethod
    def _fields(cls) -> dict[str, dataclasses.Field]:
        return {f.name: f for f in dataclasses.fields(cls) if f.name != "origin"}


@dataclass(eq=False)
class WireCall(_FromJson):
    """One Call-ID on the wire: its SIP messages (:class:`WireMessage`) and its SDP
    exchange ({time, from, kind, message, media})."""
    call_id: str | None = None
    from_: str = ""
    to: str = ""
    start: float | None = None
    end: float | None = None
    status: int | None = None          # the final answer to its first INVITE
    answered: bool = False
    messages: list[WireMessage] = field(default_factory=list)
    sdp: list[dict] = field(default_factory=list)

    _keys: ClassVar[dict[str, str]] = {"from_": "from"}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> "WireCall":
        obj = super().from_dict(data)
        read = WireMessage.from_dict
        obj.messages = [read(m) for m in obj.messages or [] if type(m) is dict or isinstance(m, Mapping)]
        return obj


@dataclass(eq=False)
class _Pair(_FromJson):
    """What one collector saw between two addresses ("ip:port")."""
    src: str = ""
    dst: str = ""
    first: float | None = None         # capture time of its first packet


@dataclass(eq=False)
class StunPair(_Pair):
    """STUN between two addresses (analysis/stun.py): ICE checks and TURN."""
    last: float | None = None
    requests: int = 0                  # Binding requests
    successes: int = 0                 # ... answered with success
    errors: int = 0
    allocations: int = 0               # TURN Allocate successes


@dataclass(eq=False)
class TlsPair(_Pair):
    """TLS records on one TCP direction (analysis/tls.py)."""
    records: int = 0                   # segments that start a TLS record
    handshakes: int = 0                # ... a handshake record


@dataclass(eq=False)
class DtlsFlow(_Pair):
    """A DTLS handshake on a media pair (analysis/dtls.py)."""
    last: float | None = None
    records: int = 0
    handshake: list[str] = field(default_factory=list)     # ClientHello, ServerHello, ...
    srtp_profile: str | None = None    # the use_srtp profile agreed


@dataclass(eq=False)
class MediaSample(_Pair):
    """What one src->dst media flow's payloads look like (analysis/dtls.py)."""
    packets: int = 0
    looks_encrypted: bool = False


@dataclass(eq=False)
class DtlsScan(_FromJson):
    """DTLS handshakes (``flows``) and, when the media was sampled, what each
    src->dst media flow's payloads look like (``rtp``): analysis/dtls.py."""
    flows: list[DtlsFlow] = field(default_factory=list)
    rtp: list[MediaSample] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> "DtlsScan":
        obj = super().from_dict(data)
        obj.flows = [DtlsFlow.from_dict(f) for f in obj.flows or [] if isinstance(f, Mapping)]
        obj.rtp = [MediaSample.from_dict(r) for r in obj.rtp or [] if isinstance(r, Mapping)]
        return obj


@dataclass(eq=False)
class WireAnalysis(_FromJson):
    """What one capture showed (the ``sipscen analyze --json`` document, typed)."""
    packets: int = 0
    warnings: list[str] = field(default_factory=list)
    calls: list[WireCall] = field(default_factory=list)
    rtp_streams: list[WireStream] = field(default_factory=list)
    dtmf: list[WireDigit] = field(default_factory=list)
    stun: list[StunPair] = field(default_factory=list)
    tls: list[TlsPair] = field(default_factory=list)
    dtls: DtlsScan | None = None       # when DTLS was seen or the media was sampled
    # the engine's: why the capture is known to be incomplete (engine/run.py)
    incomplete: list[str] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> "WireAnalysis":
        obj = super().from_dict(data)
        obj.packets = int(obj.packets or 0)
        obj.warnings = list(obj.warnings or [])
        obj.calls = [WireCall.from_dict(c) for c in obj.calls or [] if isinstance(c, Mapping)]
        obj.rtp_streams = [WireStream.from_dict(s) for s in obj.rtp_streams or []
                           if isinstance(s, Mapping)]
        obj.dtmf = [WireDigit.from_dict(d) for d in obj.dtmf or [] if isinstance(d, Mapping)]
        obj.stun = [StunPair.from_dict(s) for s in obj.stun or [] if isinstance(s, Mapping)]
        obj.tls = [TlsPair.from_dict(t) for t in obj.tls or [] if isinstance(t, Mapping)]
        obj.dtls = DtlsScan.from_dict(obj.dtls) if isinstance(obj.dtls, Mapping) else None
        obj.incomplete = [str(w) for w in obj.incomplete or []]
        return obj

    def digits(self, method: str | None = None) -> str:
        return "".join(d.digit for d in self.dtmf if method is None or d.method == method)
