"""Call flows with real PJSUA2 agents (through the example Kamailio SUT where a proxy
matters), each verified by its steps and events *and* on the wire (the capture, as
sipscen's analysis reads it)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from sipscen.engine.run import RunOptions, run_scenario
from sipscen.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
CALLFLOWS = ROOT / "scenarios" / "callflows"

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(os.geteuid() != 0, reason="capturing on lo needs root")]


def run(path: Path, tmp_path: Path, **variables):
    return run_scenario(load_scenario(path, variables, environ={}),
                        RunOptions(artifacts_root=tmp_path))


def wire_messages(result) -> list[dict]:
    """Every SIP message of the capture, in time order."""
    return sorted((m for c in result.wire.get("calls", []) for m in c["messages"]),
                  key=lambda m: m["time"])


def directions(message: dict) -> list[str]:
    return [line.strip() for line in message.get("raw", "").splitlines()
            if line.strip() in ("a=sendonly", "a=recvonly", "a=inactive", "a=sendrecv")]


def checks(result) -> dict[str, str]:
    return {c.name: c.status for c in result.checks}


def test_second_call_rejected_fails_answered_200_naming_it(tmp_path, write_scenario,
                                                           no_leftovers):
    path = write_scenario("""
name: two-calls
timeout: 30s
agents:
  bob:
    type: pjsua
    answer: {manual: true}
    steps:
      - wait: {event: incoming, timeout: 5s}
      - answer: {code: 200}
      - wait: {event: disconnected, timeout: 5s}
      - wait: {event: incoming, timeout: 5s}
      - answer: {code: 486}
      - wait: {event: disconnected, timeout: 5s}
  alice:
    type: pjsua
    steps:
      - call: {to: bob, id: first}
      - wait: {event: answered, timeout: 5s}
      - hangup: {}
      - wait: {event: disconnected, timeout: 5s}
      - call: {to: bob, id: second}
      - wait: {event: disconnected, timeout: 5s}
expect:
  - call: {from: alice, to: bob, answered: true, status: 200}
  - call: {from: alice, to: bob, count: 2, status: [200, 486]}
  - call: {from: alice, to: bob, id: second, status: 4xx, answered: false}
""")
    result = run(path, tmp_path)
    assert result.error is None, result.error
    by_exp: dict[str, list] = {}
    for c in result.checks:
        by_exp.setdefault(c.location, []).append(c)
    first, counted, named = by_exp.values()
    by_name = {c.name: c for c in first}
    status = by_name["call alice->bob: status"]
    second = next(c for c in result.agents["alice"]["calls"] if c["name"] == "second")
    assert status.status == "failed" and status.actual == [200, 486]
    assert f"call 2 of 2 'second' (Call-ID {second['call_id']}): 486" in status.message
    assert by_name["call alice->bob: answered"].status == "failed"
    assert [(c.name, c.status) for c in counted] == [
        ("call alice->bob: count", "passed"), ("call alice->bob: status", "passed"),
        ("call alice->bob: reached callee", "passed")]
    assert [(c.name, c.status, c.actual) for c in named][:2] == [
        ("call alice->bob [second]: status", "passed", 486),
        ("call alice->bob [second]: answered", "passed", False)]   # the call named in the title
    assert result.status == "failed"
    # on the wire: one INVITE answered 200, the second one 486, ringing only once each
    finals = [(m["method"], m["status"]) for m in wire_messages(result)
              if m["status"] and m["method"] == "INVITE" and m["status"] >= 180]
    assert finals == [("INVITE", 180), ("INVITE", 200), ("INVITE", 180), ("INVITE", 486)]


@pytest.mark.parametrize("mode, held_dir, answer_dir", [("sendonly", "a=sendonly", "a=recvonly"),
                                                        ("inactive", "a=inactive", "a=inactive")])
def test_hold_and_resume_through_the_proxy(tmp_path, no_leftovers, mode, held_dir, answer_dir):
    result = run(CALLFLOWS / "hold-resume.yaml", tmp_path, mode=mode)
    assert result.status == "passed", (result.error, checks(result))
    # both sides saw held, then resumed: each wait step passed
    done = {(e["agent"], e["index"]) for e in result.events
            if e["kind"] == "step" and e["status"] == "done"}
    assert {("bob", 1), ("bob", 2), ("alice", 3), ("alice", 6)} <= done
    # on the wire: alice's re-INVITEs (to the proxy and relayed to bob) hold, then resume
    invites = [m for m in wire_messages(result) if m["method"] == "INVITE"
               and m["status"] is None]
    assert [directions(m) for m in invites] == [["a=sendrecv"]] * 2 + [[held_dir]] * 2 + \
        [["a=sendrecv"]] * 2
    answers = [m for m in wire_messages(result) if m["method"] == "INVITE" and m["status"] == 200]
    answers = list({m["raw"]: m for m in answers}.values())   # a 200 resent before its ACK
    assert [directions(m) for m in answers][2:4] == [[answer_dir]] * 2


def _first(messages, test):
    return next(i for i, m in enumerate(messages) if test(m))


def _wire_early_media(msgs):
    i183 = _first(msgs, lambda m: m["status"] == 183)
    i200 = _first(msgs, lambda m: m["status"] == 200 and m["method"] == "INVITE")
    assert i183 < i200 and "m=audio" in msgs[i183]["raw"]          # 183 with SDP, before 200
    assert not any(m["status"] == 180 for m in msgs)                 # no automatic 180


def _wire_cancel(msgs):
    order = [m["summary"].split()[0] if m["status"] is None else m["status"] for m in msgs
             if m["method"] in ("INVITE", "CANCEL", "ACK")]
    assert order.index("CANCEL") < order.index(487) < order.index("ACK")


def _wire_headers(msgs):
    invite = next(m for m in msgs if m["method"] == "INVITE" and m["status"] is None)
    assert "X-Case: hdr-42" in invite["raw"]
    ok = next(m for m in msgs if m["method"] == "INVITE" and m["status"] == 200)
    assert "X-Answered-By: bob-desk-7" in ok["raw"]


def _wire_register(msgs):
    registers = [m for m in msgs if m["method"] == "REGISTER" and m["status"] is None]
    assert any("\nExpires: 0\r" in m["raw"] for m in registers)


def _wire_message(msgs):
    message = next(m for m in msgs if m["method"] == "MESSAGE" and m["status"] is None)
    assert message["raw"].rstrip().endswith("hello bob, this is alice")


def _wire_transfer(msgs):
    refer = _first(msgs, lambda m: m["method"] == "REFER" and m["status"] is None)
    assert "Refer-To:" in msgs[refer]["raw"] and "carol@" in msgs[refer]["raw"]
    notify = [m for m in msgs if m["method"] == "NOTIFY" and m["status"] is None]
    assert notify and "SIP/2.0 200" in notify[-1]["raw"]


def _wire_attended(msgs):
    refer = next(m for m in msgs if m["method"] == "REFER" and m["status"] is None)
    assert "Replaces=" in refer["raw"]
    replacing = [m for m in msgs if m["method"] == "INVITE" and m["status"] is None
                 and "\nReplaces:" in m["raw"]]
    assert len(replacing) == 1 and "to-tag=" in replacing[0]["raw"]


def _wire_prack(msgs):
    ringing = next(m for m in msgs if m["status"] == 180)
    assert "Require: 100rel" in ringing["raw"] and "\nRSeq:" in ringing["raw"]
    assert _first(msgs, lambda m: m["method"] == "PRACK" and m["status"] is None) < \
        _first(msgs, lambda m: m["method"] == "INVITE" and m["status"] == 200)


def _wire_session_timer(msgs):
    invite = next(m for m in msgs if m["method"] == "INVITE" and m["status"] is None)
    ok = next(m for m in msgs if m["method"] == "INVITE" and m["status"] == 200)
    assert "Session-Expires: 90" in invite["raw"] and "Session-Expires: 90;refresher=" in ok["raw"]


def _wire_reinvite(msgs):
    offers = [m["raw"] for m in msgs if m["method"] == "INVITE" and m["status"] is None]
    audio = [next(l for l in raw.splitlines() if l.startswith("m=audio")) for raw in offers]
    assert len(audio) == 2 and " 8" in audio[0] and audio[1].split()[3:4] == ["0"]
    assert any(m["method"] == "UPDATE" and m["status"] is None for m in msgs)


def _wire_update(msgs):
    """RFC 3311: a body-less UPDATE (a session refresh) then one with a PCMU offer,
    both answered 200 in the answered dialog, and no re-INVITE."""
    updates = [m["raw"] for m in msgs if m["method"] == "UPDATE" and m["status"] is None]
    assert len(updates) == 2
    assert "\nContent-Length:  0" in updates[0] or "\nContent-Length: 0" in updates[0]
    assert "v=0" not in updates[0] and "m=audio" not in updates[0]
    audio = next(l for l in updates[1].splitlines() if l.startswith("m=audio"))
    assert audio.split()[3] == "0"            # PCMU offered first, alone among codecs
    assert [m["status"] for m in msgs if m["method"] == "UPDATE" and m["status"]] == [200, 200]
    assert len([m for m in msgs if m["method"] == "INVITE" and m["status"] is None]) == 1


def _wire_busy(msgs):
    assert [m["status"] for m in msgs if m["method"] == "INVITE" and (m["status"] or 0) >= 200] \
        == [486]


def _wire_two_calls(msgs):
    finals = [m["status"] for m in msgs if m["method"] == "INVITE" and (m["status"] or 0) >= 200]
    assert finals == [200, 486]


def _wire_redirect(msgs):
    moved = next(m for m in msgs if m["status"] == 302)
    assert "Contact: <sip:carol@" in moved["raw"]


WIRE = {"early-media": _wire_early_media, "cancel-while-ringing": _wire_cancel,
        "ring-timeout": _wire_cancel, "headers": _wire_headers,
        "register-unregister": _wire_register, "message": _wire_message,
        "transfer-blind": _wire_transfer, "transfer-attended": _wire_attended, "redirect-followed": _wire_redirect,
        "redirect-not-followed": _wire_redirect, "prack-100rel": _wire_prack,
        "session-timer": _wire_session_timer, "reinvite-codec-change": _wire_reinvite,
        "busy-486": _wire_busy, "two-calls-named": _wire_two_calls, "update": _wire_update}


@pytest.mark.parametrize("name", sorted(p.stem for p in CALLFLOWS.glob("*.yaml")))
def test_callflow_scenario_passes_and_shows_on_the_wire(tmp_path, no_leftovers, name):
    result = run(CALLFLOWS / f"{name}.yaml", tmp_path)
    assert result.status == "passed", (result.error, [(c.name, c.status, c.actual)
                                                       for c in result.checks])
    assert any(c.name.startswith("sip ") for c in result.checks), "a wire expectation"
    if name in WIRE:
        WIRE[name](wire_messages(result))
    if name == "early-media":    # the recording made before the answer holds bob's tone
        import array
        import wave
        with wave.open(result.artifacts["alice.recording"], "rb") as wav:
            samples = array.array("h", wav.readframes(wav.getnframes()))
        assert len(samples) > 8000 * 0.3 and max(abs(x) for x in samples) > 1000


def test_update_negative_control_fails(tmp_path, no_leftovers):
    """The UPDATE scenario with its wire expectation made false (one UPDATE too
    many) fails on that expectation alone."""
    text = (CALLFLOWS / "update.yaml").read_text()
    wrong = tmp_path / "update-wrong.yaml"
    wrong.write_text(text.replace("method: UPDATE, status: 200, count: 2",
                                  "method: UPDATE, status: 200, count: 3"))
    result = run(wrong, tmp_path)
    assert result.status == "failed"
    assert [c.name for c in result.checks if c.status != "passed"] == \
        ["sip bob->alice UPDATE 200: count"]


TLS_CALL = """
name: tls-call
timeout: 20s
agents:
  bob:
    type: pjsua
    transport: {transport}
    tls: {{cert: cert.pem, key: key.pem}}
    steps:
      - wait: {{event: disconnected, timeout: 5s}}
  alice:
    type: pjsua
    transport: {transport}
    tls: {{cert: cert.pem, key: key.pem}}
    steps:
      - call: {{to: bob}}
      - wait: {{event: media_active, timeout: 5s}}
      - hangup: {{}}
      - wait: {{event: disconnected, timeout: 5s}}
expect:
  - transport: {{agent: bob, protocol: tls}}
"""


@pytest.mark.parametrize("transport", ["tls", "udp"])
def test_transport_tls_is_proven_on_the_wire(tmp_path, tls_files, write_scenario, no_leftovers,
                                             transport):
    result = run(write_scenario(TLS_CALL.format(transport=transport)), tmp_path)
    assert result.error is None, result.error
    verdicts = {c.name: (c.status, c.actual) for c in result.checks}
    port = next(c for c in result.checks).name.split(" on ")[-1] if transport == "tls" else ""
    if transport == "tls":
        handshake = verdicts[f"transport bob: TLS handshake on {port}"]
        assert handshake[0] == "passed" and int(handshake[1].split()[0]) >= 1
        assert verdicts["transport bob: no cleartext SIP"] == ("passed", 0)
    else:       # a plain UDP call can never pass for TLS
        handshake = next(v for n, v in verdicts.items() if "TLS handshake" in n)
        assert handshake == ("failed", "0 handshake / 0 TLS records")
        cleartext = verdicts["transport bob: no cleartext SIP"]
        assert cleartext[0] == "failed" and cleartext[1] >= 4


def test_manual_answer_then_180_rings_once(tmp_path, write_scenario, no_leftovers):
    """answer: {manual: true} sends the 180 itself; an `answer: {code: 180}` step then
    sends nothing more (it used to send a second 180)."""
    path = write_scenario("""
name: ring-once
timeout: 20s
agents:
  bob:
    type: pjsua
    answer: {manual: true}
    steps:
      - wait: {event: incoming, timeout: 5s}
      - answer: {code: 180}
      - sleep: 200ms
      - answer: {code: 200}
      - wait: {event: disconnected, timeout: 5s}
  alice:
    type: pjsua
    steps:
      - call: {to: bob}
      - wait: {event: answered, timeout: 5s}
      - hangup: {}
      - wait: {event: disconnected, timeout: 5s}
expect:
  - sip: {from: bob, to: alice, method: INVITE, status: 180, count: 1}
""")
    result = run(path, tmp_path)
    assert result.status == "passed", [(c.name, c.actual) for c in result.checks]
    assert [m["status"] for m in wire_messages(result) if m["status"] == 180] == [180]


def test_session_timer_refresh_is_observed(tmp_path, write_scenario, no_leftovers):
    """RFC 4028 with the smallest interval PJSIP allows (90 s): the refresher sends its
    refresh at half of it, on the wire a second INVITE or UPDATE carrying
    Session-Expires. Slow by nature (about 50 s)."""
    path = write_scenario("""
name: session-refresh
timeout: 80s
agents:
  bob:
    type: pjsua
    session_timer: {use: optional}
    steps:
      - wait: {event: disconnected, timeout: 70s}
  alice:
    type: pjsua
    session_timer: {use: required, expires: 90s}
    steps:
      - call: {to: bob}
      - wait: {event: answered, timeout: 5s}
      - sleep: 50s
      - hangup: {}
      - wait: {event: disconnected, timeout: 5s}
expect:
  - call: {from: alice, to: bob, answered: true, min_duration: 45s}
""")
    result = run(path, tmp_path)
    assert result.status == "passed", (result.error, [(c.name, c.actual) for c in result.checks])
    requests = [m for m in wire_messages(result) if m["status"] is None
                and m["method"] in ("INVITE", "UPDATE") and "Session-Expires:" in m["raw"]]
    assert len(requests) >= 2, [m["summary"] for m in requests]
    first, refresh = requests[0], requests[1]
    assert refresh["time"] - first["time"] >= 40      # the timer's, not an early re-offer
