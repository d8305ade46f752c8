"""Peer parity (issue 21): each scenario of scenarios/parity runs for real (PJSUA,
SIPp, the example Kamailio SUT, tcpdump), passes, shows on the wire what it is
about (read here from the capture itself), and has a negative control: the same
file with an expectation made false fails on exactly that expectation.

A negative control only edits expectations, so it is judged on the real run's own
saved evidence (``sipscen judge``, the path every run's verdict takes) instead of
placing the calls again: transfer-dropped alone waits 32 s for PJSIP's timer F."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from sipscen.engine.judge import judge_folder
from sipscen.engine.run import RunOptions, run_scenario
from sipscen.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
PARITY = ROOT / "scenarios" / "parity"

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(os.geteuid() != 0, reason="capturing on lo needs root")]


def run(path: Path, tmp_path: Path, **variables):
    return run_scenario(load_scenario(path, variables, environ={}),
                        RunOptions(artifacts_root=tmp_path / "art"))


@pytest.fixture(scope="module")
def positive(tmp_path_factory):
    """``positive(NAME)``: the result of scenarios/parity/NAME.yaml, run once."""
    runs: dict = {}

    def get(name: str):
        if name not in runs:
            runs[name] = run(PARITY / f"{name}.yaml", tmp_path_factory.mktemp(name))
        return runs[name]
    return get


def wire_messages(result) -> list[dict]:
    return sorted((m for c in result.wire.get("calls", []) for m in c["messages"]),
                  key=lambda m: m["time"])


def requests(result, method: str) -> list[dict]:
    return [m for m in wire_messages(result) if m["method"] == method and m["status"] is None]


def header(raw: str, name: str) -> list[str]:
    return [line.split(":", 1)[1].strip() for line in raw.splitlines()
            if line.lower().startswith(name.lower() + ":")]


def failed(result) -> list[str]:
    return [c.name for c in result.checks if c.status != "passed"]


@pytest.fixture
def negative(tmp_path):
    """``negative(NAME, (old, new), ...)``: scenarios/parity/NAME.yaml with the edits
    applied, written in ``tmp_path`` (its shared pieces and the SUT's files named by
    absolute path, so they resolve from there)."""
    def make(name: str, *edits: tuple[str, str]) -> Path:
        text = (PARITY / f"{name}.yaml").read_text()
        for old, new in edits:
            assert old in text, f"{old!r} not in {name}.yaml"
            text = text.replace(old, new)
        text = text.replace("../lib/", f"{ROOT}/scenarios/lib/")
        text = text.replace("${file_dir}/../../", f"{ROOT}/")
        text = text.replace("../../examples/", f"{ROOT}/examples/")
        path = tmp_path / f"{name}-negative.yaml"
        path.write_text(text)
        return path
    return make


# -- what each scenario shows on the wire ------------------------------------------------

def _wire_request_uri(result):
    invites = requests(result, "INVITE")
    uris = [m["raw"].split(" ")[1] for m in invites]
    assert uris[0].startswith("sip:004412345@") and uris[1].startswith("sip:+4412345@127.0.0.1:")


def _wire_outbound_proxy(result):
    first, relayed = requests(result, "INVITE")[:2]
    assert header(first["raw"], "Route") and header(first["raw"], "Route")[0].endswith(";lr>")
    bob = first["raw"].split(" ")[1]
    assert bob.startswith("sip:bob@127.0.0.1:") and relayed["raw"].split(" ")[1] == bob
    # alice sent it to the proxy (which relayed it from its own port), not to bob
    assert first["dst"] == relayed["src"] and not bob.endswith(first["dst"].split(":")[1])


def _wire_caller_id(result):
    first = requests(result, "INVITE")[0]["raw"]
    assert header(first, "From")[0].startswith('"Alice" <sip:+4412345@127.0.0.1>')
    assert header(first, "P-Asserted-Identity") == ["<sip:+4412345@127.0.0.1>"]
    assert header(first, "P-Preferred-Identity") == ["<sip:alice@127.0.0.1>"]
    assert first.split(" ")[1].startswith("sip:bob@127.0.0.1:")


def _wire_answer_details(result):
    statuses = {(m["status"], m["raw"].split("\r\n", 1)[0]) for m in wire_messages(result)
                if m["status"] and m["status"] >= 400}
    lines = {line for _, line in statuses}
    assert "SIP/2.0 480 Gone Fishing" in lines and "SIP/2.0 486 Busy In A Meeting" in lines
    silent = [m for m in requests(result, "INVITE") if m["raw"].startswith("INVITE sip:9000@")]
    timeout = [m for m in wire_messages(result) if m["status"] == 408]
    assert silent and timeout
    # the SUT's fr_timer (5 s) ended it, not an answer: about 5 s after alice's INVITE
    assert 4.5 <= timeout[0]["time"] - silent[0]["time"] <= 8.0


def _wire_contact(result):
    registers = requests(result, "REGISTER")
    alice = [m for m in registers if "sip:alice@" in m["raw"]]
    bob = [m for m in registers if "bob-desk-7" in m["raw"]]
    assert alice and all(len(header(m["raw"], "Contact")) == 1 for m in alice + bob)
    assert ';reg-id=2;+sip.instance="<urn:uuid:00000000-0000-1000-8000-00a1b2c3d4e5>"' in \
        header(alice[0]["raw"], "Contact")[0]
    assert "Supported: outbound" in alice[0]["raw"] or "outbound" in \
        ",".join(header(alice[0]["raw"], "Supported"))


def _wire_late_offer(result):
    for invite in requests(result, "INVITE"):
        assert "m=audio" not in invite["raw"]          # every INVITE without SDP
    oks = [m for m in wire_messages(result) if m["method"] == "INVITE" and m["status"] == 200]
    acks = requests(result, "ACK")
    assert all("m=audio" in m["raw"] for m in oks) and len(oks) == 4     # two calls, two hops
    assert all("m=audio" in m["raw"] for m in acks) and len(acks) == 4


def _wire_repeat(result):
    numbers = [header(m["raw"], "X-Iteration")[0] for m in requests(result, "INVITE")
               if header(m["raw"], "X-Iteration")]
    assert numbers == ["1", "1", "2", "2", "3", "3", "4", "4", "5", "5"]   # both hops each


def _wire_periodic_reinvite(result):
    invites = requests(result, "INVITE")
    assert len(invites) == 4
    gaps = [b["time"] - a["time"] for a, b in zip(invites[1:], invites[2:])]
    assert all(0.9 <= g <= 3.0 for g in gaps), gaps          # interval 1s (+ the exchange)
    # the agent's counters per media session and for the whole call (the sum)
    call = result.agents["bob"]["calls"][0]
    sessions = call["rtp_sessions"]
    assert sessions and all(s["codec"] for s in sessions)
    assert call["rtp"]["rx_packets"] == sum(s["rx_packets"] for s in sessions) > 100



def _wire_digest_auth(result):
    msgs = wire_messages(result)
    ids = {header(m["raw"], "Call-ID")[0] for m in msgs if m["method"] == "OPTIONS"
           and m["raw"].startswith("OPTIONS sip:bob@")}
    options = [m for m in msgs if m["method"] == "OPTIONS"
               and header(m["raw"], "Call-ID")[0] in ids]
    # OPTIONS (no credentials) -> 407 -> OPTIONS with Proxy-Authorization -> 200
    seq = [("R" if m["status"] is None else m["status"],
            bool(header(m["raw"], "Proxy-Authorization"))) for m in options
           if m["status"] is None or m["status"] >= 200]
    assert seq[:2] == [("R", False), (407, False)] and ("R", True) in seq and (200, False) in seq
    challenge = next(m for m in options if m["status"] == 407)
    answer = next(m for m in options if header(m["raw"], "Proxy-Authorization"))
    nonce = re.search(r'nonce="([^"]+)"', header(challenge["raw"], "Proxy-Authenticate")[0])
    assert nonce and nonce.group(1) in header(answer["raw"], "Proxy-Authorization")[0]
    mallory = [m for m in msgs if m["method"] == "MESSAGE" and m["status"] == 407
               and "mallory" in (header(m["raw"], "From") or [""])[0]]
    assert len(mallory) == 2                 # challenged, answered wrongly, challenged again


def _wire_transfer_variants(result):
    refer = requests(result, "REFER")[0]["raw"]
    assert header(refer, "Referred-By") == ["<sip:bob@127.0.0.1>"]
    assert header(refer, "X-Transfer-Reason") == ["after-hours"]
    notify = requests(result, "NOTIFY")
    assert notify[-1]["raw"].split("\r\n\r\n", 1)[1].startswith("SIP/2.0 603")
    assert header(notify[-1]["raw"], "Subscription-State")[0].startswith("terminated")
    # what alice's agent saw of the REFER: the same headers
    seen = next(t for t in result.agents["alice"]["transfers"] if t["kind"] == "transfer_request")
    assert seen["headers"]["X-Transfer-Reason"] == "after-hours"
    assert seen["headers"]["Referred-By"] == "<sip:bob@127.0.0.1>"


def _wire_transfer_dropped(result):
    refers = requests(result, "REFER")
    assert refers and all(m["raw"].split(" ")[1] for m in refers)
    bye = requests(result, "BYE")[0]
    # the REFER went unanswered for PJSIP's timer F (32 s), then the dialog ended
    assert 31.0 <= bye["time"] - refers[0]["time"] <= 40.0
    assert not [m for m in wire_messages(result) if m["method"] == "REFER" and m["status"]]


def _wire_tone_driven(result):
    msgs = wire_messages(result)
    early = next(m for m in msgs if m["status"] == 183)
    cancel = requests(result, "CANCEL")[0]
    assert early["time"] < cancel["time"] and not [m for m in msgs if m["status"] == 200
                                                   and m["method"] == "INVITE"]
    # RTP from bob (ringback) reached alice before her CANCEL
    streams = [s for s in result.wire["rtp_streams"] if s["packets"] > 10]
    assert streams
    heard = result.agents["alice"]["tones_heard"]
    played = next(e["t"] for e in result.events if e["kind"] == "step" and e["agent"] == "bob"
                  and e.get("step") == "play" and e.get("status") == "started")
    assert len(heard) == 1 and heard[0]["frequencies"] == [440.0, 480.0]
    # the tone began when bob played it, and was heard 0.3 s (min_duration) or more later
    assert played - 0.05 <= heard[0]["onset_at"] <= played + 0.5, (played, heard)
    assert heard[0]["heard_at"] - heard[0]["onset_at"] >= 0.3


def _wire_ipv6(result):
    msgs = wire_messages(result)
    assert msgs and all(m["src"].startswith("[::1]:") and m["dst"].startswith("[::1]:")
                        for m in msgs)
    rtp = [s for s in result.wire["rtp_streams"] if s["packets"] >= 20]
    assert len(rtp) >= 2 and all(s["src"].startswith("[::1]:") for s in rtp)
    invite = requests(result, "INVITE")[0]["raw"]
    assert "c=IN IP6 ::1" in invite


def _wire_tls_options(result):
    # alice's signalling is TLS only: no cleartext INVITE from her; bob's leg is UDP
    assert [m for m in requests(result, "INVITE")]          # the relayed, cleartext leg
    answers = {e["agent"]: e.get("reason") or "" for e in result.events
               if e["kind"] == "request_answered"}
    assert "certificate verification" in answers["mallory"].lower(), answers
    assert "eof" in answers["eve"].lower() or "end of file" in answers["eve"].lower(), answers
    logs = [Path(v) for v in result.artifacts.values() if str(v).endswith("sut.stderr.log")]
    assert logs and "certificate verify failed" in logs[0].read_text()   # the SUT refused eve


def _wire_ice_turn(result):
    stun = result.wire["stun"]
    assert sum(s["allocations"] for s in stun) >= 2           # each agent's relay
    invite = requests(result, "INVITE")[0]["raw"]
    relays = re.findall(r"a=candidate:\S+ 1 UDP \d+ (127\.0\.0\.1) (\d+) typ relay", invite)
    assert relays and "typ host" not in invite
    # RTP flowed between the relayed addresses (the TURN server's ports), not agent to agent
    ports = {f"{ip}:{port}" for ip, port in relays}
    assert any(st["src"] in ports or st["dst"] in ports for st in result.wire["rtp_streams"]
               if st["packets"] > 20)
    checks = [s for s in stun if s["requests"] and s["successes"]]
    assert len(checks) >= 2


def _wire_codec_exact(result):
    pts = {(s["src"], s["dst"]): s["payload_types"] for s in result.wire["rtp_streams"]
           if s["packets"] > 10}
    assert sorted(map(tuple, pts.values())) == [(0,), (0,), (8,), (8,)]   # two calls, one codec each


WIRE = {"request-uri": _wire_request_uri, "codec-exact": _wire_codec_exact, "ice-turn": _wire_ice_turn, "tls-options": _wire_tls_options, "ipv6": _wire_ipv6, "tone-driven": _wire_tone_driven, "transfer-variants": _wire_transfer_variants,
        "transfer-dropped": _wire_transfer_dropped, "digest-auth": _wire_digest_auth, "outbound-proxy": _wire_outbound_proxy,
        "caller-id": _wire_caller_id, "answer-details": _wire_answer_details,
        "contact": _wire_contact, "late-offer": _wire_late_offer, "repeat": _wire_repeat,
        "periodic-reinvite": _wire_periodic_reinvite}

# the negative control of each: (edits, the checks that must fail)
NEGATIVE = {
    "codec-exact": (
        [("codec: {between: [carol, bob], codec: PCMU, only: true, after: second}",
          "codec: {between: [alice, bob], codec: PCMA, only: true, after: second}")],
        {"codec at alice [after second]", "codec at bob [after second]",
         "codec alice<->bob (wire) [after second]"}),
    "ice-turn": (
        [("ice: {between: [alice, bob], candidates: [relay], server: turn}",
          "ice: {between: [alice, bob], candidates: [host], server: turn}")],
        {"ice alice: candidates as it reported", "ice alice: candidates on the wire",
         "ice bob: candidates as it reported", "ice bob: candidates on the wire"}),
    "tls-options": (
        [("  - transport: {agent: alice, protocol: tls}", "  - transport: {agent: bob, protocol: tls}")],
        None),
    "ipv6": (
        [("method: INVITE, request_uri: '^sip:9000@\\[::1\\]:\\d+$', count: 2}",
          "method: INVITE, request_uri: '^sip:9000@127\\.0\\.0\\.1:\\d+$', count: 2}")],
        {"sip uac->sut INVITE R-URI~/^sip:9000@127\\.0\\.0\\.1:\\d+$/: count"}),
    "tone-driven": (
        [("no_tone: {frequency: 1000}", "no_tone: {frequencies: [440, 480]}")],
        {"audio bob->alice (at alice)", "audio bob->alice (wire)"}),
    "transfer-variants": (
        [("body: '^SIP/2\\.0 603'", "body: '^SIP/2\\.0 200'")],
        {"sip alice->bob NOTIFY Subscription-State~/^terminated/ body~/^SIP/2\\.0 200/: count"}),
    "transfer-dropped": (
        [("  - sip: {from: sut, to: alice, method: REFER, count: 0}",
          "  - sip: {from: sut, to: alice, method: REFER, count: 1}")],
        {"sip sut->alice REFER: count"}),
    "digest-auth": (
        [("  - sip: {from: sut, to: bob, method: MESSAGE, body: \"mallory\", count: 0}",
          "  - sip: {from: sut, to: bob, method: MESSAGE, body: \"mallory\", count: 1}")],
        {"sip sut->bob MESSAGE body~/mallory/: count"}),
    "request-uri": (
        [(r"request_uri: '^sip:\+4412345@127\.0\.0\.1:\d+', count: 1",
          r"request_uri: '^sip:004412345@127\.0\.0\.1:\d+', count: 1"),
         (r"incoming: {agent: bob, request_uri: '^sip:\+4412345@",
          r"incoming: {agent: bob, request_uri: '^sip:004412345@")],
        {"sip sut->bob INVITE R-URI~/^sip:004412345@127\\.0\\.0\\.1:\\d+/: count",
         "incoming at bob: as bob saw it", "incoming at bob: on the wire"}),
    "outbound-proxy": (
        [("  - sip: {from: alice, to: bob, count: 0}", "  - sip: {from: alice, to: bob, count: 1}")],
        {"sip alice->bob any request: count"}),
    "caller-id": (
        [("""P-Preferred-Identity: '^<sip:alice@""", """P-Preferred-Identity: '^<sip:carol@""")],
        {"incoming at bob: as bob saw it", "incoming at bob: on the wire"}),
    "answer-details": (
        [("  - sip: {from: carol, to: alice, status: 480, count: 1}",
          "  - sip: {from: carol, to: alice, status: 480, count: 1, "
          "headers: {Reason: 'x'}}")],
        {"sip carol->alice 480 Reason~/x/: count"}),
    "contact": (
        [("Contact: {all: '^<sip:bob-desk-7@127\\.0\\.0\\.1:\\d+>$', count: 1}",
          "Contact: {all: '^<sip:bob@127\\.0\\.0\\.1:\\d+>$', count: 1}")],
        {"sip bob->sut INVITE 200 every Contact~/^<sip:bob@127\\.0\\.0\\.1:\\d+>$/ "
         "Contact x1: count"}),
    "late-offer": (
        [("method: ACK, call: late, body: '^v=0', count: 1",
          "method: ACK, call: late, body: '^$', count: 1")],
        {"sip alice->sut ACK body~/^$/: count"}),
    "repeat": (
        [("headers: {X-Iteration: '^3$'}, count: 1", "headers: {X-Iteration: '^4$'}, count: 1")],
        {"sip alice->sut INVITE X-Iteration~/^4$/: count"}),
    "periodic-reinvite": (
        [("method: INVITE, count: 4}", "method: INVITE, count: 5}")],
        {"sip alice->bob INVITE: count"}),
}


@pytest.mark.parametrize("name", sorted(WIRE))
def test_parity_scenario_passes_and_shows_on_the_wire(positive, no_leftovers, name):
    result = positive(name)
    assert result.status == "passed", (result.error, [(c.name, c.status, c.actual, c.message)
                                                       for c in result.checks])
    assert any(c.name.startswith("sip ") for c in result.checks), "a wire expectation"
    WIRE[name](result)


@pytest.mark.parametrize("name", sorted(NEGATIVE))
def test_parity_negative_control_fails(positive, negative, name):
    edits, expected = NEGATIVE[name]
    run_folder = positive(name).artifacts["dir"]
    result, _, _ = judge_folder(run_folder, negative(name, *edits))
    assert result.error is None, result.error
    assert result.status == "failed"
    got = set(failed(result))
    if expected is None:       # names that carry ports: the falsified family fails, alone
        assert got and all(n.startswith("transport bob") for n in got), got
        return
    assert got == expected, [(c.name, c.status, c.actual, c.message)
                             for c in result.checks if c.status != "passed"]


def test_every_parity_scenario_has_its_wire_test_and_negative_control():
    names = {p.stem for p in PARITY.glob("*.yaml") if not p.name.startswith(".")}
    assert names == set(WIRE) == set(NEGATIVE)


def test_late_offer_with_srtp_both_ways(tmp_path, no_leftovers, negative):
    """The late offer with SRTP mandatory on both agents: the offer (in the 200) and
    the answer (in the ACK) carry the crypto, each agent reports SRTP active, every
    packet authenticates on the wire."""
    path = negative("late-offer", ("    codecs: [PCMA]\n    account: {registrar: sut",
                                   "    codecs: [PCMA]\n    srtp: {use: mandatory}\n"
                                   "    account: {registrar: sut"),
                    ("expect:\n", "expect:\n  - srtp: {between: [alice, bob]}\n"))
    result = run(path, tmp_path)
    assert result.status == "passed", [(c.name, c.actual, c.message) for c in result.checks]
    acks = requests(result, "ACK")
    assert acks and all("a=crypto:" in m["raw"] and "RTP/SAVP" in m["raw"] for m in acks)
    for agent in ("alice", "bob"):
        assert all(c["srtp"]["active"] for c in result.agents[agent]["calls"])
    offerers = {c["direction"]: c["offerer"] for c in result.agents["bob"]["calls"]}
    assert offerers == {"incoming": "local", "outgoing": "remote"}   # the callee offered


def test_wait_names_the_header_and_value_it_saw(tmp_path, no_leftovers, negative):
    """bob waits for a From alice never sends: the step fails naming the header and
    the value seen, not only 'timed out'."""
    path = negative("caller-id", ("""headers: {From: '^"Alice" <sip:\\+4412345@'}, timeout: 5s""",
                                  """headers: {From: '^"Mallory"'}, timeout: 2s"""))
    result = run(path, tmp_path)
    assert result.status in ("failed", "error")
    text = " ".join([str(result.error or "")] + [c.message for c in result.checks] +
                    [str(e.get("message") or "") for e in result.events
                     if e["kind"] == "step" and e.get("status") == "failed"])
    assert re.search(r"wait for incoming timed out after 2s; \d did not match: From "
                     r"'\"Alice\" <sip:\+4412345@127\.0\.0\.1>;tag=[^']+' does not match "
                     r"'\^\"Mallory\"'", text), text


def test_pjsua_on_ipv6_without_an_ipv6_pjsua2_is_refused_at_its_line(sipscen, write_scenario,
                                                                       monkeypatch):
    monkeypatch.setenv("SIPSCEN_PJSUA_IPV6_PYTHON", "/nonexistent/python")
    path = write_scenario("""
name: v6
agents:
  alice:
    type: pjsua
    address: "::1"
""")
    code, out, err = sipscen("run", path)
    assert code == 2
    assert "the installed pjsua2 is built without IPv6" in out + err
    assert ".venv-ipv6" in out + err


def test_codec_change_on_one_ssrc_is_judged_per_phase_or_inconclusive(tmp_path, no_leftovers,
                                                                      write_scenario):
    """A re-INVITE changes the codec on the same SSRC: the agents judge the phase from
    their own codec turns; the wire needs each payload type's times (by_payload_type):
    with them it passes, without them it is inconclusive, never a pass or a fail."""
    path = write_scenario("""
name: change
timeout: 20s
agents:
  bob:
    type: pjsua
    codecs: [PCMA, PCMU]
    steps:
      - wait: {event: disconnected, timeout: 10s}
  alice:
    type: pjsua
    codecs: [PCMA, PCMU]
    steps:
      - call: {to: bob}
      - wait: {event: media_active, timeout: 5s}
      - sleep: 800ms
      - reinvite: {codecs: [PCMU]}
      - sleep: 300ms
      - sleep: 1s
      - hangup: {}
      - wait: {event: disconnected, timeout: 5s}
expect:
  - codec: {between: [alice, bob], codec: PCMU, only: true, after: {agent: alice, step: 4}}
""")
    result = run(path, tmp_path)
    verdicts = {c.name: c for c in result.checks}
    # (the phase starts once the re-INVITE had 300 ms to switch the media over)
    assert verdicts["codec at alice [after alice step 4]"].status == "passed"
    assert verdicts["codec at bob [after alice step 4]"].status == "passed"
    wire = verdicts["codec alice<->bob (wire) [after alice step 4]"]
    timed = any(s.get("by_payload_type") for s in result.wire["rtp_streams"])
    if timed:
        assert wire.status == "passed", wire
    else:
        assert wire.status == "error" and wire.message.startswith("inconclusive: stream"), wire


def test_max_duration_of_an_unanswered_call_passes_min_duration_fails(tmp_path, no_leftovers,
                                                                      write_scenario):
    path = write_scenario("""
name: unanswered
timeout: 20s
agents:
  bob:
    type: pjsua
    answer: {reject: 486}
  alice:
    type: pjsua
    steps:
      - call: {to: bob}
      - wait: {event: disconnected, timeout: 5s}
expect:
  - call: {from: alice, to: bob, max_duration: 5s}
  - call: {from: alice, to: bob, min_duration: 1s}
""")
    result = run(path, tmp_path)
    verdicts = {c.name: c for c in result.checks}
    assert verdicts["call alice->bob: max duration"].status == "passed"
    assert verdicts["call alice->bob: max duration"].actual == 0.0
    assert verdicts["call alice->bob: min duration"].status == "failed"
    assert verdicts["call alice->bob: min duration"].actual == "never answered"


@pytest.mark.parametrize("piece", ["kamailio-sut-auth", "kamailio-sut-tls", "kamailio-sut-ipv6",
                                   "coturn"])
def test_shared_pieces_work_from_any_folder(sipscen, tmp_path, piece):
    """A piece included from a scenario in another folder (here: tmp_path) names its
    files from its own folder (${file_dir})."""
    path = tmp_path / "deep" / "er" / "s.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(f"""
name: piece
include: [{ROOT}/scenarios/lib/{piece}.yaml]
agents:
  alice: {{type: sipp, scenario: uas}}
""")
    code, out, err = sipscen("validate", path)
    assert code == 0, out + err


def test_ipv6_piece_registers_a_pjsua_agent(tmp_path, no_leftovers):
    path = tmp_path / "v6.yaml"
    path.write_text(f"""
name: v6-register
timeout: 15s
include: [{ROOT}/scenarios/lib/kamailio-sut-ipv6.yaml]
agents:
  alice:
    type: pjsua
    address: "::1"
    account: {{registrar: sut, password: sipscen-test}}
    steps:
      - unregister: {{}}
      - wait: {{event: unregistered, timeout: 5s}}
expect:
  - sip: {{from: sut, to: alice, method: REGISTER, status: 200, count: 2}}
""")
    result = run(path, tmp_path)
    assert result.status == "passed", (result.error, [(c.name, c.actual) for c in result.checks])
    assert all(m["src"].startswith("[::1]") for m in wire_messages(result))
