"""Mutators of the media families: codec, srtp, leg, dtmf, ice, media, rtp,
audio (checks/mutants.py says what a mutator is)."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from sipscen.checks.mutants import (CODECS, DROP, PROFILES, SUITES, Mutant, Mutation, above,
                                    flip_leg, halfway_to_one, measured, seconds)


def _other_codec(codec: str, measured_codecs: Iterable[str] = ()) -> str:
    avoid = {str(c).split("/")[0].lower() for c in [codec, *measured_codecs]}
    return next(c for c in CODECS if c.lower() not in avoid)


def _codecs_seen(results) -> list[str]:
    out = []
    for r in results:
        actual = r.actual
        values = actual.values() if isinstance(actual, dict) else [actual]
        for v in values:
            out += [str(x) for x in (v if isinstance(v, (list, tuple)) else [v])
                    if isinstance(x, str)]
    return out


def codec(p: Mapping[str, Any], results) -> tuple[list[Mutant], list[str]]:
    m = Mutation()
    other = _other_codec(p["codec"], _codecs_seen(results))
    m.add(p, f"codec {p['codec']} -> {other}", codec=other)
    return m.result()


def _other_suite(results, given: str | None) -> str:
    text = " ".join(repr(r.actual) for r in results) + " " + str(given or "")
    return next((s for s in SUITES if s not in text), "AEAD_AES_256_GCM")


def srtp(p: Mapping[str, Any], results) -> tuple[list[Mutant], list[str]]:
    m = Mutation()
    suite = _other_suite(results, p.get("suite"))
    m.add(p, f"suite {p.get('suite') or '(any)'} -> {suite}", suite=suite)
    m.add({"between": p["between"]}, "srtp flipped: plain RTP both ways expected (a leg: "
          "{srtp: false})", kind="leg", srtp=False)
    return m.result()


def leg(p: Mapping[str, Any], results) -> tuple[list[Mutant], list[str]]:
    m = Mutation()
    if "srtp" in p:
        m.add(p, f"srtp {p['srtp']} -> {not p['srtp']}", srtp=not p["srtp"], suite=DROP)
    if "suite" in p:
        suite = _other_suite(results, p["suite"])
        m.add(p, f"suite {p['suite']} -> {suite}", suite=suite)
    if "codec" in p:
        other = _other_codec(p["codec"], _codecs_seen(results))
        m.add(p, f"codec {p['codec']} -> {other}", codec=other)
    sdp = p.get("sdp") or {}
    if "profile" in sdp:
        other = next(x for x in PROFILES if x != sdp["profile"])
        m.add(p, f"sdp profile {sdp['profile']} -> {other}", sdp={**sdp, "profile": other})
    if "crypto" in sdp:
        m.add(p, f"sdp crypto {sdp['crypto']} -> {not sdp['crypto']}",
              sdp={**sdp, "crypto": not sdp["crypto"]})
    if "connection" in sdp:
        m.add(p, f"sdp connection {sdp['connection']} -> 192.0.2.1",
              sdp={**sdp, "connection": "192.0.2.1"})
    if "payload_types" in sdp:
        m.add(p, f"sdp payload_types {sdp['payload_types']} -> [127]",
              sdp={**sdp, "payload_types": [127]})
    return m.result()


_NEXT_DIGIT = dict(zip("0123456789*#ABCD", "123456789*#ABCD0"))


def dtmf(p: Mapping[str, Any], results) -> tuple[list[Mutant], list[str]]:
    m = Mutation()
    digits = str(p["digits"])
    other = "".join(_NEXT_DIGIT.get(d, "1") for d in digits)
    m.add(p, f"digits {digits!r} -> {other!r}", digits=other)
    m.add(p, f"digits {digits!r} -> {digits + '9'!r} (one more)", digits=digits + "9")
    method = p.get("method")
    if method:
        to = "sip-info" if method != "sip-info" else "rfc4733"
        m.add(p, f"method {method} -> {to}", method=to)
    if "max_latency" in p:
        m.add(p, f"max_latency {p['max_latency']} -> 1ms", max_latency="1ms")
    flip_leg(m, p)
    return m.result()


CANDIDATES = ("relay", "srflx", "prflx", "host")


def ice(p: Mapping[str, Any], results) -> tuple[list[Mutant], list[str]]:
    m = Mutation()
    have = list(p.get("candidates") or ["host"])
    missing = [c for c in CANDIDATES if c not in have]
    if missing:
        m.add(p, f"candidates {have} -> {have + missing[:1]}", candidates=have + missing[:1])
    if "server" in p:
        m.note("server: no other TURN service to name")
    return m.result()


def media(p: Mapping[str, Any], results) -> tuple[list[Mutant], list[str]]:
    m = Mutation()
    for key in ("anchored", "transcoded", "rekeyed"):
        if key in p:
            m.add(p, f"{key} {p[key]} -> {not p[key]}", **{key: not p[key]})
    if not any(k in p for k in ("anchored", "transcoded", "rekeyed")):
        m.note("only `between` and `via`: nothing asserted to falsify")
    return m.result()


def rtp(p: Mapping[str, Any], results) -> tuple[list[Mutant], list[str]]:
    m = Mutation()
    if p.get("none"):
        m.add(p, "none true -> min_packets 1 (media expected)", none=DROP, min_packets=1)
        return m.result()
    got = measured(results, "", "packets")
    if "min_packets" in p and got:
        m.add(p, f"min_packets {p['min_packets']} -> {int(max(got)) + 1} (past the measured "
              f"{int(max(got))})", min_packets=int(max(got)) + 1)
    elif "min_packets" in p:
        m.note("min_packets: no packet count measured to move it past")
    for key, measure, unit, fmt in (("max_loss", "loss_pct", "%", lambda v: f"{v:g}%"),
                                    ("max_jitter", "jitter_ms", " ms",
                                     lambda v: f"{v / 1000:g}s"),
                                    ("max_gap", "max_gap_ms", " ms",
                                     lambda v: f"{v / 1000:g}s")):
        if key not in p:
            continue
        got = measured(results, "", measure)
        if got and min(got) > 0:
            low = min(got) / 2
            m.add(p, f"{key} {p[key]} -> {fmt(low)} (below the measured {min(got):g}{unit})",
                  **{key: fmt(low)})
        else:
            m.note(f"{key}: the measured {measure} is {min(got) if got else '?'}, "
                   "no bound below it")
    if "min_mos" in p:
        got = measured(results, "", "mos")
        if got and max(got) < 4.5:
            want = round(min(4.5, max(got) + 0.01), 2)
            m.add(p, f"min_mos {p['min_mos']} -> {want} (past the measured {max(got):g})",
                  min_mos=want)
        else:
            m.note(f"min_mos: the measured MOS is {got or '?'}, no bound above it")
    if not m.mutants:      # no bound to move: media was there, so none at all must fail
        m.add(p, "none: no media at all expected", none=True, **{
            k: DROP for k in ("min_packets", "max_loss", "max_jitter", "max_gap", "min_mos")})
    return m.result()


def _tolerance(tone: Mapping[str, Any], freq: float) -> float:
    tol = str(tone.get("tolerance", "3%")).replace(" ", "")
    if tol.endswith("%"):
        return freq * float(tol[:-1]) / 100
    return float(tol.removesuffix("Hz"))


def _hz(value: Any) -> float:
    text = str(value).replace(" ", "")
    if text.endswith("kHz"):
        return float(text[:-3]) * 1000
    return float(text.removesuffix("Hz"))


def audio(p: Mapping[str, Any], results) -> tuple[list[Mutant], list[str]]:
    m = Mutation()
    for key, flip in (("tone", "no_tone"), ("no_tone", "tone")):
        tone = p.get(key)
        if not isinstance(tone, dict):
            continue
        m.add(p, f"{key} flipped to {flip}", **{key: DROP, flip: tone})
        if key != "tone":
            continue
        freqs = tone.get("frequencies") or [tone.get("frequency")]
        shifted = []
        for f in freqs:
            hz = _hz(f)
            shifted.append(round(hz + 2 * _tolerance(tone, hz), 1))
        fkey = "frequencies" if "frequencies" in tone else "frequency"
        value = shifted if fkey == "frequencies" else shifted[0]
        m.add(p, f"tone {fkey} {freqs} -> {shifted} (off by twice its tolerance)",
              tone={**tone, fkey: value})
        got = measured(results, "", "seconds")
        if got:
            m.add(p, f"tone min_duration -> {seconds(above(got))} (longer than the measured "
                  f"phase of {max(got):g}s)", tone={**tone, "min_duration": seconds(above(got))})
        got = measured(results, "", "level_dbfs")
        if got and max(got) < -1:
            want = round(min(0.0, max(got) + 3), 1)
            m.add(p, f"tone min_level -> {want} dBFS (above the measured {max(got):g})",
                  tone={**tone, "min_level": want})
    for key, flip in (("silent", "not_silent"), ("not_silent", "silent")):
        if p.get(key):
            m.add(p, f"{key} flipped to {flip}", **{key: DROP, flip: True})
    if "matches" in p:
        halfway_to_one(m, p, "min_score", p.get("min_score", "(default)"),
                       measured(results, "", "score"), digits=4, limit=0.999,
                       note_key="matches", noun="score")
    return m.result()
