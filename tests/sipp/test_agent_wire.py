"""The SIPp agent driven directly (no loader, no engine) against a Python UDP peer.

The peer records every datagram, so these tests see the exact bytes SIPp put on
the loopback, and answers what the test tells it to.
"""
from __future__ import annotations

import re
import socket
import threading

import pytest

from sipscen.core.errors import InfrastructureError, ScenarioError, StepFailed

from .conftest import needs_sipp

pytestmark = [pytest.mark.integration, needs_sipp]


class Peer:
    """A UDP SIP peer on the loopback: records requests, answers from a script."""

    def __init__(self, answers: list[int | None]):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.answers = list(answers)
        self.received: list[bytes] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                data, addr = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            self.received.append(data)
            code = self.answers.pop(0) if self.answers else 200
            if code is None:
                continue
            head = data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
            copy = [h for h in head[1:] if re.match(rb"(?i)(via|from|to|call-id|cseq):", h)]
            reply = b"\r\n".join([f"SIP/2.0 {code} Peer Says".encode()] + copy +
                                 [b"Server: test-peer", b"Content-Length: 0", b"", b""])
            self.sock.sendto(reply, addr)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(2)
        self.sock.close()


@pytest.fixture
def peer_factory():
    peers = []

    def make(answers):
        p = Peer(answers)
        peers.append(p)
        return p
    yield make
    for p in peers:
        p.close()


def drive(agent) -> dict:
    agent.start()
    agent.ready(5)
    agent.run()
    agent.stop()
    return agent.facts()


def test_inline_bytes_go_out_exactly_and_answers_are_judged(rig, peer_factory):
    peer = peer_factory([400, 200])
    send = ("OPTIONS sip:[remote_ip]:[remote_port] SIP/2.0\n"
            "Via: SIP/2.0/UDP [local_ip]:[local_port];branch=[branch]\n"
            "From: <sip:a@[local_ip]>;tag=1\n"
            "To: <sip:[remote_ip]:[remote_port]>\n"
            "Call-ID: [call_id]\n"
            "CSeq: 1 OPTIONS\n"
            "Subject:\\x20 lead, NUL\\x00, ESC\\x1b, high\\xff, bare LF\\n"
            "\\x20folded continuation \\x20\n"
            "Content-Length: 6\n"
            "\n"
            "body\\r\\n\n")
    agent = rig.agent("attacker", target=f"127.0.0.1:{peer.port}",
                      messages=[{"send": send, "expect": 400, "timeout": "2s"}])
    facts = drive(agent)
    first = peer.received[0]
    assert b"Subject:  lead, NUL\x00, ESC\x1b, high\xff, bare LF\n folded continuation  \r\n" in first
    assert first.endswith(b"Content-Length: 6\r\n\r\nbody\r\n")
    assert re.match(rb"OPTIONS sip:127\.0\.0\.1:\d+ SIP/2\.0\r\nVia: SIP/2\.0/UDP 127\.0\.0\.1:", first)
    # the liveness probe followed, and both answers are in the facts
    assert peer.received[1].startswith(b"OPTIONS ") and b"CSeq: 99999 OPTIONS" in peer.received[1]
    responses = facts["responses"]
    assert [r["received"]["status"] for r in responses] == [400, 200]
    assert responses[0]["expected"] == {"status": [400]} and responses[1]["probe"] is True
    assert responses[0]["received"]["headers"]["Server"] == "test-peer"
    assert facts["stats"]["attempted"] == 1 and facts["type"] == "sipp"


def test_no_answer_is_recorded_as_nothing_and_a_silent_sut_fails_the_probe(rig, peer_factory):
    peer = peer_factory([None, None])
    agent = rig.agent("attacker", target=f"127.0.0.1:{peer.port}", messages=[
        {"send": "OPTIONS sip:[remote_ip] SIP/2.0\nCall-ID: [call_id]\nCSeq: 1 OPTIONS\n",
         "expect": {"nothing": "300ms"}}])
    agent.start()
    with pytest.raises(StepFailed, match="did not answer the liveness probe"):
        agent.run()
    agent.stop()
    facts = agent.facts()
    assert len(peer.received) == 2
    assert [r["received"] for r in facts["responses"]] == [None, None]


def test_uac_that_makes_no_call_fails_although_sipp_exits_quietly(rig, peer_factory):
    peer = peer_factory([])
    # one call per minute, stopped after 2 s: SIPp makes no call at all
    agent = rig.agent("caller", scenario="uac", target=f"127.0.0.1:{peer.port}",
                      rate=1, rate_period="60s", time_limit="2s")
    agent.start()
    with pytest.raises(StepFailed, match="made no call"):
        agent.run()
    agent.stop()
    assert agent.facts()["stats"]["attempted"] == 0 and peer.received == []


def test_port_in_use_is_an_infrastructure_error(rig):
    busy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    busy.bind(("127.0.0.1", 0))
    try:
        agent = rig.agent("uas", scenario="uas", port=busy.getsockname()[1])
        agent.start()
        with pytest.raises(InfrastructureError, match="could not bind") as info:
            agent.ready(5)
        assert info.value.status == 3
    finally:
        busy.close()


def test_missing_sipp_binary_is_an_infrastructure_error(rig, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    agent = rig.agent("uas", scenario="uas")
    with pytest.raises(InfrastructureError, match="'sipp' not found") as info:
        agent.start()
    assert info.value.status == 3


def test_bad_user_xml_is_a_scenario_error_before_sipp_runs(rig, tmp_path):
    xml = tmp_path / "broken.xml"
    xml.write_text('<scenario name="b">\n  <send><![CDATA[OPTIONS x SIP/2.0]]>\n</scenario>\n')
    agent = rig.agent("caller", scenario=str(xml), target="127.0.0.1:5060")
    with pytest.raises(ScenarioError) as info:
        agent.start()
    assert info.value.status == 2
    assert str(info.value).startswith(f"{xml}:3:")
    assert agent.proc is None


def test_non_loopback_target_is_refused(rig):
    agent = rig.agent("caller", scenario="uac", target="192.0.2.7:5060")
    with pytest.raises(ScenarioError, match="not a loopback address"):
        agent.start()


@pytest.mark.parametrize("tail", [
    "Content-Length: 0\n",                                  # headers only
    "Content-Length: 0\n\n",                                # headers + explicit empty line
    "Content-Length: 9\n\nv=0\\r\\n\\r\\nx\n",              # body with an inner empty line
    "Content-Length: 7\n\nv=0\\r\\n\\r\\n",                 # body ending with an empty line
    "Content-Length: 9\n\nv=0\\r\\n\\r\\n\\r\\n",           # ... with two
])
def test_message_framing_survives_sipp(rig, peer_factory, tail):
    peer = peer_factory([200, 200])
    send = ("OPTIONS sip:[remote_ip]:[remote_port] SIP/2.0\nVia: SIP/2.0/UDP [local_ip]:[local_port]"
            ";branch=[branch]\nCall-ID: [call_id]\nCSeq: 1 OPTIONS\n" + tail)
    agent = rig.agent("framing", target=f"127.0.0.1:{peer.port}", probe=False,
                      messages=[{"send": send, "timeout": "1s"}])
    drive(agent)
    wire = peer.received[0]
    from sipscen.agents.sipp.inline import decode_message
    expected = decode_message(send)
    if b"\r\n\r\n" not in expected:    # a message without an empty line gets one (documented)
        expected += b"\r\n"
    head = re.sub(rb"127\.0\.0\.1:\d+|z9hG4bK[-\w]+|\d+-\d+@127\.0\.0\.1", b"X", wire)
    want = re.sub(rb"\[remote_ip\]:\[remote_port\]|\[local_ip\]:\[local_port\]|\[branch\]|\[call_id\]",
                  b"X", expected)
    assert head == want
    assert len(peer.received) == 1    # probe: false


def test_extra_args_cannot_point_sipp_off_the_loopback(rig):
    agent = rig.agent("caller", scenario="uac", target="127.0.0.1:5060",
                      extra_args=["-rsa", "192.0.2.9:5060"])
    with pytest.raises(ScenarioError, match="192.0.2.9 is not a loopback address"):
        agent.start()
    ok = rig.agent("caller2", scenario="uac", target="127.0.0.1:5060",
                   extra_args=["-rsa", "127.0.0.2:5060", "-aa"])
    ok.start()
    assert ok.command.argv()[-3:] == ["-rsa", "127.0.0.2:5060", "-aa"]


def test_uac_and_uas_on_ipv6_loopback(tmp_path):
    from sipscen.core.results import PASSED

    from .conftest import run_file
    path = tmp_path / "v6.yaml"
    path.write_text("name: v6\ntimeout: 20s\ncapture: {enabled: false}\nagents:\n"
                    "  uas: {type: sipp, scenario: uas, address: '::1'}\n"
                    "  uac: {type: sipp, scenario: uac, address: '::1', target: uas, calls: 5, rate: 20}\n"
                    "expect:\n  - load: {agent: uac, calls_min: 5, success_rate_min: 100}\n"
                    "  - load: {agent: uas, calls_min: 5}\n")
    result = run_file(path, tmp_path)
    assert result.status == PASSED, (result.error, [c.to_dict() for c in result.failed_checks])
    assert result.agents["uac"]["uri"].startswith("sip:[::1]:")
    assert "-ci 127.0.0.1" in (tmp_path / "artifacts").glob("*/uac/command.txt").__next__().read_text()


def test_a_cancelled_run_stops_sipp_and_returns(rig, peer_factory):
    import time
    peer = peer_factory([None] * 100)
    agent = rig.agent("caller", scenario="uac", target=f"127.0.0.1:{peer.port}",
                      rate=5, time_limit="60s")
    agent.start()
    timer = threading.Timer(1.0, rig.board.cancel)
    timer.start()
    t0 = time.monotonic()
    agent.run()
    elapsed = time.monotonic() - t0
    timer.join()
    assert elapsed < 10, elapsed          # not the 60 s time limit
    assert agent.proc is not None and not agent.proc.running
    assert peer.received and peer.received[0].startswith(b"INVITE ")


UAS_XML = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="answer-486">
  <recv request="INVITE"/>
  <send><![CDATA[
SIP/2.0 486 Busy Here
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0
]]></send>
  <recv request="ACK"/>
</scenario>
"""


def test_user_xml_whose_first_action_is_recv_is_a_uas_started_before_callers(rig, tmp_path):
    xml = tmp_path / "busy.xml"
    xml.write_text(UAS_XML)
    uas = rig.agent("busy", scenario=str(xml))
    caller = rig.agent("caller", scenario="uac", target="busy", calls=3, rate=10)
    uas.start()
    caller.start()
    assert uas.side == "uas" and uas.proc is not None and uas.proc.running
    assert caller.proc is None                # a caller starts only in run()
    uas.ready(5)
    caller.run()
    uas.stop()
    s = caller.facts()["stats"]
    assert s["attempted"] == 3 and s["successful"] == 0 and s["failed"] == 3
    assert s["failed_by_reason"] == {"UnexpectedMessage": 3}
    assert uas.facts(refresh=True)["stats"]["successful"] == 3


def test_ramp_rate_increase_up_to_rate_max(rig):
    uas = rig.agent("uas", scenario="uas")
    caller = rig.agent("caller", scenario="uac", target="uas", calls=40, rate=10,
                       rate_increase=20, rate_max=30, limit=50, time_limit="20s")
    uas.start()
    uas.ready(5)
    caller.start()
    argv = " ".join(caller.command.argv())
    assert "-rate_increase 20 -rate_max 30 -no_rate_quit" in argv
    caller.run()
    s = caller.facts()["stats"]
    assert s["attempted"] == 40 and s["successful"] == 40
    # faster than the initial 10 cps would allow (40 calls in well under 4 s)
    assert s["call_rate"] > 10.5, s


def test_each_signal_wait_consumes_one_signal(rig, peer_factory):
    peer = peer_factory([])
    agent = rig.agent("caller", target=f"127.0.0.1:{peer.port}", steps=[
        {"wait": {"signal": "go", "agent": "x", "timeout": "2s"}},
        {"wait": {"signal": "go", "agent": "x", "timeout": "300ms"}}])
    rig.board.post("x", "signal", name="go")
    agent.start()
    with pytest.raises(StepFailed, match="wait for signal 'go' from x timed out after 0.3s") as caught:
        agent.run()
    assert caught.value.location.line == 11
    assert agent.proc is None and peer.received == []      # SIPp never started


def test_a_cancelled_signal_wait_does_not_start_sipp(rig, peer_factory):
    peer = peer_factory([])
    agent = rig.agent("caller", target=f"127.0.0.1:{peer.port}",
                      steps=[{"wait": {"signal": "never", "agent": "x", "timeout": "30s"}}])
    agent.start()
    errors = []

    def run():
        try:
            agent.run()
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(0.3)
    rig.board.cancel()
    thread.join(5)
    assert not thread.is_alive() and errors == []
    assert agent.proc is None and rig.board.events("caller", "sipp_started") == []
    assert peer.received == []


def test_the_effective_timeout_bounds_sipp(rig, peer_factory):
    """``--timeout`` (AgentContext.timeout) wins over the scenario's own timeout (20s here)."""
    peer = peer_factory([])
    caller = rig.agent("caller", target=f"127.0.0.1:{peer.port}")
    server = rig.agent("server", scenario="uas")
    for agent in (caller, server):
        agent.ctx.timeout = 7.0
        agent.start()
    assert caller.command.load.time_limit == 5.0           # the scenario timeout less 2s
    assert server.command.load.time_limit == 12.0          # the scenario timeout plus 5s
    assert "-timeout" in server.command.argv() and "12s" in server.command.argv()


def test_a_serving_sipp_posts_its_signal_steps_in_order(rig):
    """The UAS runs its steps through the timeline while it serves: its signals
    reach the board (a wait on them used to time out), after its sleep."""
    uas = rig.agent("uas", [{"sleep": "200ms"}, {"signal": "serving"}], scenario="uas")
    uas.start()
    uas.ready(5)
    started = rig.board.now()
    uas.run()
    signals = [e for e in rig.board.events("uas", "signal")]
    assert [e.data["name"] for e in signals] == ["serving"]
    assert signals[0].t - started >= 0.2
    assert uas.proc is not None and uas.proc.running
