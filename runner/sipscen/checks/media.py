"""The `media` expectation: end-to-end media between two parties through a relay
(`via`): anchored, transcoded, re-keyed; judged from the capture."""
from __future__ import annotations

import base64
import binascii

from sipscen.checks.context import CheckContext
from sipscen.checks.evidence import codecs_of, leg_sdps, leg_streams, no_wire
from sipscen.core.model import Expectation
from sipscen.core.results import FAILED, PASSED, CheckResult
from sipscen.language.registry import ExpectationFamily, register_expectation
from sipscen.capture.visibility import HEADERS


def _keys(ctx: CheckContext, a: str, b: str) -> set[bytes]:
    """The SDES master keys and salts (inline:..., decoded) offered or answered on the
    leg a<->b. Decoded, not as text: rtpengine passes a key through to the other leg
    without its base64 '=' padding, and that is still the same key."""
    keys = set()
    for _, media in leg_sdps(ctx, a, b):
        for line in media.crypto:
            for part in line.split():
                if part.startswith("inline:"):
                    keys.add(key_material(part[len("inline:"):]))
    return keys


def key_material(inline: str) -> bytes:
    """The bytes of an ``inline:`` key||salt (without |lifetime|MKI), padding or not."""
    text = inline.split("|")[0].strip()
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return text.encode()


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
        return no_wire(label, ctx, loc)
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
        actual = {"direct": {d: [x.direction for x in s] for d, s in direct.items()},
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
            legs = f"{'/'.join(sorted(c1))} on {a}<->{via}, {'/'.join(sorted(c2))} on {via}<->{b}"
            why = "" if ok else (f"the same codec on both legs: {legs}" if p["transcoded"]
                                 else f"a different codec on each leg: {legs}")
        results.append(CheckResult(
            f"{label}: {'transcoded' if p['transcoded'] else 'same codec'}",
            PASSED if ok else FAILED,
            "a different codec on each leg" if p["transcoded"] else "the same codec on both legs",
            {f"{a}<->{via}": sorted(c1), f"{via}<->{b}": sorted(c2)}, why, loc))
    return results


def _check_media(lc, params) -> None:
    lc.judges_something(params, ("anchored", "transcoded", "rekeyed"))
    if params.get("via") in (params.get("between") or []):
        lc.fail(f"'via' names the relay between the two: not one of them "
                f"({params['via']})", ["via"])


register_expectation(ExpectationFamily(
    name="media", evaluate="sipscen.checks.media:check_media", check=_check_media,
    mutate="sipscen.checks.mutants_media:media",   # falsified copies (sipscen judge --mutate)
    wire_needs=HEADERS,
    evidence="wire",
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
