"""SRTP keyed by DTLS (RFC 5764), judged from the capture.

The keys never appear in the SDP, so no packet can be authenticated here. The
verdict rests on what the wire does show, all of it required:

* a DTLS handshake between the two parties' media ports (ClientHello one way,
  ServerHello the other) whose ServerHello negotiates an SRTP profile
  (``use_srtp``), the wanted suite if one is named;
* RTP both ways on those ports, none of it before the handshake began, every
  stream looking like ciphertext and none judged cleartext by the analysis;
* SDP between them with a DTLS profile (``UDP/TLS/RTP/SAVP``) and no ``a=crypto``.
"""
from __future__ import annotations

from typing import Any

from sipscen.analysis.result import DtlsFlow, DtlsScan, WireAnalysis
from sipscen.checks.evidence import leg_sdps, leg_streams
from sipscen.core.results import FAILED, PASSED, WIRE, CheckResult


def _between(ctx: Any, a: str, b: str, items: list) -> list:
    """The flows (or samples) from a to b or from b to a."""
    return [x for x in items if (ctx.owns(a, x.src) and ctx.owns(b, x.dst)) or
            (ctx.owns(b, x.src) and ctx.owns(a, x.dst))]


def dtls_flows(ctx: Any, a: str, b: str) -> list[DtlsFlow]:
    return _between(ctx, a, b, _scan(ctx.wire).flows)


def dtls_verdict(ctx: Any, a: str, b: str, suite: str | None, name: str,
                 loc: str) -> CheckResult | None:
    """The DTLS-SRTP verdict between a and b, or None when no DTLS flowed between them."""
    flows = dtls_flows(ctx, a, b)
    if not flows:
        return None
    rtp = _between(ctx, a, b, _scan(ctx.wire).rtp)
    problems = []
    kinds = {h for f in flows for h in f.handshake}
    for hello in ("ClientHello", "ServerHello"):
        if hello not in kinds:
            problems.append(f"no DTLS {hello}")
    profiles = sorted({f.srtp_profile for f in flows if f.srtp_profile})
    if not profiles:
        problems.append("no SRTP profile negotiated (use_srtp)")
    elif suite and suite not in profiles:
        problems.append(f"profile {', '.join(profiles)}, not {suite}")
    start = min(f.first for f in flows)
    directions = {(ctx.agent_of(s.src), ctx.agent_of(s.dst)) for s in rtp}
    if len(directions) < 2:
        problems.append(f"RTP after the handshake in {len(directions)} direction(s), not 2")
    for s in rtp:
        if s.first < start:
            problems.append(f"RTP {s.src}->{s.dst} before the DTLS handshake")
        if not s.looks_encrypted:
            problems.append(f"RTP {s.src}->{s.dst} does not look encrypted")
    clear = [s for d in leg_streams(ctx, a, b).values() for s in d if not s.srtp]
    for s in clear:
        problems.append(f"cleartext RTP {s.direction}")
    sdps = leg_sdps(ctx, a, b)
    if any(m.crypto for _, m in sdps):
        problems.append("SDES keys (a=crypto) in the SDP")
    if not sdps or not all("TLS" in m.proto.upper() for _, m in sdps):
        problems.append("SDP without a DTLS profile (UDP/TLS/RTP/SAVP)")
    actual = {
        "dtls": "; ".join(f"{f.src}->{f.dst} {'/'.join(dict.fromkeys(f.handshake))}"
                          + (f" [{f.srtp_profile}]" if f.srtp_profile else "")
                          for f in flows),
        "rtp": "; ".join(f"{s.src}->{s.dst} {s.packets} packets"
                         f"{' (ciphertext-like)' if s.looks_encrypted else ' (CLEAR?)'}"
                         for s in rtp) or "none",
        "sdp": ", ".join(sorted({m.proto for _, m in sdps})) + (
            "; no a=crypto" if not any(m.crypto for _, m in sdps) else "; a=crypto present"),
    }
    return CheckResult(name, FAILED if problems else PASSED,
                       "DTLS-SRTP: handshake with use_srtp on the media ports, then only "
                       "ciphertext RTP both ways; no keys in the SDP", actual,
                       "; ".join(problems), loc, WIRE)


def _scan(wire: WireAnalysis | None) -> DtlsScan:
    """The DTLS handshakes and media samples of the capture (empty: none seen)."""
    return (wire.dtls if wire is not None else None) or DtlsScan()


def party_dtls(wire: WireAnalysis | None, owns, name: str, party_of=None) -> dict | None:
    """A party's own SRTP fact from DTLS evidence: {active, suite, evidence} or None.
    Only flows and RTP between its ports and another party's count (``party_of``)."""
    party_of = party_of or (lambda address: "?")
    dtls = _scan(wire)
    flows = [f for f in dtls.flows
             if (owns(name, f.src) and party_of(f.dst)) or
             (owns(name, f.dst) and party_of(f.src))]
    if not flows:
        return None
    sent = [s for s in dtls.rtp if owns(name, s.src) and party_of(s.dst)]
    profile = next((f.srtp_profile for f in flows if f.srtp_profile), None)
    ok = bool(profile) and bool(sent) and all(s.looks_encrypted for s in sent)
    return {"active": ok, "suite": profile if ok else None,
            "evidence": "DTLS-SRTP handshake, ciphertext-like RTP sent" if ok
            else "DTLS seen, but no SRTP profile or RTP that looks encrypted"}


def dtls_keyed(ctx: Any, party: str) -> list[DtlsFlow]:
    """The DTLS handshakes on ``party``'s media addresses: media whose keys no capture
    holds (its payload, RFC 4733 events included, cannot be read on the wire)."""
    flows = _scan(ctx.wire).flows
    return [f for f in flows if ctx.owns(party, f.src) or ctx.owns(party, f.dst)]


def hidden_note(ctx: Any, party: str, what: str) -> str:
    """'inconclusive: ...' when ``party``'s media is DTLS-keyed, else ''."""
    flows = dtls_keyed(ctx, party)
    if not flows:
        return ""
    ends = ", ".join(sorted({f"{f.src}<->{f.dst}" for f in flows}))
    return (f"inconclusive: {what} travels inside DTLS-SRTP ({ends}), whose keys never "
            f"appear in the capture: it cannot be read on the wire")
