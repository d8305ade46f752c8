"""The `rtp` expectation family: its schema fragment and load-time checks.

Judged by :mod:`sipscen.checks.rtp_judge` (imported only when checks run).
"""
from __future__ import annotations

# ------------------------------------------------------------------ the family
from sipscen.checks.audio import PHASE, check_phase_and_pair
from sipscen.language.registry import ExpectationFamily, register_expectation
from sipscen.capture.visibility import WHOLE

SCHEMA = {
    "description": "RTP quality of the direction from -> to (the receiver's statistics and the wire).",
    "type": "object", "required": ["from", "to"], "additionalProperties": False,
    "properties": {
        "from": {"$ref": "#/$defs/name"}, "to": {"$ref": "#/$defs/name"},
        "where": {"enum": ["agent", "wire", "both"]}, **PHASE,
        "min_packets": {"type": "integer", "minimum": 0},
        "max_loss": {"type": ["string", "number"], "pattern": "^\\d+(\\.\\d+)?%?$", "minimum": 0,
                     "x-error": "max_loss: a percentage like 1% or 0.5, got {value}"},
        "max_jitter": {"$ref": "#/$defs/duration"},
        "max_gap": {"$ref": "#/$defs/duration"},
        "min_mos": {"type": "number", "minimum": 1, "maximum": 4.5},
        "none": {"const": True},
    },
}


def _load_check(lc, params: dict) -> None:
    check_phase_and_pair(lc, params)
    lc.judges_something(params, ("min_packets", "max_loss", "max_jitter", "max_gap",
                                 "min_mos", "none"))
    if params.get("none") and any(
            k in params for k in ("min_packets", "max_loss", "max_jitter", "min_mos", "max_gap")):
        lc.fail("'none' stands alone (no thresholds with it)", ["none"], key=True)


register_expectation(ExpectationFamily(
    name="rtp", evaluate="sipscen.checks.rtp_judge:check_rtp", schema=SCHEMA, check=_load_check,
    mutate="sipscen.checks.mutants_media:rtp",   # falsified copies (sipscen judge --mutate)
    wire_needs=WHOLE,
    needs_audio=True,
    doc="RTP of the direction `from` -> `to`, from the receiving agent's statistics and from the "
        "wire: `min_packets`, `max_loss` (%), `max_jitter`, `max_gap` (wire), `min_mos` (ITU-T "
        "G.107 E-model estimate); `none: true` -- no RTP at all, on any leg of the way "
        "through a relay, and a receiver with no call has none. No packets is no RTP: a "
        "loss, jitter, MOS or gap bound then fails. In a phase (`after`, `before`: signals or "
        "`{agent, step}` as for `audio`) the wire counts packets and gaps; the agent judges the "
        "counters of the media sessions (a re-INVITE that changes the media starts one) that "
        "ran inside the phase, else it is inconclusive (`where: agent`) or left to the wire. "
        "Through a relay the wire half reads the relay's leg into the receiver; a service "
        "receiver is judged on the wire only (docs/EVIDENCE.md).",
    example="- rtp: {from: alice, to: bob, min_packets: 100, max_loss: 1%, max_jitter: 20ms, "
            "min_mos: 4.0}"))
