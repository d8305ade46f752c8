"""Media attributed by the calls' SDP and followed through relays (issue 15), on real
runs: Kamailio + rtpengine, a baresip service, PJSUA2, tcpdump. Every verdict that
now passes has its negative control in the same run: the expectation made false
fails."""
from __future__ import annotations

import shutil
from dataclasses import replace

import pytest

from sipscen.core.errors import Location
from sipscen.core.model import Expectation
from sipscen.engine.run import RunOptions, run_scenario
from sipscen.scenario.build import load_scenario

from .conftest import ROOT

SBC = ROOT / "scenarios" / "sbc"
needs_relay = pytest.mark.skipif(not (shutil.which("kamailio") and shutil.which("rtpengine")),
                                 reason="kamailio and rtpengine-daemon needed")
needs_baresip = pytest.mark.skipif(shutil.which("baresip") is None, reason="baresip needed")
pytestmark = pytest.mark.integration


def extra(kind: str, index: int, **params) -> Expectation:
    return Expectation(kind, params, Location("extra.yaml", 100 + index, 5), f"extra[{index}]")


def run_with(path, tmp_path, extras: list[Expectation], **variables):
    scenario = load_scenario(path, variables)
    scenario = replace(scenario, expectations=scenario.expectations + tuple(extras))
    result = run_scenario(scenario, RunOptions(artifacts_root=tmp_path / "art"))
    by_loc: dict[str, list] = {}
    for c in result.checks:
        by_loc.setdefault(c.location, []).append(c)
    own = [c for c in result.checks if not c.location.startswith("extra.yaml")]
    return result, own, {loc: {c.name: c for c in cs} for loc, cs in by_loc.items()}


def at(by_loc, index: int) -> dict:
    return by_loc[f"extra.yaml:{100 + index}:5"]


@needs_relay
def test_audio_and_rtp_follow_the_relay_legs_and_none_sees_them(tmp_path, no_leftovers):
    """alice -> rtpengine -> bob: the wire halves read the relay's leg into bob (no
    "no audio at all"), and `none` sees the RTP on both legs."""
    extras = [
        extra("audio", 0, **{"from": "alice", "to": "bob",
                             "tone": {"frequency": "440Hz", "min_duration": "300ms"}}),
        extra("audio", 1, **{"from": "alice", "to": "bob",
                             "tone": {"frequency": "1000Hz", "min_duration": "300ms"}}),
        extra("rtp", 2, **{"from": "alice", "to": "bob", "min_packets": 20}),
        extra("rtp", 3, **{"from": "alice", "to": "bob", "none": True}),
        extra("rtp", 4, **{"from": "alice", "to": "bob", "none": True, "where": "wire"}),
    ]
    result, own, by_loc = run_with(SBC / "srtp-to-rtp.yaml", tmp_path, extras)
    assert all(c.status == "passed" for c in own), [c for c in own if c.status != "passed"]
    tone = at(by_loc, 0)
    assert tone["audio alice->bob (wire)"].status == "passed", tone["audio alice->bob (wire)"]
    assert tone["audio alice->bob (at bob)"].status == "passed"
    assert tone["audio alice->bob (wire)"].evidence == "wire"
    wrong = at(by_loc, 1)          # negative control: 1000 Hz was never played
    assert wrong["audio alice->bob (wire)"].status == "failed"
    assert "no audio at all" not in wrong["audio alice->bob (wire)"].message
    assert wrong["audio alice->bob (at bob)"].status == "failed"
    packets = at(by_loc, 2)["rtp alice->bob (wire)"]
    assert packets.status == "passed" and packets.actual["packets"] >= 20
    # `none` through the relay: RTP on both legs refutes it, at bob and on the wire
    none = at(by_loc, 3)
    assert none["rtp alice->bob (at bob)"].status == "failed"
    assert none["rtp alice->bob (wire)"].status == "failed"
    wire_none = at(by_loc, 4)["rtp alice->bob (wire)"]
    assert wire_none.status == "failed" and wire_none.actual["packets"] > packets.actual["packets"]
    assert "RTP packets where none were expected" in wire_none.message


@needs_relay
@needs_baresip
def test_rtp_none_towards_a_service_through_the_relay(tmp_path, no_leftovers):
    extras = [extra("rtp", 0, **{"from": "alice", "to": "carol", "none": True}),
              extra("rtp", 1, **{"from": "alice", "to": "carol", "min_packets": 10}),
              extra("codec", 2, between=["carol", "alice"], codec="PCMA"),
              extra("codec", 3, between=["carol", "alice"], codec="PCMU"),
              extra("audio", 4, **{"from": "alice", "to": "carol", "where": "agent",
                                   "not_silent": True})]
    result, own, by_loc = run_with(SBC / "relay-to-baresip.yaml", tmp_path, extras)
    assert all(c.status == "passed" for c in own), [c for c in own if c.status != "passed"]
    # carol's own hop of the proxied call is hers ("carol had no call with alice" before)
    assert at(by_loc, 2)["codec at carol, from the capture"].status == "passed"
    wrong = at(by_loc, 3)["codec at carol, from the capture"]
    assert wrong.status == "failed" and wrong.actual == "PCMA"
    heard = at(by_loc, 4)["audio alice->carol (at carol)"]
    assert heard.status == "error" and heard.message.startswith("inconclusive: carol records")
    none = at(by_loc, 0)
    # carol is a service: nothing of its own to read, the wire judges (both legs)
    assert list(none) == ["rtp alice->carol (wire)"]
    assert none["rtp alice->carol (wire)"].status == "failed"
    assert at(by_loc, 1)["rtp alice->carol (wire)"].status == "passed"


@needs_baresip
def test_a_service_without_media_ports_is_found_by_its_sdp(tmp_path, no_leftovers):
    """srtp, codec, audio and rtp on the wire judge the service's media although it
    declared no ports (main said "no RTP between them"), with a warning; `none` from
    it fails on its SRTP packets."""
    extras = [extra("rtp", 0, **{"from": "carol", "to": "alice", "none": True}),
              extra("audio", 1, **{"from": "carol", "to": "alice", "where": "wire",
                                   "tone": {"frequency": "1000Hz"}}),
              extra("srtp", 2, between=["alice", "carol"], suite="AES_256_CM_HMAC_SHA1_80")]
    result, own, by_loc = run_with(SBC / "service-without-media-ports.yaml", tmp_path, extras)
    assert all(c.status == "passed" for c in own), [c for c in own if c.status != "passed"]
    checks = {c.name: c for c in own}
    assert all(row["authenticated"] > 0 and row["failed"] == 0
               for row in checks["srtp alice<->carol (wire)"].actual)
    assert checks["codec alice<->carol (wire)"].actual == {"alice->carol": [8],
                                                            "carol->alice": [8]}
    assert any("carol's media was found by the calls' SDP" in w and "no media_ports" in w
               for w in result.warnings), result.warnings
    none = at(by_loc, 0)
    assert none["rtp carol->alice (wire)"].status == "failed"
    assert none["rtp carol->alice (wire)"].actual["packets"] >= 20
    assert none["rtp carol->alice (at alice)"].status == "failed"
    assert at(by_loc, 1)["audio carol->alice (wire)"].status == "failed"
    # the direct-path wire row checks the suite too
    suite = at(by_loc, 2)["srtp alice<->carol (wire)"]
    assert suite.status == "failed" and "not AES_256_CM_HMAC_SHA1_80" in suite.message


@needs_relay
def test_rekeyed_compares_the_decoded_keys(tmp_path, no_leftovers):
    """rtpengine passes alice's SDES key through to bob's leg (without its base64
    padding): the same key, so `rekeyed: true` fails."""
    extras = [extra("media", 0, between=["alice", "bob"], via="sut", rekeyed=True)]
    result, own, by_loc = run_with(SBC / "srtp-both-legs.yaml", tmp_path, extras)
    assert all(c.status == "passed" for c in own), [c for c in own if c.status != "passed"]
    rekeyed = at(by_loc, 0)["media alice<->bob via sut: re-keyed"]
    assert rekeyed.status == "failed" and rekeyed.actual["shared"] >= 1
    # the case that passed before: the same key, its text differing only in the padding
    texts = {c.split("inline:")[1].split("|")[0] for call in result.wire["calls"]
             for entry in call["sdp"] for m in entry["media"] for c in m["crypto"]}
    assert any(t.endswith("=") and t.rstrip("=") in texts for t in texts), texts
    same = {c.name: c for c in own}["media alice<->bob via sut: same keys"]
    assert same.status == "passed"


def test_rtp_none_at_a_receiver_that_never_had_a_call(tmp_path, no_leftovers):
    """bob refuses alice's SRTP offer (488): no call, so no RTP either."""
    extras = [extra("rtp", 0, **{"from": "alice", "to": "bob", "none": True}),
              extra("rtp", 1, **{"from": "alice", "to": "bob", "min_packets": 1})]
    result, own, by_loc = run_with(ROOT / "examples" / "srtp-mismatch.yaml", tmp_path, extras)
    assert all(c.status == "passed" for c in own), [c for c in own if c.status != "passed"]
    none = at(by_loc, 0)
    assert none["rtp alice->bob (at bob)"].status == "passed"
    assert none["rtp alice->bob (at bob)"].actual == "bob has no call with alice"
    assert none["rtp alice->bob (wire)"].status == "passed"
    some = at(by_loc, 1)
    assert some["rtp alice->bob (at bob)"].status == "failed"
    assert some["rtp alice->bob (wire)"].status == "failed"
