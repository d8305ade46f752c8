"""Who is who in the capture: one party per SIP endpoint (ip:port).

An endpoint that relays requests (a proxy or SBC), answers REGISTERs (a
registrar), or was probed by sipscen as a service is the system under test; the
others are the endpoints that become agents, named after the user their
messages carry (From of what they send, Request-URI/To of what they receive).
sipscen's own readiness probes are nobody.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from sipscen.scaffold.flow import Flow
from sipscen.scaffold.sipmsg import Msg, parse_uri

NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


@dataclass
class Party:
    name: str
    address: str                     # "ip:port" of its SIP
    role: str                        # "agent" or "sut"
    user: str = ""
    domain: str = ""
    kind: str = "pjsua"              # pjsua | baresip | sipp (agents)
    media: set[str] = field(default_factory=set)     # "ip:port" its own SDP announced
    why: list[str] = field(default_factory=list)     # reasons for role and kind
    frames: list[int] = field(default_factory=list)  # where it first shows
    far_end_of: str | None = None    # not in the capture: the far end behind this SUT

    @property
    def in_capture(self) -> bool:
        return self.far_end_of is None

    @property
    def host(self) -> str:
        return self.address.rpartition(":")[0].strip("[]")

    @property
    def is_sut(self) -> bool:
        return self.role == "sut"


@dataclass
class Parties:
    by_address: dict[str, Party]
    ignored: set[str]                # sipscen's probers

    def of(self, address: str) -> Party | None:
        return self.by_address.get(address)

    def media_owner(self, address: str) -> Party | None:
        for p in self.by_address.values():
            if address in p.media:
                return p
        return None

    @property
    def agents(self) -> list[Party]:
        return [p for p in self.by_address.values() if p.role == "agent"]

    @property
    def suts(self) -> list[Party]:
        return [p for p in self.by_address.values() if p.role == "sut"]

    def named(self, name: str) -> Party | None:
        return next((p for p in self.by_address.values() if p.name == name), None)


def find_parties(flow: Flow, sut_names: dict[str, str] | None = None,
                 sut_name: str = "sut") -> Parties:
    """``sut_names``: captured "ip:port" -> name, from ``--sut NAME=HOST:PORT``."""
    sut_names = dict(sut_names or {})
    endpoints: list[str] = []
    first_frame: dict[str, int] = {}
    for m in flow.msgs:
        for e in (m.src, m.dst):
            if e and e not in endpoints and e not in flow.probers:
                endpoints.append(e)
                if m.frame:
                    first_frame[e] = m.frame
    suts = set(sut_names) | flow.forwarders | flow.registrars | flow.probed | flow.fronts
    parties: dict[str, Party] = {}
    taken: set[str] = set()
    sut_count = 0
    for e in endpoints:
        if e in suts:
            name = sut_names.get(e)
            if name is None:
                sut_count += 1
                name = sut_name if sut_count == 1 else f"{sut_name}{sut_count}"
            why = []
            if e in sut_names:
                why.append("named by --sut")
            if e in flow.forwarders:
                why.append("it relays requests between other parties")
            if e in flow.registrars:
                why.append("it answers REGISTERs")
            if e in flow.probed:
                why.append("sipscen probed it as a service")
            if e in flow.fronts and e not in flow.forwarders:
                why.append("it relays the far end's answers (Record-Route, the far end's "
                           "Contact)")
            parties[e] = Party(name, e, "sut", why=why,
                               frames=[first_frame[e]] if e in first_frame else [])
            taken.add(name)
    for e in endpoints:
        if e in parties:
            continue
        user, domain = _identity(flow.msgs, e, set(parties))
        name = unique(sanitise(user) or "party", taken)
        taken.add(name)
        parties[e] = Party(name, e, "agent", user=user or name, domain=domain,
                           frames=[first_frame[e]] if e in first_frame else [])
    attribute_media(flow, parties)
    return Parties(parties, set(flow.probers))


def _identity(msgs: list[Msg], endpoint: str, suts: set[str]) -> tuple[str, str]:
    """(user, domain) an endpoint stands for: From of requests it starts (To of its
    REGISTERs), else Request-URI/To of calls it receives, else its Contact."""
    mine: Counter = Counter()
    domains: Counter = Counter()
    theirs: Counter = Counter()
    contact: Counter = Counter()
    for m in msgs:
        if m.retransmission:
            continue
        if m.src == endpoint and m.is_request and not m.tag("to"):
            uri = m.uri_of("to") if m.method == "REGISTER" else m.uri_of("from")
            if uri is not None and uri.user:
                mine[uri.user] += 1
                domains[uri.host] += 1
        if m.dst == endpoint and m.is_request and not m.tag("to") and \
                m.method in ("INVITE", "MESSAGE", "OPTIONS", "SUBSCRIBE"):
            uri = m.ruri or m.uri_of("to")
            if uri is not None and uri.user:
                theirs[uri.user] += 1
        if m.src == endpoint:
            uri = m.uri_of("contact")
            if uri is not None and uri.user:
                contact[uri.user] += 1
    for counter, dom in ((mine, True), (theirs, False), (contact, False)):
        if counter:
            user = counter.most_common(1)[0][0]
            domain = domains.most_common(1)[0][0] if dom and domains else ""
            return user, domain
    return "", ""


def sanitise(user: str) -> str:
    text = re.sub(r"[^A-Za-z0-9_-]", "-", user).strip("-")
    if not text:
        return ""
    if not text[0].isalpha():
        text = f"u{text}"
    return text[:40] if NAME_PATTERN.match(text[:40]) else ""


def unique(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    n = 2
    while f"{name}{n}" in taken:
        n += 1
    return f"{name}{n}"


def attribute_media(flow: Flow, parties: dict[str, Party]) -> None:
    """A party owns the media addresses of the SDP it wrote (not of SDP it relayed)."""
    for m in flow.msgs:
        if m.forwarded_from is not None or not m.sdp:
            continue
        owner = parties.get(m.src)
        if owner is None:
            continue
        for media in m.sdp:
            if media.get("address") and media.get("port"):
                addr = str(media["address"])
                addr = f"[{addr}]" if ":" in addr else addr
                owner.media.add(f"{addr}:{media['port']}")


def uri_party(parties: Parties, text: str) -> Party | None:
    """The party a URI names by its host:port (or by its user, for a SUT-hosted URI)."""
    uri = parse_uri(text)
    if uri is None:
        return None
    for p in parties.by_address.values():
        host, _, port = p.address.rpartition(":")
        if uri.host.strip("[]") == host.strip("[]") and str(uri.port or 5060) == port:
            return p
    return None


def party_headers(parties: Parties, headers: dict[str, str]) -> dict[str, str]:
    """Headers with a party's captured address (a 3xx Contact) as ``${NAME.uri}``."""
    out = {}
    for name, value in headers.items():
        party = uri_party(parties, value) if "sip" in value.lower() else None
        if party is not None and "<" in value:
            value = f"<${{{party.name}.uri}}>" + value.split(">", 1)[1]
        out[name] = value
    return out
