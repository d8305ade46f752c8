"""`leg` and `media` expectations: media through a relay, one leg at a time.

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

from typing import Any

from sipscen.analysis.sdp import parse_sdp
from sipscen.checks.context import CheckContext
from sipscen.checks.media import streams_from
from sipscen.checks.wire_party import _body
from sipscen.engine.results import FAILED, PASSED, CheckResult
from sipscen.language.registry import ExpectationFamily, register_expectation
from sipscen.scenario.model import Expectation

_NOT_AUDIO = ("telephone-event", "cn", "comfort-noise")


def _no_wire(name: str, ctx: CheckContext, loc: str) -> list[CheckResult]:
    return [CheckResult(name, FAILED, "the capture", None,
                        ctx.wire_error or "no capture to judge the leg from", loc)]


def _direction(s: dict) -> str:
    return f"{s['src']}->{s['dst']}"


def leg_streams(ctx: CheckContext, a: str, b: str) -> dict[str, list[dict]]:
    return {f"{a}->{b}": streams_from(ctx, a, b), f"{b}->{a}": streams_from(ctx, b, a)}


def codecs_of(streams: list[dict]) -> set[str]:
    names = set()
    for s in streams:
        for pt, name in (s.get("codecs") or {}).items():
            if name and name.split("/")[0].lower() not in _NOT_AUDIO \
                    and int(pt) not in (s.get("event_payload_types") or []):
                names.add(name.split("/")[0])
    return names


def _samples(wire: dict | None) -> dict[tuple[str, str], dict] | None:
    """Payload samples per (src, dst) from the media scan, None when there was none."""
    scan = (wire or {}).get("dtls")
    if not scan:
        return None
    return {(r["src"], r["dst"]): r for r in scan.get("rtp", [])}


def _srtp_verdict(label: str, by_dir: dict[str, list[dict]], want: bool, suite: str | None,
                  loc: str, samples: dict | None = None) -> CheckResult:
    """``samples`` (see ``_samples``): a plain verdict also needs each stream's
    payload not to look like ciphertext (an SBC sending SRTP on a leg its SDP
    calls RTP/AVP would otherwise pass as plain)."""
    problems, seen = [], {}
    for direction, streams in by_dir.items():
        if not streams:
            problems.append(f"no RTP {direction}")
            seen[direction] = "no RTP"
            continue
        parts = []
        for s in streams:
            srtp = s.get("srtp")
            if srtp is None:
                sample = (samples or {}).get((s["src"], s["dst"]))
                if not want and samples is not None and (sample is None or
                                                          sample["looks_encrypted"]):
                    parts.append(f"{_direction(s)} RTP whose payload "
                                 + ("looks encrypted" if sample else "was not sampled"))
                    problems.append(f"payload not proven cleartext {direction}")
                    continue
                parts.append(f"{_direction(s)} plain RTP ({s.get('packets')} packets"
                             + (", cleartext payload" if sample else "") + ")")
                if want:
                    problems.append(f"cleartext RTP {direction}")
            else:
                ok = srtp.get("authenticated") and not srtp.get("auth_failed")
                parts.append(f"{_direction(s)} SRTP {srtp.get('suite')}: "
                             f"{srtp.get('authenticated')} authenticated, "
                             f"{srtp.get('auth_failed')} failed")
                if not want:
                    problems.append(f"SRTP (or ciphertext) {direction}")
                elif not ok:
                    problems.append(f"SRTP not proven {direction}")
                elif suite and srtp.get("suite") != suite:
                    problems.append(f"suite {srtp.get('suite')} {direction}")
        seen[direction] = "; ".join(parts)
    if want:
        expected = f"SRTP both ways{f' with {suite}' if suite else ''}, every packet authenticated"
    else:
        expected = "plain RTP both ways, no SRTP"
    return CheckResult(f"{label}: {'SRTP' if want else 'plain RTP'}",
                       FAILED if problems else PASSED, expected, seen, "; ".join(problems), loc)


def leg_sdps(ctx: CheckContext, a: str, b: str) -> list[tuple[str, Any]]:
    """(direction, SdpMedia) of every audio section in SIP messages between a and b."""
    out = []
    for call in (ctx.wire or {}).get("calls", []):
        for m in call.get("messages", []):
            src, dst = m.get("src", ""), m.get("dst", "")
            if not ((ctx.owns(a, src) and ctx.owns(b, dst)) or
                    (ctx.owns(b, src) and ctx.owns(a, dst))):
                continue
            raw = m.get("raw") or ""
            if "application/sdp" not in raw.lower():
                continue
            who = f"{ctx.agent_of(src)}->{ctx.agent_of(dst)}"
            for media in parse_sdp(_body(raw)):
                if media.kind == "audio":
                    out.append((f"{who} {m.get('summary', '')}", media))
    return out


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


def relay_of(ctx: CheckContext, a: str, b: str) -> str | None:
    """The service relaying the media of a and b when none flows directly between
    them: RTP both ways between a and it, and between it and b."""
    if streams_from(ctx, a, b) or streams_from(ctx, b, a):
        return None
    for name in ctx.services:
        if name in (a, b):
            continue
        legs = list(leg_streams(ctx, a, name).values()) + list(leg_streams(ctx, name, b).values())
        if all(legs):
            return name
    return None


def srtp_via(ctx: CheckContext, a: str, b: str, via: str, suite: str | None,
             loc: str) -> list[CheckResult]:
    """The end-to-end `srtp` wire verdict through a relay: each leg on its own."""
    out = []
    for x, y in ((a, via), (via, b)):
        label = f"srtp {a}<->{b} (wire, leg {x}<->{y})"
        r = _dtls_leg(ctx, x, y, suite, label, loc) or \
            _srtp_verdict(label, leg_streams(ctx, x, y), True, suite, loc)
        r.name = label
        out.append(r)
    return out


def _dtls_leg(ctx: CheckContext, a: str, b: str, suite: str | None, label: str,
              loc: str) -> CheckResult | None:
    """The SRTP verdict of a leg keyed by DTLS (a WebRTC leg): from the handshake and
    the ciphertext (``dtls_srtp.py``), as no key to authenticate packets is on the wire;
    None when no DTLS flowed on the leg."""
    from sipscen.checks.dtls_srtp import dtls_verdict
    return dtls_verdict(ctx, a, b, suite, label, loc)


def codec_via(ctx: CheckContext, a: str, b: str, via: str, want: str,
              loc: str) -> list[CheckResult]:
    """The end-to-end `codec` wire verdict through a relay: the codec on each leg."""
    out = []
    for x, y in ((a, via), (via, b)):
        by_dir = leg_streams(ctx, x, y)
        seen = {d: sorted(codecs_of(st)) or "no audio RTP" for d, st in by_dir.items()}
        bad = [d for d, st in by_dir.items() if want.lower() not in
               {c.lower() for c in codecs_of(st)}]
        out.append(CheckResult(f"codec {a}<->{b} (wire, leg {x}<->{y})",
                               FAILED if bad else PASSED, f"{want} both ways", seen,
                               f"not in {', '.join(bad)}" if bad else "", loc))
    return out


def check_leg(exp: Expectation, ctx: CheckContext) -> list[CheckResult]:
    p = exp.params
    a, b = p["between"]
    label = f"leg {a}<->{b}"
    loc = str(exp.location)
    if ctx.wire is None:
        return _no_wire(label, ctx, loc)
    by_dir = leg_streams(ctx, a, b)
    results = []
    if "srtp" in p or "suite" in p:
        want = bool(p.get("srtp", True))
        dtls = _dtls_leg(ctx, a, b, p.get("suite"), f"{label}: DTLS-SRTP", loc) if want else None
        results.append(dtls or _srtp_verdict(label, by_dir, want, p.get("suite"), loc,
                                             _samples(ctx.wire)))
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


def _keys(ctx: CheckContext, a: str, b: str) -> set[str]:
    """The SDES master keys (inline:...) offered or answered on the leg a<->b."""
    keys = set()
    for _, media in leg_sdps(ctx, a, b):
        for line in media.crypto:
            for part in line.split():
                if part.startswith("inline:"):
                    keys.add(part[len("inline:"):].split("|")[0])
    return keys


def _rekeyed(label: str, ctx: CheckContext, a: str, b: str, via: str, want: bool,
             loc: str) -> CheckResult:
    k1, k2 = _keys(ctx, a, via), _keys(ctx, via, b)
    shared = k1 & k2
    if not k1 or not k2:
        ok, why = False, "no SDES keys on " + (f"{a}<->{via}" if not k1 else f"{via}<->{b}")
    else:
        ok, why = (not shared) == want, f"{len(shared)} key(s) on both legs" if shared else ""
    return CheckResult(f"{label}: {'re-keyed' if want else 'same keys'}",
                       PASSED if ok else FAILED,
                       "no SRTP key of one leg used on the other" if want
                       else "the same keys on both legs",
                       {f"{a}<->{via}": len(k1), f"{via}<->{b}": len(k2), "shared": len(shared)},
                       why, loc)


def check_media(exp: Expectation, ctx: CheckContext) -> list[CheckResult]:
    p = exp.params
    a, b = p["between"]
    via = p["via"]
    loc = str(exp.location)
    label = f"media {a}<->{b} via {via}"
    if ctx.wire is None:
        return _no_wire(label, ctx, loc)
    direct = leg_streams(ctx, a, b)
    first, second = leg_streams(ctx, a, via), leg_streams(ctx, via, b)
    results = []
    if "anchored" in p:
        direct_n = sum(len(s) for s in direct.values())
        missing = [d for legs in (first, second) for d, s in legs.items() if not s]
        if p["anchored"]:
            ok = direct_n == 0 and not missing
            why = (f"{direct_n} stream(s) directly between {a} and {b}" if direct_n else
                   f"no RTP {', '.join(missing)}" if missing else "")
        else:
            ok = direct_n > 0
            why = "" if ok else f"no RTP directly between {a} and {b}"
        actual = {"direct": {d: [_direction(x) for x in s] for d, s in direct.items()},
                  **{d: len(s) for legs in (first, second) for d, s in legs.items()}}
        results.append(CheckResult(
            f"{label}: {'anchored' if p['anchored'] else 'not anchored'}",
            PASSED if ok else FAILED,
            f"RTP only through {via}, both legs both ways" if p["anchored"]
            else f"RTP directly between {a} and {b}", actual, why, loc))
    if "rekeyed" in p:
        results.append(_rekeyed(label, ctx, a, b, via, bool(p["rekeyed"]), loc))
    if "transcoded" in p:
        c1 = codecs_of([s for v in first.values() for s in v])
        c2 = codecs_of([s for v in second.values() for s in v])
        if not c1 or not c2:
            ok, why = False, "no audio RTP on " + (f"{a}<->{via}" if not c1 else f"{via}<->{b}")
        else:
            differ = not (c1 & c2)
            ok = differ == bool(p["transcoded"])
            why = ""
        results.append(CheckResult(
            f"{label}: {'transcoded' if p['transcoded'] else 'same codec'}",
            PASSED if ok else FAILED,
            "a different codec on each leg" if p["transcoded"] else "the same codec on both legs",
            {f"{a}<->{via}": sorted(c1), f"{via}<->{b}": sorted(c2)}, why, loc))
    return results


register_expectation(ExpectationFamily(
    name="leg", evaluate="sipscen.checks.legs:check_leg",
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
def _check_media(lc, params) -> None:
    lc.judges_something(params, ("anchored", "transcoded", "rekeyed"))
    if params.get("via") in (params.get("between") or []):
        lc.fail(f"'via' names the relay between the two: not one of them "
                f"({params['via']})", ["via"])


register_expectation(ExpectationFamily(
    name="media", evaluate="sipscen.checks.legs:check_media", check=_check_media,
    schema={"description": "End-to-end media between two parties through a relay (`via`).",
            "type": "object", "required": ["between", "via"], "additionalProperties": False,
            "properties": {
                "between": {"$ref": "#/$defs/agent_pair"},
                "via": {"$ref": "#/$defs/name"},
                "anchored": {"type": "boolean", "description": "all RTP flows through `via`: "
                             "none directly between the two"},
                "transcoded": {"type": "boolean", "description": "a different codec on each "
                               "leg"},
                "rekeyed": {"type": "boolean", "description": "no SDES key of one leg "
                            "appears on the other (the relay decrypts and re-encrypts)"}}},
    doc="Media between two parties relayed by `via`: `anchored` (RTP both ways on both legs, "
        "none directly between them), `transcoded` (no codec common to the two legs) and "
        "`rekeyed` (each leg's SRTP keys are its own).",
    example="- media: {between: [alice, bob], via: sut, anchored: true, transcoded: false}"))
