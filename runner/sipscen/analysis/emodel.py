"""The ITU-T G.107 E-model (no numpy: ``sipscen analyze`` reports it for every stream)."""
from __future__ import annotations


# ITU-T G.113 Appendix I equipment impairment Ie and packet-loss robustness Bpl
# (G.711 with packet loss concealment; PJSIP conceals). Wideband codecs are rated
# on the narrowband scale here (a conservative simplification).
CODEC_IMPAIRMENT = {
    "PCMU": (0.0, 25.1), "PCMA": (0.0, 25.1), "L16": (0.0, 25.1), "G722": (0.0, 25.1),
    "G729": (11.0, 19.0), "GSM": (20.0, 10.0), "ILBC": (10.0, 32.0), "SPEEX": (11.0, 19.0),
    "OPUS": (0.0, 25.1), "AMR": (5.0, 10.0),
}


def e_model(codec: str | None, loss_pct: float, jitter_ms: float = 0.0, delay_ms: float = 0.0,
            ptime_ms: float = 20.0) -> dict:
    """R factor and MOS (ITU-T G.107) of one direction.

    One-way delay = ``delay_ms`` (network) + ``ptime_ms`` (packetisation) +
    a jitter buffer of max(2 * jitter, 2 * ptime). ``Id`` is Cole and
    Rosenbluth's fit of G.107's delay impairment, ``Ie_eff = Ie + (95 - Ie) *
    Ppl / (Ppl + Bpl)`` (random loss, BurstR = 1), ``R = 93.2 - Id - Ie_eff``.
    """
    ie, bpl = CODEC_IMPAIRMENT.get((codec or "PCMU").upper(), (0.0, 25.1))
    ppl = max(0.0, min(100.0, loss_pct))
    ie_eff = ie + (95.0 - ie) * ppl / (ppl + bpl)
    ta = delay_ms + ptime_ms + max(2 * jitter_ms, 2 * ptime_ms)
    i_d = 0.024 * ta + (0.11 * (ta - 177.3) if ta > 177.3 else 0.0)
    r = max(0.0, min(100.0, 93.2 - i_d - ie_eff))
    mos = 1.0 if r <= 0 else 4.5 if r >= 100 else 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6
    return {"r": round(r, 1), "mos": round(mos, 2), "delay_ms": round(ta, 1)}


__all__ = ["CODEC_IMPAIRMENT", "e_model"]
