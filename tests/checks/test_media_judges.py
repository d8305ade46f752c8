"""The audio and rtp judges on hand-made facts and wire data (no calls)."""
from __future__ import annotations

import numpy as np

from sipscen.language import registry

registry.load()   # the built-in families register in their own order before we import any check

from sipscen.core.contact import Contact  # noqa: E402
from sipscen.checks.audio_judge import check_audio  # noqa: E402
from sipscen.checks.context import CheckContext  # noqa: E402
from sipscen.checks.rtp_judge import check_rtp  # noqa: E402
from sipscen.core.model import Expectation, Location  # noqa: E402

LOC = Location("s.yaml", 9, 5)
CONTACTS = {"alice": Contact("alice", "127.0.0.1", 5060, media_ports=(4000, 4009)),
            "bob": Contact("bob", "127.0.0.1", 5070, media_ports=(4010, 4019))}


def _ctx(rx_packets=190, rx_lost=10, jitter=3.0, wire_packets=190, wire_lost=10, audio=None):
    call = {"call_id": "c1", "direction": "incoming", "remote_uri": "sip:alice@127.0.0.1:5060",
            "codec": "PCMA", "rtp": {"rx_packets": rx_packets, "rx_lost": rx_lost,
                                     "rx_jitter_ms": jitter}, "rx_audio": None}
    facts = {"bob": {"calls": [call]}, "alice": {"calls": [dict(call, direction="outgoing")]}}
    stream = {"ssrc": "0x1", "src": "127.0.0.1:4000", "dst": "127.0.0.1:4010", "packets": wire_packets,
              "lost": wire_lost, "jitter_ms": jitter, "codecs": {"8": "PCMA/8000"},
              "quality": {"codec": "PCMA"}, "audio": {"max_gap_ms": 40.0}}
    ctx = CheckContext(None, facts, {"rtp_streams": [stream], "calls": [], "dtmf": []}, CONTACTS)
    if audio is not None:
        ctx.wire_audio = {0: {"samples": audio, "rate": 8000, "start": 100.0,
                              "times": [100.0 + 0.02 * i for i in range(len(audio) // 160)]}}
    ctx.epoch0 = 99.0
    return ctx


def _exp(kind, **params):
    return Expectation(kind, {"from": "alice", "to": "bob", **params}, LOC, "expect[0]")


def by_name(results):
    return {r.name: r for r in results}


def test_rtp_thresholds_at_the_agent_and_on_the_wire():
    r = by_name(check_rtp(_exp("rtp", min_packets=100, max_loss="6%", min_mos=4.0), _ctx()))
    agent, wire = r["rtp alice->bob (at bob)"], r["rtp alice->bob (wire)"]
    assert agent.status == wire.status == "failed"
    assert agent.message.startswith("MOS ") and "loss" not in agent.message   # 5 % is within 6 %
    assert agent.actual["loss_pct"] == 5.0 and agent.actual["mos"] < 4.0
    ok = by_name(check_rtp(_exp("rtp", min_packets=100, max_loss="6%", min_mos=3.5), _ctx()))
    assert all(v.status == "passed" for v in ok.values())
    gap = by_name(check_rtp(_exp("rtp", max_gap="30ms", where="wire"), _ctx()))
    assert gap["rtp alice->bob (wire)"].status == "failed" and "longest gap 40.0 ms" in \
        gap["rtp alice->bob (wire)"].message


def test_a_phase_is_judged_on_the_wire_only():
    ctx = _ctx(audio=np.zeros(8000 * 3, dtype=np.int16))
    ctx.signals = {"held": 2.0, "resumed": 3.0}        # capture times 101..102
    r = by_name(check_rtp(_exp("rtp", none=True, after="held", before="resumed"), ctx))
    assert list(r) == ["rtp alice->bob [after held, before resumed] (wire)"]
    assert r["rtp alice->bob [after held, before resumed] (wire)"].status == "failed"   # 50 packets
    only_agent = check_rtp(_exp("rtp", none=True, after="held", where="agent"), ctx)
    assert only_agent[0].status == "failed" and "phase on the wire" in only_agent[0].message


def test_wire_audio_tone_silence_and_missing_tap():
    t = np.arange(8000 * 2) / 8000
    tone = (8000 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16)
    ctx = _ctx(audio=tone)
    r = by_name(check_audio(_exp("audio", tone={"frequency": "1kHz", "min_duration": "1s"}), ctx))
    assert r["audio alice->bob (wire)"].status == "passed"
    assert r["audio alice->bob (at bob)"].status == "failed"          # no tap: never a pass
    assert "recorded no received audio" in r["audio alice->bob (at bob)"].message
    silent = by_name(check_audio(_exp("audio", silent=True, where="wire"), ctx))
    assert silent["audio alice->bob (wire)"].status == "failed"
    assert "not silent" in silent["audio alice->bob (wire)"].message
