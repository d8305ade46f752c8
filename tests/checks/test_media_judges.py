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
    assert only_agent[0].status == "error" and only_agent[0].message.startswith("inconclusive")
    assert "on the wire (where: wire)" in only_agent[0].message
    # counters of the whole call cannot show a phase: inconclusive, never a pass
    counters = check_rtp(_exp("rtp", min_packets=10, after="held", where="agent"), ctx)
    assert counters[0].status == "error" and "whole call, not the phase" in counters[0].message


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


def test_no_packets_is_no_rtp_not_a_perfect_mos():
    ctx = _ctx(rx_packets=0, rx_lost=0, jitter=0.0, wire_packets=0, wire_lost=0)
    ctx.wire.rtp_streams = []
    r = by_name(check_rtp(_exp("rtp", min_mos=4.0, max_loss="0%"), ctx))
    agent = r["rtp alice->bob (at bob)"]
    assert agent.status == "failed" and agent.actual["mos"] is None
    assert agent.message.startswith("no RTP (0 packets): max_loss, min_mos cannot hold")
    assert r["rtp alice->bob (wire)"].status == "failed"
    assert "no RTP (0 packets)" in r["rtp alice->bob (wire)"].message
    # the same bounds with packets: judged on them (the positive control)
    ok = by_name(check_rtp(_exp("rtp", min_mos=4.0, max_loss="0%"), _ctx(rx_lost=0, wire_lost=0)))
    assert [v.status for v in ok.values()] == ["passed", "passed"]


def _two_sessions():
    ctx = _ctx()
    call = ctx.facts["bob"].calls[0]
    call.rtp_sessions = [
        {"index": 0, "started_at": 1.0, "ended_at": 3.0, "codec": "PCMA", "rx_packets": 100,
         "rx_lost": 0, "rx_jitter_ms": 1.0, "tx_packets": 100},
        {"index": 1, "started_at": 3.0, "ended_at": 6.0, "codec": "PCMU", "rx_packets": 150,
         "rx_lost": 15, "rx_jitter_ms": 2.0, "tx_packets": 150}]
    call.rtp = {"rx_packets": 250, "rx_lost": 15, "rx_jitter_ms": 1.6}
    ctx.signals = {"switching": 2.9, "switched": 3.2}
    return ctx


def test_agent_counters_per_media_session_judge_the_phase_of_its_session():
    ctx = _two_sessions()
    whole = by_name(check_rtp(_exp("rtp", min_packets=240, where="agent"), ctx))["rtp alice->bob (at bob)"]
    assert whole.status == "passed" and whole.actual["packets"] == 250
    assert "2 media sessions" in whole.message
    first = by_name(check_rtp(_exp("rtp", min_packets=90, max_loss="0%", before="switching",
                                   where="agent"), ctx))["rtp alice->bob [before switching] (at bob)"]
    assert first.status == "passed" and first.actual["packets"] == 100, first
    second = by_name(check_rtp(_exp("rtp", max_loss="5%", after="switched", where="agent"), ctx))
    second = second["rtp alice->bob [after switched] (at bob)"]
    assert second.status == "failed" and second.actual["loss_pct"] == 9.09, second
    # a phase the sessions straddle: the counters cannot show it
    ctx.signals["middle"] = 2.0
    mid = check_rtp(_exp("rtp", min_packets=1, after="middle", before="switched", where="agent"), ctx)
    assert mid[0].status == "error" and mid[0].message.startswith("inconclusive"), mid
    both = check_rtp(_exp("rtp", min_packets=1, after="middle", before="switched"), ctx)
    assert [r.name.rsplit(" ", 1)[1] for r in both] == ["(wire)"]
