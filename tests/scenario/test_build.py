"""Valid files load into the expected model (defaults, absolute files, includes, parameters)."""
from __future__ import annotations

from pathlib import Path

import pytest

from sipscen.core.errors import Location, ScenarioError
from sipscen.scenario import load_scenario, load_scenarios, validate_file
from sipscen.core.model import CaptureSpec

VALID = Path(__file__).parent / "valid"
ENV = {"BOB_SECRET": "pa55word"}


@pytest.fixture(scope="module")
def full():
    return load_scenario(VALID / "full.yaml", environ=ENV)


def test_metadata(full):
    assert full.name == "full"
    assert full.file == (VALID / "full.yaml").resolve()
    assert full.description == "every section of the language"
    assert full.tags == ("full", "sipp")
    assert full.timeout == 90.0
    assert full.capture == CaptureSpec(enabled=False)
    assert full.secrets == frozenset({"pa55word"})
    assert full.location == Location(str(VALID / "full.yaml"), 1, 1)


def test_agents_keep_their_order_config_and_defaults(full):
    assert [a.name for a in full.agents] == ["bob", "alice", "load", "probe"]
    bob = full.agent("bob")
    assert bob.type == "pjsua" and bob.path == "agents.bob"
    assert bob.location == Location(str(VALID / "full.yaml"), 16, 3)
    assert bob.config["address"] == "127.0.0.2" and bob.config["port"] == 5070
    assert bob.config["codecs"] == ["PCMU", "PCMA"]          # ${CODEC} default
    assert bob.config["account"] == {"user": "bob", "registrar": "sut", "password": "pa55word"}
    assert bob.config["tls"] == {"cert": str(VALID / "media" / "hello.wav"),
                                 "key": str(VALID / "media" / "hello.wav")}
    assert "steps" not in bob.config and "type" not in bob.config
    alice = full.agent("alice")
    assert {k: alice.config[k] for k in ("address", "port", "transport")} == \
        {"address": "127.0.0.1", "port": "auto", "transport": "udp"}


def test_steps(full):
    bob, alice = full.agent("bob"), full.agent("alice")
    assert [(s.kind, dict(s.params)) for s in bob.steps] == [
        ("wait", {"event": "call_state", "state": "CONFIRMED"}),
        ("record", {"file": "out.wav", "duration": "2s"}),     # an output file: not checked
        ("wait", {"signal": "sent", "agent": "alice"}),
        ("hangup", {}),
    ]
    assert [(s.kind, dict(s.params)) for s in alice.steps] == [
        ("call", {"uri": "sip:bob@${bob.hostport};x=$${literal}", "timeout": "3s"}),
        ("play", {"file": str(VALID / "media" / "hello.wav")}),
        ("dtmf", {"digits": "12*#", "method": "sip-info"}),
        ("signal", {"value": "sent"}),
        ("sleep", {"value": 0.5}),
    ]
    assert alice.steps[2].path == "agents.alice.steps[2]"
    assert alice.steps[2].location == Location(str(VALID / "full.yaml"), 35, 9)


def test_sipp_agents_and_services(full):
    load = full.agent("load")
    assert load.type == "sipp"
    assert load.config["scenario"] == str(VALID / "custom_uac.xml")
    assert load.config["rate"] == 5                        # "5" default, coerced
    assert load.config["media"] == {"play_pcap": str(VALID / "media" / "dtmf.pcap"),
                                    "rtp_echo": True}
    probe = full.agent("probe")
    assert probe.config["messages"][0]["send"] == "OPTIONS sip:x SIP/2.0\r\n\r\n"
    assert probe.config["messages"][0]["expect"]["status"] == "2xx"
    (sut,) = full.services
    assert sut.name == "sut" and sut.path == "services.sut"
    assert sut.config["command"][-1] == "${scenario_dir}/kamailio.cfg"
    assert sut.config["ready"] == {"sip_options": True, "timeout": "5s"}
    assert sut.config["address"] == "127.0.0.1"


def test_expectations(full):
    assert [(e.kind, e.path) for e in full.expectations] == [
        ("call", "expect[0]"), ("response", "expect[1]"), ("load", "expect[2]"),
        ("dtmf", "expect[3]")]
    assert dict(full.expectations[3].params) == {
        "from": "alice", "to": "bob", "digits": "12*#", "method": "sip-info", "where": "agent"}


def test_command_line_variables_win_over_defaults():
    scenario = load_scenario(VALID / "full.yaml", {"CODEC": "G722", "RATE": "50"}, environ=ENV)
    assert scenario.agent("bob").config["codecs"] == ["G722", "PCMA"]
    assert scenario.agent("load").config["rate"] == 50


def test_includes_merge_agents_services_defaults_and_settings():
    scenario = load_scenario(VALID / "with_include.yaml", environ={})
    assert [a.name for a in scenario.agents] == ["alice", "bob"]
    assert scenario.includes == ((VALID / "lib" / "sut.yaml").resolve(),)
    bob = scenario.agent("bob")
    assert bob.config["account"]["user"] == "robert"      # the including file's default wins
    assert bob.location.file == str(VALID / "lib" / "sut.yaml")
    assert bob.steps[0].params["file"] == str((VALID / "media" / "hello.wav").resolve())
    assert scenario.services[0].config["port"] == 5080
    assert scenario.timeout == 20.0


def test_include_cycle_and_missing_include(tmp_path: Path):
    (tmp_path / "a.yaml").write_text("name: a\ninclude: [b.yaml]\nagents: {x: {type: pjsua}}\n")
    (tmp_path / "b.yaml").write_text("include: [a.yaml, nope.yaml]\n")
    errors = [str(e) for e in validate_file(tmp_path / "a.yaml")]
    assert errors == [
        f"{tmp_path}/b.yaml:1:11: include[0]: include cycle: a.yaml -> b.yaml -> a.yaml",
        f"{tmp_path}/b.yaml:1:19: include[1]: file not found: 'nope.yaml' "
        "(relative to the file's folder)",
    ]


def test_included_file_may_not_hold_expectations(tmp_path: Path):
    (tmp_path / "lib.yaml").write_text("agents: {x: {type: pjsua}}\nexpect: []\n")
    (tmp_path / "s.yaml").write_text("name: s\ninclude: [lib.yaml]\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(tmp_path / "s.yaml")
    assert str(caught.value) == (f"{tmp_path}/lib.yaml:2:1: expect: unknown key 'expect' in an "
                                 "included file — included files may hold: include, name, "
                                 "description, tags, variables, agents, services, capture, "
                                 "timeout")


def test_parametrize_as_a_matrix():
    scenarios = load_scenarios(VALID / "matrix.yaml", environ={})
    assert [s.name for s in scenarios] == [
        "matrix[codec=PCMA,srtp=disabled]", "matrix[codec=PCMA,srtp=mandatory]",
        "matrix[codec=PCMU,srtp=disabled]", "matrix[codec=PCMU,srtp=mandatory]"]
    assert [(s.agent("bob").config["codecs"], s.agent("bob").config["srtp"]["use"])
            for s in scenarios] == [(["PCMA"], "disabled"), (["PCMA"], "mandatory"),
                                    (["PCMU"], "disabled"), (["PCMU"], "mandatory")]
    assert scenarios[1].parameters == {"codec": "PCMA", "srtp": "mandatory"}


def test_parametrize_as_a_list_of_sets_and_parameters_beat_command_line():
    scenarios = load_scenarios(VALID / "sets.yaml", {"port": "9999"}, environ={})
    assert [(s.name, s.agent("bob").config["port"]) for s in scenarios] == [
        ("sets[port=5070,user=one]", 5070), ("sets[port=5072,user=two]", 5072)]


def test_load_scenario_refuses_a_parametrized_file():
    with pytest.raises(ScenarioError) as caught:
        load_scenario(VALID / "sets.yaml", environ={})
    assert "load_scenarios" in caught.value.message and caught.value.path == "parametrize"


def test_error_in_one_parameter_set_names_the_set(tmp_path: Path):
    path = tmp_path / "p.yaml"
    path.write_text("name: p\nparametrize: {use: [optional, mandatry]}\n"
                    "agents:\n  a: {type: pjsua, srtp: {use: '${use}'}}\n")
    assert [str(e) for e in validate_file(path)] == [
        f"{path}:4:32: agents.a.srtp.use: unknown value 'mandatry' — expected one of: disabled, "
        "optional, mandatory; did you mean 'mandatory'? [with use=mandatry]"]


def test_malformed_parametrize(tmp_path: Path):
    path = tmp_path / "p.yaml"
    path.write_text("name: p\nparametrize: [a, b]\nagents: {a: {type: pjsua}}\n")
    assert [str(e) for e in validate_file(path)] == [
        f"{path}:2:14: parametrize: parametrize is a list of variable sets ({{NAME: value, ...}}) "
        "or a mapping NAME -> list of values"]


def test_passwords_are_secrets_however_given(tmp_path: Path):
    path = tmp_path / "pw.yaml"
    path.write_text("name: pw\nagents:\n  a: {type: pjsua, account: {password: '${PW}'}}\n"
                    "  b: {type: pjsua, account: {password: literal}}\n")
    assert load_scenario(path, {"PW": "from-var"}, environ={}).secrets == \
        frozenset({"from-var", "literal"})


def test_sipp_builtin_names_and_unknown_ones(tmp_path: Path):
    path = tmp_path / "sipp.yaml"
    path.write_text("name: s\nagents:\n  u: {type: sipp, scenario: uas}\n"
                    "  c: {type: sipp, scenario: uacc, target: u}\n")
    (error,) = validate_file(path, environ={})
    assert str(error) == (
        f"{path}:4:29: agents.c.scenario: unknown SIPp scenario 'uacc' — built-ins are: "
        "3pcc-A, 3pcc-B, 3pcc-C-A, 3pcc-C-B, branchc, branchs, regexp, uac, uac_pcap, uas; "
        "or give a path to an XML file")
    path.write_text(path.read_text().replace("uacc", "uac"))
    scenario = load_scenario(path, environ={})
    assert [a.config["scenario"] for a in scenario.agents] == ["uas", "uac"]


def test_parametrize_is_capped_before_any_set_is_built(tmp_path: Path):
    import time

    from sipscen.scenario.includes import MAX_PARAMETER_SETS, parameter_sets

    path = tmp_path / "huge.yaml"
    path.write_text("name: p\nparametrize:\n"
                    + "".join(f"  k{i}: [{', '.join(str(v) for v in range(20))}]\n"
                              for i in range(8))
                    + "agents: {a: {type: pjsua}}\n")
    started = time.monotonic()
    errors = validate_file(path, environ={})
    assert time.monotonic() - started < 5
    assert [str(e) for e in errors] == [
        f"{path}:3:3: parametrize: parametrize gives 20 x 20 x 20 x 20 x 20 x 20 x 20 x 20 = "
        "25600000000 sets; at most 1000 sets are allowed (each set is a scenario run): "
        "split the file or use fewer values"]
    listed = tmp_path / "listed.yaml"
    listed.write_text("name: p\nparametrize:\n"
                      + "".join(f"  - {{n: {i}}}\n" for i in range(MAX_PARAMETER_SETS + 1))
                      + "agents: {a: {type: pjsua}}\n")
    (error,) = validate_file(listed, environ={})
    assert str(error) == (
        f"{listed}:3:3: parametrize: parametrize lists 1001 sets; at most 1000 sets are "
        "allowed (each set is a scenario run): split the file or use fewer values")
    exact = tmp_path / "exact.yaml"
    exact.write_text("name: p\nparametrize:\n  a: [" + ", ".join(map(str, range(10)))
                     + "]\n  b: [" + ", ".join(map(str, range(100))) + "]\n"
                     + "agents: {a: {type: pjsua}}\n")
    assert len(parameter_sets(exact)) == MAX_PARAMETER_SETS
