"""Turning a ``configure`` command into a running PJSUA2 endpoint and account.

Runs inside the worker only (imports pjsua2). The controller has already
validated and normalised every value; errors here are PJSIP's own.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pjsua2 as pj

from sipscen.agents.pjsua.pjobjects import WorkerAccount

if TYPE_CHECKING:  # pragma: no cover
    from sipscen.agents.pjsua.worker import Worker

SRTP_USE = {
    "disabled": pj.PJMEDIA_SRTP_DISABLED,
    "optional": pj.PJMEDIA_SRTP_OPTIONAL,
    "mandatory": pj.PJMEDIA_SRTP_MANDATORY,
}

_TRANSPORTS = {
    ("udp", False): pj.PJSIP_TRANSPORT_UDP, ("udp", True): pj.PJSIP_TRANSPORT_UDP6,
    ("tcp", False): pj.PJSIP_TRANSPORT_TCP, ("tcp", True): pj.PJSIP_TRANSPORT_TCP6,
    ("tls", False): pj.PJSIP_TRANSPORT_TLS, ("tls", True): pj.PJSIP_TRANSPORT_TLS6,
}


class ConfigError(Exception):
    """A configure value the worker cannot use."""


def _endpoint_config(log_file: str) -> pj.EpConfig:
    cfg = pj.EpConfig()
    cfg.uaConfig.threadCnt = 0
    cfg.uaConfig.mainThreadOnly = True
    cfg.uaConfig.maxCalls = 16
    cfg.uaConfig.userAgent = "sipscen-pjsua"
    cfg.logConfig.consoleLevel = 0
    cfg.logConfig.level = 5 if log_file else 0
    cfg.logConfig.msgLogging = True
    if log_file:
        cfg.logConfig.filename = log_file
    cfg.medConfig.noVad = True          # keep RTP flowing: packet counts mean something
    cfg.medConfig.ecTailLen = 0
    return cfg


def is_stereo(codec_id: str) -> bool:
    """``L16/44100/2``: a codec id with two channels."""
    parts = codec_id.split("/")
    return len(parts) > 2 and parts[2] not in ("", "1")


def set_codecs(ep: pj.Endpoint, wanted: list[str]) -> None:
    """Enable exactly ``wanted`` (by name, in order of preference); disable the rest.

    An empty list keeps PJSIP's defaults. Stereo variants (the wheel's
    ``L16/44100/2``) are always disabled: PJMEDIA 2.15.1's conference bridge is
    mono, and a stereo stream port overflows its transmit buffer as soon as
    anything is connected to the call's audio (our receive tap always is):
    ``conference.c:2346: write_port: Assertion `cport->tx_buf_count <=
    cport->tx_buf_cap' failed`` (SIGABRT) or a SIGSEGV, the worker dies. A name
    such as ``L16`` therefore means its mono variants (``L16/44100/1``); a peer
    that offers L16 in stereo only gets a 488.
    """
    for info in ep.codecEnum2():
        if is_stereo(info.codecId):
            ep.codecSetPriority(info.codecId, 0)
    if not wanted:
        return
    available = {}
    for info in ep.codecEnum2():
        if not is_stereo(info.codecId):
            available.setdefault(info.codecId.split("/")[0].lower(), []).append(info.codecId)
    unknown = [c for c in wanted if c.lower() not in available]
    if unknown:
        names = sorted({cid.split("/")[0] for ids in available.values() for cid in ids})
        raise ConfigError(f"unknown codec(s) {', '.join(unknown)}; available: {', '.join(names)}")
    priorities = {}
    for rank, name in enumerate(wanted):
        for codec_id in available[name.lower()]:
            priorities[codec_id] = max(1, 255 - rank)
    for ids in available.values():
        for codec_id in ids:
            ep.codecSetPriority(codec_id, priorities.get(codec_id, 0))


PRACK_USE = {"off": pj.PJSUA_100REL_NOT_USED, "supported": pj.PJSUA_100REL_OPTIONAL,
             "required": pj.PJSUA_100REL_MANDATORY}
TIMER_USE = {"inactive": pj.PJSUA_SIP_TIMER_INACTIVE, "optional": pj.PJSUA_SIP_TIMER_OPTIONAL,
             "required": pj.PJSUA_SIP_TIMER_REQUIRED, "always": pj.PJSUA_SIP_TIMER_ALWAYS}


def name_addr(display: Any, uri: str) -> str:
    """``"Display" <uri>`` (quotes and backslashes escaped), or the bare URI."""
    if not display:
        return uri
    text = str(display).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}" <{uri}>'


def _params(values: dict[str, Any]) -> str:
    """``{name: value}`` -> ``;name=value`` (None or true: ``;name``; false: left out)."""
    out = ""
    for name, value in values.items():
        if value is False:
            continue
        out += f";{name}" if value is None or value is True else f";{name}={value}"
    return out


def apply_contact(acfg: pj.AccountConfig, contact: dict[str, Any]) -> None:
    """The agent's Contact: replaced, URI and header parameters, RFC 5626, rewriting."""
    if contact.get("uri"):
        uri = str(contact["uri"])
        acfg.sipConfig.contactForced = uri if uri.startswith("<") else f"<{uri}>"
    if contact.get("uri_params"):
        acfg.sipConfig.contactUriParams = _params(contact["uri_params"])
    if contact.get("params"):
        acfg.sipConfig.contactParams = _params(contact["params"])
    outbound = contact.get("outbound")
    if outbound is False:
        acfg.natConfig.sipOutboundUse = 0
    elif isinstance(outbound, dict):
        acfg.natConfig.sipOutboundUse = 1
        if outbound.get("instance"):
            acfg.natConfig.sipOutboundInstanceId = str(outbound["instance"])
        if outbound.get("reg_id"):
            acfg.natConfig.sipOutboundRegId = str(outbound["reg_id"])
    if "rewrite" in contact:
        acfg.natConfig.contactRewriteUse = 1 if contact["rewrite"] else 0
        acfg.natConfig.viaRewriteUse = 1 if contact["rewrite"] else 0


def apply_ice(acfg: pj.AccountConfig, ice: dict[str, Any]) -> None:
    """ICE for the account's calls, relayed candidates at a TURN server (host:port). No
    STUN server: on the loopback PJNATH gathers no host candidate, so a server-reflexive
    one has no base (PJNATH_EICENOHOSTCAND, measured)."""
    nat = acfg.natConfig
    nat.iceEnabled = True
    nat.iceNoRtcp = not ice.get("rtcp", True)
    nat.mediaStunUse = pj.PJSUA_STUN_USE_DISABLED
    turn = ice.get("turn") or {}
    if turn:
        nat.turnEnabled = True
        nat.turnServer = str(turn["server"])
        nat.turnConnType = pj.PJ_TURN_TP_TCP if turn.get("transport") == "tcp" \
            else pj.PJ_TURN_TP_UDP
        nat.turnUserName = str(turn.get("username") or "")
        nat.turnPasswordType = 0          # plain text
        nat.turnPassword = str(turn.get("password") or "")


def configure_endpoint(worker: "Worker", ep: pj.Endpoint, msg: dict[str, Any]) -> tuple[WorkerAccount, str]:
    """Init, transport, start, null sound device, codecs, account.

    Returns the account and the contact URI the agent listens on.
    """
    address = str(msg.get("address") or "127.0.0.1")
    ipv6 = ":" in address
    port = int(msg["port"])
    transport = str(msg.get("transport") or "udp")
    ep.libInit(_endpoint_config(str(msg.get("log_file") or "")))

    tcfg = pj.TransportConfig()
    tcfg.port = port
    tcfg.boundAddress = address
    tcfg.publicAddress = address
    tls = msg.get("tls") or {}
    if transport == "tls":
        tcfg.tlsConfig.certFile = str(tls.get("cert") or "")
        tcfg.tlsConfig.privKeyFile = str(tls.get("key") or "")
        tcfg.tlsConfig.CaListFile = str(tls.get("ca") or "")
        tcfg.tlsConfig.verifyServer = bool(tls.get("verify_server", False))
        tcfg.tlsConfig.verifyClient = bool(tls.get("verify_client", False))
        tcfg.tlsConfig.requireClientCert = bool(tls.get("verify_client", False))
    transport_id = ep.transportCreate(_TRANSPORTS[(transport, ipv6)], tcfg)
    ep.libStart()
    ep.audDevManager().setNullDev()
    set_codecs(ep, list(msg.get("codecs") or []))

    account = msg.get("account") or {}
    user = str(account.get("user") or "agent")
    host = f"[{address}]" if ipv6 else address
    domain = str(account.get("domain") or host)
    if ":" in domain and not domain.startswith("["):
        domain = f"[{domain}]"
    acfg = pj.AccountConfig()
    scheme = "sips" if transport == "tls" else "sip"
    acfg.idUri = name_addr(account.get("display"), f"{scheme}:{user}@{domain}")
    acfg.sipConfig.transportId = transport_id
    if ipv6:       # (a worker whose pjsua2 has IPv6: agents/pjsua/ipv6.py)
        acfg.sipConfig.ipv6Use = pj.PJSUA_IPV6_ENABLED
        acfg.mediaConfig.ipv6Use = pj.PJSUA_IPV6_ENABLED
    if account.get("proxy"):
        acfg.sipConfig.proxies.append(str(account["proxy"]))
    apply_contact(acfg, account.get("contact") or {})
    if account.get("registrar"):
        acfg.regConfig.registrarUri = str(account["registrar"])
        acfg.regConfig.registerOnAdd = account.get("register_at_start", True) is not False
    if account.get("password") is not None:
        acfg.sipConfig.authCreds.append(pj.AuthCredInfo(
            "digest", str(account.get("realm") or "*"),
            str(account.get("username") or user), 0, str(account["password"])))

    media = msg.get("media") or {}
    mcfg = acfg.mediaConfig
    mcfg.transportConfig.port = int(media.get("port") or 0)
    # PJSUA wraps its next RTP port only once it is *above* port + portRange (the bound
    # is inclusive) and puts RTCP one above: a range of `count` ports holds RTP up to
    # port + count - 2 (count itself put the 11th call's RTP and RTCP just past the
    # range, where the capture does not listen: tests/agents/test_pjsua_media_range.py)
    count = int(media.get("count") or 0)
    mcfg.transportConfig.portRange = max(1, count - 2) if count else 0
    mcfg.transportConfig.boundAddress = address
    # an impairment relay (agents/impair.py) listens on the advertised address
    mcfg.transportConfig.publicAddress = str(media.get("public_address") or address)
    srtp = msg.get("srtp") or {}
    mcfg.srtpUse = SRTP_USE[str(srtp.get("use") or "disabled")]
    mcfg.srtpSecureSignaling = int(srtp.get("secure_signaling") or 0)
    mcfg.lockCodecEnabled = False
    calls = msg.get("calls") or {}
    acfg.callConfig.prackUse = PRACK_USE[str(calls.get("prack") or "off")]
    timer = calls.get("session_timer") or {}
    if timer:
        acfg.callConfig.timerUse = TIMER_USE[str(timer.get("use") or "optional")]
        acfg.callConfig.timerSessExpiresSec = int(timer.get("expires_s") or 1800)
        acfg.callConfig.timerMinSESec = min(90, acfg.callConfig.timerSessExpiresSec)

    if msg.get("ice"):
        apply_ice(acfg, msg["ice"])

    acc = WorkerAccount(worker)
    acc.create(acfg, True)
    params = "" if transport == "udp" else f";transport={transport}"
    return acc, f"sip:{user}@{host}:{port}{params}"
