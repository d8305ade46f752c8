"""The `leg` expectation: the media of one leg (e.g. alice<->sut), judged from the capture;
also the per-leg verdicts that `srtp` and `codec` give through a relay.

A leg is the media (and the SDP) between two parties, e.g. alice<->sut and
sut<->bob where ``sut`` is a service owning the relay's media ports. Every
verdict is judged from the capture:

    - leg: {between: [alice, sut], srtp: true, suite: AES_CM_128_HMAC_SHA1_80, codec: PCMA,
            sdp: {profile: RTP/SAVP, crypto: true, connection: 127.0.0.1, payload_types: [8]}}
    - leg: {between: [sut, bob], srtp: false}          # plain RTP both ways
    - media: {between: [alice, bob], via: sut, anchored: true, transcoded: false}

``srtp: true`` passes only when RTP flows both ways on the leg and every packet
authenticates with a key from the leg's SDP (or an agent's); ``srtp: false``
only when RTP flows both ways and none of it is, or looks, SRTP. Result names
carry the leg, so a swapped expectation says which leg is wrong.
"""
from __future__ import annotations

from sipscen.checks.context import CheckContext
from sipscen.checks.dtls_srtp import dtls_verdict
from sipscen.checks.evidence import codecs_of, leg_sdps, leg_streams, media_samples, no_wire
from sipscen.checks.media_path import relay_legs
from sipscen.core.model import Expectation
from sipscen.core.results import FAILED, PASSED, WIRE, CheckResult
from sipscen.language.registry import ExpectationFamily, register_expectation
from sipscen.capture.visibility import WHOLE


def srtp_verdict(label: str, by_dir: dict[str, list[dict]], want: bool, suite: str | None,
                  loc: str, samples: dict | None = None) -> CheckResult:
    """``samples`` (see ``_samples``): a plain verdict also needs each stream's
    payload not to look like ciphertext (an SBC sending SRTP on a leg its SDP
    calls RTP/AVP would otherwise pass as plain). The actual value is, per
    direction, one row per stream: addresses, protocol, suite, authenticated and
    failed packets (or packets and payload for plain RTP), a table for people."""
    problems, seen = [], {}
    for direction, streams in by_dir.items():
        if not streams:
            problems.append(f"no RTP {direction}")
            seen[direction] = [{"protocol": "no RTP"}]
            continue
        rows = []
        for s in streams:
            srtp = s.srtp
            if srtp is None:
                sample = (samples or {}).get((s.src, s.dst))
                row = {"addresses": s.direction, "protocol": "plain RTP",
                       "packets": s.packets}
                if not want and samples is not None and (sample is None or
                                                          sample.looks_encrypted):
                    row["payload"] = "looks encrypted" if sample else "not sampled"
                    rows.append(row)
                    problems.append(f"payload not proven cleartext {direction}")
                    continue
                if sample:
                    row["payload"] = "cleartext"
                rows.append(row)
                if want:
                    problems.append(f"cleartext RTP {direction}")
            else:
                ok = srtp.get("authenticated") and not srtp.get("auth_failed")
                rows.append({"addresses": s.direction, "protocol": "SRTP",
                             "suite": srtp.get("suite"),
                             "authenticated": srtp.get("authenticated"),
                             "failed": srtp.get("auth_failed")})
                if not want:
                    problems.append(f"SRTP (or ciphertext) {direction}")
                elif not ok:
                    problems.append(f"SRTP not proven {direction}")
                elif suite and srtp.get("suite") != suite:
                    problems.append(f"suite {srtp.get('suite')} {direction}")
        seen[direction] = rows
    if want:
        expected = f"SRTP both ways{f' with {suite}' if suite else ''}, every packet authenticated"
    else:
        expected = "plain RTP both ways, no SRTP"
    return CheckResult(f"{label}: {'SRTP' if want else 'plain RTP'}",
                       FAILED if problems else PASSED, expected, seen, "; ".join(problems), loc)


def _sdp_verdicts(label: str, ctx: CheckContext, a: str, b: str, want: dict,
                  loc: str) -> list[CheckResult]:
    sdps = leg_sdps(ctx, a, b)
    if not sdps:
        return [CheckResult(f"{label}: SDP", FAILED, want, None,
                            "no SDP between them in the capture", loc)]
    results = []
    for key, expected in want.items():
        actual, bad = {}, []
        for where, media in sdps:
            if key == "profile":
                got = media.proto
                ok = got == expected
            elif key == "crypto":
                got = bool(media.crypto)
                ok = got == bool(expected)
            elif key == "connection":
                got = media.address
                ok = got == expected
            else:   # payload_types: every one listed is offered/answered
                got = list(media.payload_types)
                ok = all(pt in got for pt in expected)
            actual[where] = got
            if not ok:
                bad.append(where)
        results.append(CheckResult(f"{label}: SDP {key}", FAILED if bad else PASSED, expected,
                                   actual, f"differs in {', '.join(bad)}" if bad else "", loc))
    return results


def srtp_via(ctx: CheckContext, a: str, b: str, via: str, suite: str | None,
             loc: str) -> list[CheckResult]:
    """The end-to-end `srtp` wire verdict through a relay: each leg on its own (a leg
    keyed by DTLS judged by its handshake, the others packet by packet)."""
    out = []
    for x, y, by_dir in relay_legs(ctx, a, b, via):
        label = f"srtp {a}<->{b} (wire, leg {x}<->{y})"
        r = dtls_verdict(ctx, x, y, suite, label, loc)
        if r is None:
            r = srtp_verdict(label, by_dir, True, suite, loc)
        r.name, r.evidence = label, WIRE
        out.append(r)
    return out


def codec_via(ctx: CheckContext, a: str, b: str, via: str, want: str,
              loc: str) -> list[CheckResult]:
    """The end-to-end `codec` wire verdict through a relay: the codec on each leg."""
    out = []
    for x, y, by_dir in relay_legs(ctx, a, b, via):
        seen = {d: sorted(codecs_of(st)) or "no audio RTP" for d, st in by_dir.items()}
        bad = [d for d, st in by_dir.items() if want.lower() not in
               {c.lower() for c in codecs_of(st)}]
        out.append(CheckResult(f"codec {a}<->{b} (wire, leg {x}<->{y})",
                               FAILED if bad else PASSED, f"{want} both ways", seen,
                               f"not in {', '.join(bad)}" if bad else "", loc, WIRE))
    return out


def check_leg(exp: Expectation, ctx: CheckContext) -> list[CheckResult]:
    p = exp.params
    a, b = p["between"]
    label = f"leg {a}<->{b}"
    loc = str(exp.location)
    if ctx.wire is None:
        return no_wire(label, ctx, loc)
    by_dir = leg_streams(ctx, a, b)
    results = []
    if "srtp" in p or "suite" in p:
        want = bool(p.get("srtp", True))
        dtls = dtls_verdict(ctx, a, b, p.get("suite"),
                            f"{label}: {'SRTP' if want else 'plain RTP'}", loc)
        if dtls is None:
            results.append(srtp_verdict(label, by_dir, want, p.get("suite"),
                                        loc, media_samples(ctx.wire)))
        elif want:                        # keyed by DTLS: judged by its handshake
            results.append(dtls)
        else:
            results.append(CheckResult(dtls.name, FAILED, "plain RTP both ways, no SRTP",
                                       dtls.actual, "DTLS-SRTP on the leg", loc, WIRE))
    if "codec" in p:
        want = str(p["codec"]).split("/")[0]
        seen = {d: sorted(codecs_of(s)) or "no audio RTP" for d, s in by_dir.items()}
        bad = [d for d, s in by_dir.items() if want.lower() not in
               {c.lower() for c in codecs_of(s)}]
        results.append(CheckResult(f"{label}: codec", FAILED if bad else PASSED,
                                   f"{want} both ways", seen,
                                   f"not in {', '.join(bad)}" if bad else "", loc))
    if "sdp" in p:
        results += _sdp_verdicts(label, ctx, a, b, dict(p["sdp"]), loc)
    if not results:    # only `between`: media flows both ways on the leg
        bad = [d for d, s in by_dir.items() if not s]
        results.append(CheckResult(f"{label}: media", FAILED if bad else PASSED,
                                   "RTP both ways", {d: len(s) for d, s in by_dir.items()},
                                   f"no RTP {', '.join(bad)}" if bad else "", loc))
    return results


register_expectation(ExpectationFamily(
    name="leg", evaluate="sipscen.checks.leg:check_leg", evidence="wire",
    mutate="sipscen.checks.mutants_media:leg",   # falsified copies (sipscen judge --mutate)
    wire_needs=WHOLE,
    # plain RTP needs proof that the payload is not ciphertext: the media scan
    needs_dtls_scan=lambda params: params.get("srtp") is False,
    schema={"description": "One media leg between two parties (e.g. alice<->sut), judged "
                           "from the capture.",
            "type": "object", "required": ["between"], "additionalProperties": False,
            "properties": {
                "between": {"$ref": "#/$defs/agent_pair"},
                "srtp": {"type": "boolean", "description": "true: every packet both ways is "
                         "authenticated SRTP; false: plain RTP both ways"},
                "suite": {"type": "string", "pattern": "^[A-Z0-9_]+$"},
                "codec": {"$ref": "#/$defs/codec"},
                "sdp": {"type": "object", "additionalProperties": False, "minProperties": 1,
                        "properties": {
                            "profile": {"enum": ["RTP/AVP", "RTP/SAVP", "RTP/AVPF",
                                                 "RTP/SAVPF", "UDP/TLS/RTP/SAVP",
                                                 "UDP/TLS/RTP/SAVPF"]},
                            "crypto": {"type": "boolean"},
                            "connection": {"type": "string", "minLength": 1},
                            "payload_types": {"type": "array", "minItems": 1, "items": {
                                "type": "integer", "minimum": 0, "maximum": 127}}}}}},
    doc="On the leg between two parties (agents or services with media ports): SRTP with "
        "`suite` or plain RTP both ways, the `codec` on the wire both ways, and every SDP "
        "on the leg (`profile`, `crypto`, `c=` `connection`, offered `payload_types`).",
    example="- leg: {between: [alice, sut], srtp: true, codec: PCMA, sdp: {profile: RTP/SAVP}}"))
