"""A pjsua agent's configuration: from the scenario's mapping to checked values.

Everything the worker's ``configure`` command needs is decided here, in the
controller, so that bad input becomes a ``ScenarioError`` pointing at the
agent in the scenario file instead of a PJSIP failure in a child process.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from sipscen.core.network import require_loopback
from sipscen.core.errors import ScenarioError
from sipscen.core.model import AgentSpec, parse_duration
from sipscen.core.model import parse_duration
from sipscen.agents.impair import Impairment
from sipscen.agents.pjsua import ipv6

TRANSPORTS = ("udp", "tcp", "tls")
SRTP_USES = ("disabled", "optional", "mandatory")
MEDIA_PORTS = 20        # RTP+RTCP pairs for up to 10 simultaneous calls


@dataclass
class PjsuaSettings:
    address: str = "127.0.0.1"
    port: int | None = None              # None = allocate
    transport: str = "udp"
    user: str = ""
    domain: str = ""
    registrar: str | None = None         # agent/service name or sip: URI
    proxy: str | None = None             # outbound proxy: agent/service name or sip: URI
    display: str = ""                    # display name of its From
    contact: dict[str, Any] = field(default_factory=dict)   # uri, uri_params, params, outbound, rewrite
    password: str | None = None
    realm: str | None = None
    username: str | None = None
    codecs: list[str] = field(default_factory=list)
    srtp_use: str = "disabled"
    secure_signaling: int = 0
    answer: dict[str, Any] = field(default_factory=dict)   # code, delay_ms, reject, manual, ring
    transfer: dict[str, Any] = field(default_factory=dict)  # code (the REFER reply)
    follow_redirects: bool = False
    register_at_start: bool = True
    calls: dict[str, Any] = field(default_factory=dict)     # prack, session_timer {use, expires_s}
    tls: dict[str, Any] = field(default_factory=dict)   # cert, key, ca (absolute paths),
                                                        # verify_server, verify_client
    media_ports: int = MEDIA_PORTS           # how many to allocate ...
    media_range: tuple[int, int] | None = None   # ... unless given (inclusive bounds)
    impair: Any = None                       # an agents.impair.Impairment, or None
    ice: dict[str, Any] | None = None        # {stun, turn {server, username, password, transport}}


def _fail(spec: AgentSpec, key: str, message: str) -> ScenarioError:
    return ScenarioError(message, spec.location, f"{spec.path}.{key}")


def _mapping(spec: AgentSpec, key: str, value: Any) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _fail(spec, key, f"expected a mapping, got {value!r}")
    return value


def _loopback(spec: AgentSpec, address: str) -> str:
    address = require_loopback(address, f"{spec.path}.address", spec.location)
    if ":" in address:
        if ipv6.interpreter() is None:
            raise _fail(spec, "address", f"a pjsua agent on {address}: "
                                         f"{ipv6.missing_reason()}")
    return address


def parse_settings(spec: AgentSpec, scenario_dir: Path) -> PjsuaSettings:
    """Check and normalise ``spec.config``; raise ScenarioError on bad values."""
    cfg = spec.config
    s = PjsuaSettings()
    s.address = _loopback(spec, str(cfg.get("address", "127.0.0.1")))

    port = cfg.get("port", "auto")
    if port != "auto":
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise _fail(spec, "port", f"port must be 'auto' or 1..65535, got {port!r}")
        s.port = port

    s.transport = str(cfg.get("transport", "udp")).lower()
    if s.transport not in TRANSPORTS:
        raise _fail(spec, "transport", f"transport must be one of {', '.join(TRANSPORTS)}")

    account = _mapping(spec, "account", cfg.get("account"))
    s.user = str(account.get("user") or spec.name)
    s.domain = str(account.get("domain") or s.address)
    s.registrar = account.get("registrar")
    s.proxy = account.get("proxy")
    s.display = str(account.get("display") or "")
    s.contact = dict(_mapping(spec, "account.contact", account.get("contact")))
    s.password = None if account.get("password") is None else str(account["password"])
    s.realm = account.get("realm")
    s.username = account.get("username")
    s.register_at_start = account.get("register_at_start", True) is not False

    codecs = cfg.get("codecs") or []
    if isinstance(codecs, str):
        codecs = [codecs]
    if not isinstance(codecs, (list, tuple)) or not all(isinstance(c, str) for c in codecs):
        raise _fail(spec, "codecs", "codecs must be a list of codec names")
    s.codecs = list(codecs)

    srtp = cfg.get("srtp") or {}
    if isinstance(srtp, str):
        srtp = {"use": srtp}
    srtp = _mapping(spec, "srtp", srtp)
    s.srtp_use = str(srtp.get("use", "disabled")).lower()
    if s.srtp_use not in SRTP_USES:
        raise _fail(spec, "srtp.use", f"srtp use must be one of {', '.join(SRTP_USES)}")
    s.secure_signaling = srtp.get("secure_signaling", 0)
    if s.secure_signaling not in (0, 1, 2):
        raise _fail(spec, "srtp.secure_signaling", "secure_signaling must be 0, 1 or 2")

    answer = _mapping(spec, "answer", cfg.get("answer"))
    try:
        s.answer = {
            "code": int(answer.get("code", 200)),
            "reason": str(answer.get("reason") or ""),
            "delay_ms": int(parse_duration(answer.get("delay", 0)) * 1000),
            "reject": int(answer["reject"]) if answer.get("reject") else None,
            "manual": bool(answer.get("manual", False)),
            "ring": bool(answer.get("ring", True)),
            "headers": {str(k): str(v) for k, v in (answer.get("headers") or {}).items()},
        }
        s.transfer = {"code": int(_mapping(spec, "transfer", cfg.get("transfer")).get("code", 202))}
        timer = _mapping(spec, "session_timer", cfg.get("session_timer"))
        s.calls = {"prack": str(cfg.get("prack") or "off"),
                   "session_timer": {"use": str(timer.get("use") or "optional"),
                                     "expires_s": int(parse_duration(timer.get("expires", 1800)))}
                   if timer else {}}
        s.follow_redirects = bool(cfg.get("follow_redirects", False))
    except (TypeError, ValueError) as exc:
        raise _fail(spec, "answer", f"bad answer policy: {exc}") from None

    tls = _mapping(spec, "tls", cfg.get("tls"))
    for key in ("cert", "key", "ca"):
        if tls.get(key):
            path = Path(str(tls[key]))
            path = path if path.is_absolute() else scenario_dir / path
            if not path.is_file():
                raise _fail(spec, f"tls.{key}", f"file not found: {path}")
            s.tls[key] = str(path)
    for key in ("verify_server", "verify_client"):
        if key in tls:
            s.tls[key] = bool(tls[key])
    if (s.tls.get("verify_server") or s.tls.get("verify_client")) and not s.tls.get("ca"):
        raise _fail(spec, "tls.ca", "verifying a certificate needs the CA it trusts: tls.ca")
    if s.transport == "tls" and not (s.tls.get("cert") and s.tls.get("key")):
        raise _fail(spec, "transport", "transport tls needs tls.cert and tls.key (the agent's "
                                       "certificate and private key files)")

    media = _mapping(spec, "media", cfg.get("media"))
    if media.get("port_range") is not None:
        bounds = media["port_range"]
        if (not isinstance(bounds, (list, tuple)) or len(bounds) != 2
                or not all(isinstance(b, int) and not isinstance(b, bool) for b in bounds)
                or not 1024 <= bounds[0] < bounds[1] <= 65535):
            raise _fail(spec, "media.port_range",
                        "media.port_range must be [first, last] with 1024 <= first < last <= 65535")
        s.media_range = (bounds[0], bounds[1])
    count = media.get("ports", MEDIA_PORTS)
    if isinstance(count, bool) or not isinstance(count, int) or not 2 <= count <= 1000:
        raise _fail(spec, "media.ports", "media.ports must be a number of ports, 2..1000")
    s.media_ports = count + (count % 2)
    if cfg.get("ice") is not None:
        s.ice = dict(_mapping(spec, "ice", cfg.get("ice")))
    if cfg.get("impair") is not None:
        s.impair = parse_impairment(spec, _mapping(spec, "impair", cfg.get("impair")))
    return s


def _pct(spec: AgentSpec, key: str, value: Any) -> float:
    text = str(value).strip()
    try:
        pct = float(text[:-1] if text.endswith("%") else text)
    except ValueError:
        raise _fail(spec, f"impair.{key}", f"impair.{key}: a percentage like 5% , got {value!r}") from None
    if not 0 <= pct <= 100:
        raise _fail(spec, f"impair.{key}", f"impair.{key}: {value} is not within 0..100%")
    return pct


def parse_impairment(spec: AgentSpec, imp: Mapping[str, Any]):
    """The ``impair:`` mapping -> Impairment (agents/impair.py); located errors."""
    args: dict[str, Any] = {}
    for key in ("loss", "reorder", "duplicate"):
        if imp.get(key) is not None:
            args[key] = _pct(spec, key, imp[key])
    for key in ("delay", "jitter"):
        if imp.get(key) is not None:
            try:
                args[key] = parse_duration(imp[key])
            except ValueError as exc:
                raise _fail(spec, f"impair.{key}", str(exc)) from None
            if args[key] > 10:
                raise _fail(spec, f"impair.{key}", f"at most 10s, not {imp[key]}")
    if imp.get("seed") is not None:
        args["seed"] = int(imp["seed"])
    return Impairment(**args)


def check_config(spec: AgentSpec, scenario_dir: Path) -> None:
    """The agent type's ``check_config`` (language registry): what the agent refuses
    when it plans, refused at validation too."""
    parse_settings(spec, scenario_dir)
