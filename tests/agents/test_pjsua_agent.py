"""The pjsua agent with real PJSUA2 workers calling each other on 127.0.0.1.

Each test builds agents the way the engine does (plan, start, ready, run in
threads, stop) through the ``rig`` fixture, which also asserts that no worker
process outlives the test.
"""
from __future__ import annotations

import os
import shutil
import signal
import threading
from pathlib import Path

import pytest

from sipscen.agents.pjsua import sdp
from sipscen.core import process
from sipscen.core.errors import AgentError, Location, ScenarioError, StepFailed

HANGUP_AFTER_MEDIA = [{"call": {"to": "bob"}}, {"wait": {"event": "media_active", "timeout": "5s"}},
                      {"hangup": {}}, {"wait": {"event": "disconnected", "timeout": "5s"}}]
UNTIL_HANGUP = [{"wait": {"event": "disconnected", "timeout": "5s"}}]


def only_call(agent) -> dict:
    calls = agent.facts()["calls"]
    assert len(calls) == 1, calls
    return calls[0]


def test_plain_call_pcma(rig):
    # bob's own media event before the hangup: on a loaded box alice's BYE can
    # otherwise overtake it, and bob's facts then truly have no codec
    rig.add("bob", [{"wait": {"event": "media_active", "timeout": "5s"}}] + UNTIL_HANGUP,
            codecs=["PCMA"])
    rig.add("alice", HANGUP_AFTER_MEDIA, codecs=["PCMA", "PCMU"])
    agents = rig.start()
    assert rig.run() == {}
    alice, bob = only_call(agents["alice"]), only_call(agents["bob"])
    assert alice["direction"] == "outgoing" and bob["direction"] == "incoming"
    assert alice["call_id"] == bob["call_id"] != ""
    assert alice["answered"] and bob["answered"]
    assert alice["status_code"] == 200
    assert (alice["codec"], alice["clock_rate"], alice["payload_type"]) == ("PCMA", 8000, 8)
    assert bob["codec"] == "PCMA"
    assert alice["srtp"] == {"active": False, "suite": None}
    assert "m=audio" in alice["local_sdp"] and "m=audio" in alice["remote_sdp"]
    assert alice["duration"] is not None and alice["disconnected_at"] >= alice["confirmed_at"]
    assert agents["alice"].srtp_keys() == []
    # the events went on the board, in the contract's shape
    states = [e.data["state"] for e in rig.board.events("alice", "call_state")]
    assert "CONFIRMED" in states and states[-1] == "DISCONNECTED"
    assert agents["bob"].facts()["uri"] == rig.agents["bob"].contact_.uri
    assert "pjsua_log" in agents["alice"].artifacts()


def test_srtp_mandatory_both_sides(rig):
    rig.add("bob", UNTIL_HANGUP, codecs=["PCMA"], srtp={"use": "mandatory"})
    rig.add("alice", HANGUP_AFTER_MEDIA, codecs=["PCMA"], srtp={"use": "mandatory"})
    agents = rig.start()
    assert rig.run() == {}
    alice, bob = only_call(agents["alice"]), only_call(agents["bob"])
    for call in (alice, bob):
        assert call["srtp"]["active"] is True
        assert call["srtp"]["suite"] and call["srtp"]["suite"] == alice["srtp"]["suite"]
        assert "RTP/SAVP" in call["local_sdp"]
    keys = {name: agents[name].srtp_keys() for name in ("alice", "bob")}
    for name, call in (("alice", alice), ("bob", bob)):
        assert len(keys[name]) == 1
        assert keys[name][0]["suite"] == call["srtp"]["suite"]
        assert keys[name][0]["key"].startswith("inline:")
        assert keys[name][0]["key"] in call["local_sdp"]    # its own key, from its own SDP
    assert keys["alice"][0]["key"] != keys["bob"][0]["key"]


def test_srtp_mandatory_against_disabled_gives_488(rig):
    rig.add("bob", [], srtp={"use": "disabled"})
    rig.add("alice", [{"call": {"to": "bob"}},
                      {"wait": {"event": "disconnected", "timeout": "5s"}}],
            srtp={"use": "mandatory"})
    agents = rig.start()
    assert rig.run() == {}
    alice = only_call(agents["alice"])
    assert alice["status_code"] == 488
    assert alice["answered"] is False and alice["duration"] is None


@pytest.mark.parametrize("method", ["rfc4733", "sip-info"])
def test_dtmf_received_once_with_method(rig, method):
    rig.add("bob", [{"wait": {"event": "dtmf", "digits": "11234#", "timeout": "5s"}},
                    {"signal": "got-digits"}, *UNTIL_HANGUP], codecs=["PCMA"])
    rig.add("alice", [{"call": {"to": "bob"}}, {"wait": {"event": "media_active", "timeout": "5s"}},
                      {"dtmf": {"digits": "11234#", "method": method, "duration": "80ms",
                                "gap": "40ms"}},
                      {"wait": {"signal": "got-digits", "agent": "bob", "timeout": "5s"}},
                      {"hangup": {}}], codecs=["PCMA"])
    agents = rig.start()
    assert rig.run() == {}
    received = agents["bob"].facts()["dtmf_received"]
    assert "".join(d["digit"] for d in received) == "11234#"
    assert {d["method"] for d in received} == {method}
    sent = agents["alice"].facts()["dtmf_sent"]
    assert [(d["digit"], d["method"]) for d in sent] == [(c, method) for c in "11234#"]
    assert [e.data["digit"] for e in rig.board.events("bob", "dtmf")] == list("11234#")
    # every digit names its call (the checks attribute digits to the right sender)
    call_id = only_call(agents["bob"])["call_id"]
    assert call_id and call_id == only_call(agents["alice"])["call_id"]
    assert [d["call_id"] for d in received] == [call_id] * 6
    assert [d["call_id"] for d in sent] == [call_id] * 6


def test_answer_reject_486(rig):
    rig.add("bob", [{"wait": {"event": "disconnected", "timeout": "5s"}}], answer={"reject": 486})
    rig.add("alice", [{"call": {"to": "bob"}},
                      {"wait": {"event": "call_state", "state": "DISCONNECTED", "timeout": "5s"}}])
    agents = rig.start()
    assert rig.run() == {}
    alice, bob = only_call(agents["alice"]), only_call(agents["bob"])
    assert alice["status_code"] == 486 and bob["status_code"] == 486
    assert not alice["answered"] and not bob["answered"]


def test_wait_for_answered_fails_fast_when_rejected(rig):
    rig.add("bob", [], answer={"reject": 486})
    rig.add("alice", [{"call": {"to": "bob"}}, {"wait": {"event": "answered", "timeout": "30s"}}])
    rig.start()
    errors = rig.run(timeout=20)
    assert isinstance(errors["alice"], StepFailed)
    assert "486" in str(errors["alice"])


def test_wait_timeout_raises_step_failed_with_location(rig):
    rig.add("bob", [{"wait": {"event": "dtmf", "digits": "99", "timeout": "300ms"}}])
    rig.start()
    errors = rig.run()
    exc = errors["bob"]
    assert isinstance(exc, StepFailed)
    assert exc.location == Location("test.yaml", 10, 9)
    assert "wait for dtmf '99' timed out after 0.3s (received '')" in str(exc)
    steps = [e.data for e in rig.board.events("bob", "step")]
    assert steps[-1]["status"] == "failed" and steps[-1]["step"] == "wait"


def test_worker_killed_mid_run_is_agent_error(rig):
    rig.add("alice", [{"wait": {"signal": "never", "agent": "bob", "timeout": "30s"}}])
    agents = rig.start()
    alice = agents["alice"]
    errors: dict = {}

    def run():
        try:
            alice.run()
        except BaseException as exc:
            errors["alice"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    started = rig.board.wait_for(lambda e: e.kind == "step" and e.data["status"] == "started", 5)
    assert started is not None
    os.kill(alice.proc.pid, signal.SIGKILL)
    thread.join(10)
    assert not thread.is_alive()
    assert isinstance(errors.get("alice"), AgentError)
    assert "died" in str(errors["alice"])
    alice.stop()
    assert not alice.proc.running


def test_bad_config_is_a_scenario_error(rig):
    rig.add("alice", [], address="10.1.2.3")
    with pytest.raises(ScenarioError, match="not a loopback address"):
        rig.start()


def test_unknown_codec_fails_ready(rig):
    rig.add("alice", [], codecs=["NOPE"])
    with pytest.raises(AgentError, match="unknown codec"):
        rig.start()


def test_negotiated_crypto_picks_the_answered_tag():
    offer = ("v=0\r\nm=audio 4000 RTP/SAVP 8\r\na=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:AAA\r\n"
             "a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:BBB\r\n")
    answer = "v=0\r\nm=audio 5000 RTP/SAVP 8\r\na=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:CCC\r\n"
    local, remote = sdp.negotiated_crypto(offer, answer, local_is_offerer=True)
    assert local["key"] == "inline:BBB" and remote["key"] == "inline:CCC"
    local, remote = sdp.negotiated_crypto(answer, offer, local_is_offerer=False)
    assert local["key"] == "inline:CCC" and remote["key"] == "inline:BBB"
    assert sdp.negotiated_crypto(offer, "v=0\r\nm=audio 5000 RTP/AVP 8\r\n", True) == (None, None)


def _rms(path) -> float:
    import array
    import wave
    with wave.open(str(path), "rb") as wav:
        assert wav.getsampwidth() == 2
        samples = array.array("h", wav.readframes(wav.getnframes()))
    assert len(samples) > 0
    return (sum(s * s for s in samples) / len(samples)) ** 0.5


def test_tone_played_by_alice_is_recorded_at_bob(rig):
    rig.add("bob", [{"wait": {"event": "media_active", "timeout": "5s"}},
                    {"record": {"file": "heard.wav"}},
                    {"wait": {"event": "disconnected", "timeout": "5s"}}], codecs=["PCMU"])
    rig.add("alice", [{"call": {"to": "bob"}}, {"wait": {"event": "media_active", "timeout": "5s"}},
                      {"play": {"tone": {"frequencies": [440, 880], "duration": "600ms"}}},
                      {"hangup": {}}], codecs=["PCMU"])
    agents = rig.start()
    assert rig.run() == {}
    rig.stop()     # finalises the WAV header
    recording = agents["bob"].artifacts()["recording"]
    assert recording == str(rig.tmp_path / "bob" / "heard.wav")
    assert _rms(recording) > 300     # a tone, not the silence of an idle stream
    assert only_call(agents["alice"])["rtp"]["tx_packets"] > 10


def test_call_timeout_cancels_unanswered_call(rig):
    rig.add("bob", [], answer={"code": 180})          # rings, never answers
    rig.add("alice", [{"call": {"to": "bob", "timeout": "300ms"}},
                      {"wait": {"event": "disconnected", "timeout": "5s"}}])
    agents = rig.start()
    assert rig.run() == {}
    alice = only_call(agents["alice"])
    assert alice["status_code"] == 487 and not alice["answered"]


def test_tls_with_secure_signalling_and_srtp(rig, tls_files):
    common = dict(transport="tls", tls=tls_files, codecs=["PCMA"],
                  srtp={"use": "mandatory", "secure_signaling": 1})
    rig.add("bob", UNTIL_HANGUP, **common)
    rig.add("alice", HANGUP_AFTER_MEDIA, **common)
    agents = rig.start()
    assert agents["bob"].contact_.uri.startswith("sips:bob@127.0.0.1:")
    assert rig.run() == {}
    alice, bob = only_call(agents["alice"]), only_call(agents["bob"])
    assert alice["answered"] and alice["call_id"] == bob["call_id"]
    assert alice["srtp"]["active"] and bob["srtp"]["active"]


def test_secure_signalling_over_udp_fails_the_call_step(rig):
    rig.add("bob", [])
    rig.add("alice", [{"call": {"to": "bob"}}], srtp={"use": "mandatory", "secure_signaling": 1})
    rig.start()
    errors = rig.run()
    assert isinstance(errors["alice"], StepFailed)
    assert "call failed" in str(errors["alice"]) and "test.yaml:10:9" in str(errors["alice"])


def test_ringing_then_delayed_answer(rig):
    rig.add("bob", UNTIL_HANGUP, answer={"code": 200, "delay": "200ms"})
    rig.add("alice", HANGUP_AFTER_MEDIA)
    rig.start()
    assert rig.run() == {}
    seen = [(e.data["state"], e.data["code"]) for e in rig.board.events("alice", "call_state")]
    assert ("EARLY", 180) in seen
    assert seen.index(("EARLY", 180)) < [s for s, _ in seen].index("CONFIRMED")


def test_ipv6_without_an_ipv6_pjsua2_is_refused_with_a_clear_message(rig, monkeypatch):
    """The pjsua2 2.15 wheel has no IPv6; without the IPv6 worker's Python (.venv-ipv6,
    agents/pjsua/ipv6.py) an agent on ::1 is refused, saying why and what to do."""
    monkeypatch.setenv("SIPSCEN_PJSUA_IPV6_PYTHON", "/nonexistent/python")
    rig.add("alice", [], address="::1")
    with pytest.raises(ScenarioError, match="built without IPv6.*venv-ipv6"):
        rig.start()


KAMAILIO_CFG = Path(__file__).resolve().parents[2] / "examples" / "sut" / "kamailio.cfg"


@pytest.fixture
def registrar(tmp_path, rig):
    """The example SUT (Kamailio: registrar with digest auth, proxy) on a free port."""
    kamailio = shutil.which("kamailio")
    if not kamailio or not KAMAILIO_CFG.exists():
        pytest.skip("kamailio or examples/sut/kamailio.cfg not available")
    port = rig.ports.port()
    proc = process.start("kamailio", [kamailio, "-DD", "-E", "-f", KAMAILIO_CFG,
                                      "-l", f"udp:127.0.0.1:{port}"],
                         log_dir=tmp_path / "kamailio")
    try:
        yield f"127.0.0.1:{port}"
    finally:
        proc.stop()


def test_register_with_digest_auth_then_call_through_the_proxy(rig, registrar):
    account = {"registrar": f"sip:{registrar}", "password": "sipscen-test"}
    rig.add("bob", UNTIL_HANGUP, account=account)
    rig.add("alice", [{"call": {"uri": f"sip:bob@{registrar}"}},
                      {"wait": {"event": "answered", "timeout": "5s"}}, {"hangup": {}}],
            account=account)
    agents = rig.start(timeout=10)      # ready = registered (200 after the 401 challenge)
    assert [e.data["code"] for e in rig.board.events("bob", "reg_state")][-1] == 200
    assert rig.run() == {}
    alice, bob = only_call(agents["alice"]), only_call(agents["bob"])
    assert alice["answered"] and alice["call_id"] == bob["call_id"]


def test_registration_refused_is_an_agent_error(rig, registrar):
    rig.add("alice", [], account={"registrar": f"sip:{registrar}", "password": "wrong"})
    with pytest.raises(AgentError, match="registration failed: 401"):
        rig.start(timeout=10)


def test_cancelled_run_returns_quietly(rig):
    rig.add("alice", [{"wait": {"signal": "never", "agent": "bob", "timeout": "60s"}},
                      {"signal": "after"}])
    agents = rig.start()
    errors: dict = {}

    def run():
        try:
            agents["alice"].run()
        except BaseException as exc:
            errors["alice"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert rig.board.wait_for(lambda e: e.kind == "step" and e.data["status"] == "started", 5)
    rig.board.cancel()
    thread.join(10)
    assert not thread.is_alive() and errors == {}
    assert rig.board.events("alice", "signal") == []      # the next step never ran


def _write_tone_wav(path, seconds: float = 0.5, rate: int = 8000) -> None:
    import array
    import math
    import wave
    samples = array.array("h", (int(8000 * math.sin(2 * math.pi * 440 * i / rate))
                                for i in range(int(seconds * rate))))
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples.tobytes())


def test_play_file_relative_to_the_scenario_folder(rig):
    _write_tone_wav(rig.tmp_path / "hello.wav")
    rig.add("bob", [{"wait": {"event": "media_active", "timeout": "5s"}},
                    {"record": {"file": "heard.wav"}}, *UNTIL_HANGUP])
    rig.add("alice", [{"call": {"to": "bob"}}, {"wait": {"event": "media_active", "timeout": "5s"}},
                      {"play": {"file": "hello.wav"}}, {"hangup": {}}])
    agents = rig.start()
    assert rig.run() == {}
    rig.stop()
    assert _rms(agents["bob"].artifacts()["recording"]) > 300


def test_play_missing_file_fails_the_step(rig):
    rig.add("bob", UNTIL_HANGUP)
    rig.add("alice", [{"call": {"to": "bob"}}, {"wait": {"event": "media_active", "timeout": "5s"}},
                      {"play": {"file": "missing.wav"}}])
    rig.start()
    errors = rig.run()
    assert isinstance(errors["alice"], StepFailed)
    assert "test.yaml:12:9" in str(errors["alice"]) and "missing.wav" in str(errors["alice"])


def test_answer_step_answers_a_ringing_call(rig):
    rig.add("bob", [{"wait": {"event": "incoming", "timeout": "5s"}},
                    {"wait": {"event": "call_state", "state": "EARLY", "timeout": "5s"}},
                    {"answer": {"code": 200}}, *UNTIL_HANGUP], answer={"code": 180})
    rig.add("alice", [{"call": {"to": "bob"}}, {"wait": {"event": "answered", "timeout": "5s"}},
                      {"hangup": {}}])
    agents = rig.start()
    assert rig.run() == {}
    assert only_call(agents["alice"])["status_code"] == 200
    assert only_call(agents["bob"])["answered"]


def test_a_second_call_in_one_timeline(rig):
    """Waits follow the current call: the first call's end does not fail the second's waits."""
    answered = {"wait": {"event": "answered", "timeout": "5s"}}
    media = {"wait": {"event": "media_active", "timeout": "5s"}}
    rig.add("bob", [answered, *UNTIL_HANGUP, answered, media, *UNTIL_HANGUP])
    rig.add("alice", [{"call": {"to": "bob"}}, answered, {"hangup": {}},
                      {"call": {"to": "bob"}}, answered, media, {"hangup": {}},
                      {"wait": {"event": "disconnected", "timeout": "5s"}}])
    agents = rig.start()
    assert rig.run() == {}
    for name in ("alice", "bob"):
        calls = agents[name].facts()["calls"]
        assert len(calls) == 2 and all(c["answered"] for c in calls)
        assert calls[0]["call_id"] != calls[1]["call_id"]
        assert all(c["disconnected_at"] is not None for c in calls)


def _dtmf_sender(digits: str) -> list:
    return [{"call": {"to": "bob"}}, {"wait": {"event": "media_active", "timeout": "5s"}},
            {"dtmf": {"digits": digits, "duration": "80ms", "gap": "40ms"}}, {"signal": "sent"},
            {"wait": {"signal": "done", "agent": "bob", "timeout": "10s"}}, {"hangup": {}}]


def test_dtmf_wait_matches_digits_inside_those_received_since_the_last_match(rig):
    """Digits that arrived before the wait count, also when more came after them."""
    rig.add("bob", [{"wait": {"signal": "sent", "agent": "alice", "timeout": "5s"}},
                    {"sleep": "500ms"},
                    {"wait": {"event": "dtmf", "digits": "12", "timeout": "2s"}},
                    {"wait": {"event": "dtmf", "digits": "3", "timeout": "2s"}},
                    {"signal": "done"}, *UNTIL_HANGUP])
    rig.add("alice", _dtmf_sender("123"))
    agents = rig.start()
    assert rig.run() == {}
    assert "".join(d["digit"] for d in agents["bob"].facts()["dtmf_received"]) == "123"


def test_dtmf_wait_consumes_the_digits_it_matched(rig):
    rig.add("bob", [{"wait": {"event": "dtmf", "digits": "1", "timeout": "5s"}},
                    {"wait": {"event": "dtmf", "digits": "1", "timeout": "1s"}},
                    {"signal": "done"}, *UNTIL_HANGUP])
    rig.add("alice", _dtmf_sender("1"))
    rig.start()
    errors = rig.run()
    assert set(errors) == {"bob"} and isinstance(errors["bob"], StepFailed)
    assert "test.yaml:11:9: wait for dtmf '1' timed out after 1s (received '')" in str(errors["bob"])


def test_each_signal_wait_consumes_one_signal(rig):
    rig.add("bob", [{"signal": "go"}])
    rig.add("alice", [{"wait": {"signal": "go", "agent": "bob", "timeout": "5s"}},
                      {"wait": {"signal": "go", "agent": "bob", "timeout": "500ms"}}])
    rig.start()
    errors = rig.run()
    assert set(errors) == {"alice"} and isinstance(errors["alice"], StepFailed)
    assert ("test.yaml:11:9: wait for signal 'go' from bob timed out after 0.5s"
            in str(errors["alice"]))


@pytest.mark.parametrize("name", ["/tmp/sipscen-escape.wav", "../escape.wav",
                                  "sub/../../escape.wav"])
def test_record_stays_inside_the_artifacts_folder(rig, name):
    rig.add("bob", [{"record": {"file": name}}])
    rig.start()
    errors = rig.run()
    exc = errors["bob"]
    assert isinstance(exc, ScenarioError) and exc.location == Location("test.yaml", 10, 9)
    assert exc.path == "agents.bob.steps[0].record.file"
    assert "must be a relative path inside the agent's artifacts folder" in str(exc)
    assert not (rig.tmp_path / "escape.wav").exists() and not (rig.tmp_path / "sub").exists()


@pytest.mark.parametrize("address", ["10.1.2.3", "localhost"])
def test_one_loopback_rule_for_every_agent_type(rig, address):
    """pjsua agents, SIPp agents and services refuse an address with the same check."""
    from sipscen.agents.sipp import agent as sipp_agent
    from sipscen.core import network
    from sipscen.engine import services
    rig.add("alice", [], address=address)
    with pytest.raises(ScenarioError) as pjsua_error:
        rig.start()
    with pytest.raises(ScenarioError) as shared_error:
        network.require_loopback(address, "agents.alice.address", Location("test.yaml", 3, 3))
    assert str(pjsua_error.value) == str(shared_error.value)
    assert sipp_agent.require_loopback is network.require_loopback    # what SIPp uses
    assert services.require_loopback is network.require_loopback      # and services
