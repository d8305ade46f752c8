"""Pure parts of the SIPp agent: byte escapes, generated XML, expectations, statistics.

No process here; the bytes these produce are checked on the wire in
test_agent_wire.py.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from sipscen.agents.sipp import inline, stats
from sipscen.language import inline_expect
from sipscen.core.network import require_loopback
from sipscen.agents.sipp.command import LoadSettings, SippCommand
from sipscen.agents.sipp.xmlfile import check_sipp_xml
from sipscen.core.errors import ScenarioError


def test_yaml_lines_become_crlf_and_escapes_exact_bytes():
    text = "OPTIONS sip:x SIP/2.0\nSubject: a\\x00b\\x01\\tc\\\\d\nX: bare\\n\nEnd: \\r\\n\n"
    assert inline.decode_message(text) == (
        b"OPTIONS sip:x SIP/2.0\r\nSubject: a\x00b\x01\tc\\d\r\nX: bare\nEnd: \r\n")


def test_real_crlf_from_a_double_quoted_yaml_string_is_not_doubled():
    assert inline.decode_message("A\r\nB\r\n") == b"A\r\nB\r\n"


def test_non_latin1_text_is_rejected_with_the_message_path():
    with pytest.raises(ScenarioError, match=r"messages\[0\]\.send.*latin-1"):
        inline.parse_messages({"messages": ["OPTIONS sip:x SIP/2.0\nSubject: \u20ac\n"]},
                              path="agents.a")


def test_sipp_text_protects_edge_blanks_backslashes_and_cdata_end():
    data = b" lead\r\ntrail \r\nback\\slash ]]> end\r\n\r\n"
    text = inline.sipp_text(data)
    assert text.splitlines() == ["\\x20lead", "trail\\x20", "back\\x5cslash ]]\\x3e end"]


def test_first_line_must_be_a_request():
    with pytest.raises(ScenarioError, match="method and a space"):
        inline.parse_messages({"messages": [{"send": "SIP/2.0 200 OK\n"}]}, path="agents.a")


@pytest.mark.parametrize("value, normalised", [
    (400, {"status": [400]}),
    ("4xx", {"class": "4xx"}),
    ("nothing", {"nothing": 2.0}),
    ({"status": [401, 403]}, {"status": [401, 403]}),
    ({"nothing": "500ms"}, {"nothing": 0.5}),
    ({"status": 200, "header": {"Contact": "alice"}},
     {"status": [200], "headers": {"Contact": "alice"}}),
    (None, {"any": True}),
])
def test_expectation_shorthands(value, normalised):
    assert inline_expect.normalise_expect(value, "x") == normalised


@pytest.mark.parametrize("value, message", [
    ({"status": 99}, "status code"),
    ({"status": "4xy"}, "status code"),
    ({"header": {"Via": "("}}, "bad regular expression"),
    ({"status": 400, "nothing": "1s"}, "cannot be combined"),
    ({"colour": "red"}, "unknown key"),
])
def test_bad_expectations_are_scenario_errors(value, message):
    with pytest.raises(ScenarioError, match=message):
        inline_expect.normalise_expect(value, "agents.a.messages[0].expect")


def test_judge_status_class_header_nothing():
    got = {"status": 401, "reason": "Unauthorized",
           "headers": {"WWW-Authenticate": 'Digest realm="r", nonce="n"'}}
    assert inline_expect.judge({"status": [401]}, got) == (True, "401 Unauthorized")
    assert inline_expect.judge({"class": "4xx"}, got)[0]
    assert not inline_expect.judge({"class": "2xx"}, got)[0]
    ok, actual = inline_expect.judge({"status": [401], "headers": {"www-authenticate": "realm=\"x\""}}, got)
    assert not ok and 'realm="r"' in actual
    assert inline_expect.judge({"nothing": 1.0}, None) == (True, "nothing")
    assert inline_expect.judge({"nothing": 1.0}, got) == (False, "401 Unauthorized")
    assert inline_expect.judge({"any": True}, None) == (False, "nothing")
    assert inline_expect.judge({"any": True}, got, was_sent=False)[0] is False


def test_generated_xml_is_well_formed_waits_for_answers_and_ends_with_the_probe(tmp_path):
    msgs = inline.parse_messages({"messages": [
        {"send": "OPTIONS sip:[remote_ip] SIP/2.0\nCall-ID: [call_id]\n", "expect": 599,
         "timeout": "300ms"}]}, path="agents.a")
    assert [m.probe for m in msgs] == [False, True]
    xml = inline.build_xml(msgs)
    root = ET.fromstring(xml.encode("latin-1"))
    sends = root.findall("send")
    assert len(sends) == 2 and "[call_id]" in sends[0].text
    recvs = root.findall("recv")
    # the message's own unusual code is waited for too; 401/407 store the challenge
    assert any(r.get("response") == "599" for r in recvs)
    assert all(r.get("auth") == "true" for r in recvs if r.get("response") in ("401", "407"))
    assert recvs[0].get("timeout") == "300"
    # SIPp needs one mandatory recv per run of optional ones
    assert sum(1 for r in recvs if r.get("optional") != "true") == 2
    path = tmp_path / "gen.xml"
    path.write_text(xml, encoding="latin-1")
    assert check_sipp_xml(path).side == "uac"


def test_too_many_messages_for_sipp_is_a_scenario_error():
    big = {"messages": [{"send": "OPTIONS sip:x SIP/2.0\nSubject: " + "y" * 4000 + "\n"}] * 30}
    with pytest.raises(ScenarioError, match="64 KiB"):
        inline.build_xml(inline.parse_messages(big, path="agents.a"), path="agents.a")


def test_answers_are_tied_to_messages_by_branch_then_by_order():
    log = [
        {"dir": "sent", "text": "OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=b1\r\n\r\n"},
        {"dir": "sent", "text": "OPTIONS sip:x SIP/2.0\r\nCSeq: 2 OPTIONS\r\n\r\n"},
        {"dir": "received", "text": "SIP/2.0 400 Bad\r\nVia: SIP/2.0/UDP h;branch=b1\r\n\r\n"},
        {"dir": "received", "text": "SIP/2.0 100 Trying\r\nCSeq: 2 OPTIONS\r\n\r\n"},
        {"dir": "received", "text": "SIP/2.0 404 Not Found\r\nCSeq: 2 OPTIONS\r\n  folded\r\n\r\n"},
    ]
    msgs = [inline.InlineMessage(0, b"OPTIONS a SIP/2.0\r\n", {"status": [400]}, 1.0),
            inline.InlineMessage(1, b"OPTIONS b SIP/2.0\r\n", {"status": [404]}, 1.0),
            inline.InlineMessage(2, b"OPTIONS c SIP/2.0\r\n", {"any": True}, 1.0, probe=True)]
    out = inline.match_responses(msgs, log)
    assert out[0]["received"]["status"] == 400
    assert out[1]["received"]["status"] == 404 and out[1]["provisional"] == [100]
    assert out[1]["received"]["headers"]["CSeq"] == "2 OPTIONS folded"
    assert out[2]["was_sent"] is False and out[2]["received"] is None


STAT_HEADER = ("StartTime;ElapsedTime(C);TargetRate;CallRate(C);IncomingCall(C);OutgoingCall(C);"
               "TotalCallCreated;CurrentCall;SuccessfulCall(C);FailedCall(C);"
               "FailedMaxUDPRetrans(C);FailedUnexpectedMessage(C);Retransmissions(C);")


def test_statistics_verdict_uses_the_last_row_and_rtt_percentiles(tmp_path):
    stat = tmp_path / "stat.csv"
    stat.write_text(STAT_HEADER + "\n"
                    "x;00:00:01:000000;50;49.5;0;50;50;3;47;0;0;0;0;\n"
                    "x;00:00:20:004000;50;49.96;0;1000;1000;0;990;10;7;3;12;\n")
    rtt = tmp_path / "uac_1_rtt.csv"
    rtt.write_text("Date_ms;response_time_ms;rtd_no\n" +
                   "".join(f"{i};{i % 100};1\n" for i in range(1, 1001)))
    s = stats.summarise(stat, rtt, 50.0, "uac")
    assert (s["attempted"], s["successful"], s["failed"], s["retransmissions"]) == (1000, 990, 10, 12)
    assert s["failed_by_reason"] == {"MaxUDPRetrans": 7, "UnexpectedMessage": 3}
    assert s["call_rate"] == 49.96 and s["elapsed"] == 20.004
    # nearest rank over 0..99 ten times each: rank 500 -> 49, 950 -> 94, 990 -> 98
    assert s["response_time_ms"]["p50"] == 49 and s["response_time_ms"]["p95"] == 94
    assert s["response_time_ms"]["p99"] == 98 and s["response_time_ms"]["count"] == 1000


def test_missing_statistics_mean_zero_calls(tmp_path):
    s = stats.summarise(tmp_path / "absent.csv", None, None, "uac")
    assert s["available"] is False and s["attempted"] == 0


def test_command_line_is_loopback_foreground_and_traced():
    cmd = SippCommand(binary="/usr/bin/sipp", address="127.0.0.1", port=5070, control_port=5071,
                      media_port=5072, builtin="uac", remote="127.0.0.1:5060", service="9000",
                      load=LoadSettings(rate=50, calls=1000, limit=10, rate_max=80,
                                        rate_increase=10, time_limit=30))
    argv = cmd.argv()
    joined = " ".join(argv)
    for piece in ("-sn uac 127.0.0.1:5060", "-i 127.0.0.1 -p 5070", "-mi 127.0.0.1 -mp 5072",
                  "-cp 5071 -ci 127.0.0.1", "-nostdin", "-s 9000", "-r 50", "-m 1000", "-l 10",
                  "-rate_increase 10", "-rate_max 80", "-timeout 30s", "-trace_stat -stf stat.csv",
                  "-fd 1", "-trace_rtt -rtt_freq 1", "-trace_err", "-trace_counts", "-trace_msg"):
        assert piece in joined, piece
    assert "-bg" not in argv and "-timeout_error" not in argv


@pytest.mark.parametrize("host", ["192.0.2.1", "8.8.8.8", "example.com", "::2"])
def test_only_loopback_targets(host):
    with pytest.raises(ScenarioError, match="loopback"):
        require_loopback(host, "agents.a.target")


def test_bad_sipp_xml_points_at_its_line(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text('<?xml version="1.0"?>\n<scenario name="x">\n  <send>\n</scenario>\n')
    with pytest.raises(ScenarioError) as info:
        check_sipp_xml(bad, "agents.a.scenario")
    assert info.value.location.file == str(bad) and info.value.location.line == 4
    assert info.value.status == 2
    unknown = tmp_path / "unknown.xml"
    unknown.write_text('<scenario>\n <sned/>\n</scenario>\n')
    with pytest.raises(ScenarioError, match="<sned> is not a SIPp scenario element"):
        check_sipp_xml(unknown)
    uas = tmp_path / "uas.xml"
    uas.write_text('<scenario><recv request="INVITE"/><send><![CDATA[x]]></send></scenario>')
    assert check_sipp_xml(uas).side == "uas"


def test_response_check_override_and_a_nothing_window_longer_than_the_wait():
    from pathlib import Path

    from sipscen.checks.context import CheckContext
    from sipscen.checks.response import check_response
    from sipscen.core.errors import Location
    from sipscen.core.model import Expectation, Scenario

    def Ctx():
        return CheckContext(Scenario(name="t", file=Path("f.yaml")), FACTS, None)

    FACTS = {"a": {"type": "sipp", "responses": [
            {"index": 0, "probe": False, "sent": "OPTIONS x SIP/2.0", "was_sent": True,
             "expected": {"status": [400]}, "timeout": 1.0, "received": None},
            {"index": 1, "probe": True, "sent": "OPTIONS y SIP/2.0", "was_sent": True,
             "expected": {"any": True}, "timeout": 2.0,
             "received": {"status": 200, "reason": "OK", "headers": {}}}]}}

    def exp(**params):
        return Expectation("response", {"agent": "a", **params}, Location("f.yaml", 9, 5), "expect[0]")

    own = check_response(exp(), Ctx())
    assert [c.status for c in own] == ["failed", "passed"]
    assert own[0].expected == "400" and own[0].actual == "nothing"
    assert own[0].location == "f.yaml:9:5"
    short = check_response(exp(message=0, nothing="1s"), Ctx())
    assert [c.status for c in short] == ["passed"]
    long = check_response(exp(message=0, nothing="5s"), Ctx())
    assert long[0].status == "failed" and "within 1s only" in long[0].actual
    missing = check_response(exp(message=7), Ctx())
    assert missing[0].status == "failed" and "no message 7" in missing[0].message
    assert check_response(Expectation("response", {"agent": "zz"}, Location("f", 1, 1), "e"),
                          Ctx())[0].status == "failed"


def test_expect_nothing_shorthand_waits_the_message_s_own_timeout():
    msgs = inline.parse_messages({"messages": [
        {"send": "OPTIONS sip:x SIP/2.0\n", "expect": "nothing", "timeout": "500ms"},
        {"send": "OPTIONS sip:y SIP/2.0\n", "expect": "nothing", "timeout": "4s"},
        {"send": "OPTIONS sip:z SIP/2.0\n", "expect": "nothing"},
        {"send": "OPTIONS sip:w SIP/2.0\n", "expect": {"nothing": "3s"}, "timeout": "1s"}]},
        probe=False, path="agents.a")
    assert [(m.expected["nothing"], m.timeout) for m in msgs] == [
        (0.5, 0.5), (4.0, 4.0), (inline.DEFAULT_TIMEOUT, inline.DEFAULT_TIMEOUT), (3.0, 3.0)]
