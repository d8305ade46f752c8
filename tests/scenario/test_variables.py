"""${...} substitution at load time and reference resolution at plan time."""
from __future__ import annotations

from pathlib import Path

import pytest

from sipscen.core.contact import Contact
from sipscen.core.errors import Location, ScenarioError
from sipscen.scenario.loader import load_yaml
from sipscen.scenario.variables import resolve_references, substitute


def run(text: str, given=None, environ=None):
    tree = load_yaml(text, "v.yaml")
    result = substitute(tree, given or {}, environ or {})
    return tree, result


def test_precedence_given_then_environment_then_defaults():
    text = "variables: {A: da, B: db, C: dc}\nx: '${A}-${B}-${C}'\n"
    tree, result = run(text, given={"A": "ga"}, environ={"A": "ea", "B": "eb"})
    assert result.errors == []
    assert tree["x"] == "ga-eb-dc"


def test_default_values_of_any_scalar_type_become_text():
    tree, _ = run("variables: {N: 5, F: 1.5, T: true}\nx: '${N}/${F}/${T}'\n")
    assert tree["x"] == "5/1.5/true"


def test_env_references_read_only_the_environment_and_are_secrets():
    tree, result = run("variables: {PW: default}\npw: ${env:PW}\n", given={"PW": "given"},
                       environ={"PW": "hunter2"})
    assert tree["pw"] == "hunter2"
    assert result.secrets == {"hunter2"}
    assert result.whole == set()        # secrets are never type-coerced


def test_unset_env_variable_is_an_error_at_the_value():
    _, result = run("a:\n  pw: ${env:NOPE}\n")
    assert [str(e) for e in result.errors] == [
        "v.yaml:2:7: a.pw: environment variable 'NOPE' is not set"]


def test_undefined_variables_are_all_reported_with_locations():
    _, result = run("a: ${X}\nb: [ok, 'x${Y}']\n")
    assert [(e.location, e.path) for e in result.errors] == [
        (Location("v.yaml", 1, 4), "a"), (Location("v.yaml", 2, 9), "b[1]")]
    assert result.errors[0].message.startswith("undefined variable 'X'")


def test_a_misspelt_variable_gets_a_suggestion():
    _, result = run("variables: {SIP_DOMAIN: example.org}\na: ${SIP_DOMIAN}\n")
    assert [e.message for e in result.errors] == [
        "undefined variable 'SIP_DOMIAN' — did you mean 'SIP_DOMAIN'?"]


def test_escape_gives_a_literal_dollar_brace():
    tree, result = run("a: '$${HOME} costs $$5'\n")
    assert result.errors == []
    assert tree["a"] == "${HOME} costs $$5"


def test_references_and_scenario_dir_are_left_for_plan_time():
    tree, result = run("a: 'sip:x@${bob.hostport};p=$${lit}'\nb: '${scenario_dir}/f.wav'\n")
    assert result.errors == []
    assert tree["a"] == "sip:x@${bob.hostport};p=$${lit}"   # escape kept for the engine's pass
    assert tree["b"] == "${scenario_dir}/f.wav"
    assert [(n, a) for n, a, _, _ in result.references] == [("bob", "hostport")]


def test_an_escaped_reference_stays_literal_through_plan_time():
    tree, result = run("a: 'literal $${bob.uri}'\n")
    assert result.errors == [] and result.references == []
    assert tree["a"] == "literal $${bob.uri}"
    contacts = {"bob": Contact("bob", "127.0.0.1", 5062)}
    assert resolve_references(tree["a"], contacts, Path("/s")) == "literal ${bob.uri}"


def test_unknown_reference_attribute_and_malformed_tokens():
    _, result = run("a: ${bob.ip}\nb: '${not valid}'\nc: 'x${'\n")
    assert [e.message for e in result.errors] == [
        "unknown attribute 'ip' in '${bob.ip}' — use uri, host, port, hostport, user, media_min, media_max, files, ws_port, wss_port",
        "invalid variable reference '${not valid}'",
        "unterminated '${' (write '$${' for a literal '${')",
    ]


def test_keys_and_the_variables_section_are_not_substituted():
    tree, result = run("variables: {A: '${B}'}\n'${A}': 1\n")
    assert result.errors == []
    assert tree["variables"]["A"] == "${B}"
    assert "${A}" in tree


def test_whole_value_substitutions_are_recorded_for_type_coercion():
    _, result = run("p: ${P}\nq: 'x${P}'\nl: ['${P}']\n", given={"P": "5060"})
    assert result.whole == {("p",), ("l", 0)}


def test_aliased_nodes_are_substituted_once():
    tree, result = run("base: &b {v: '$${X}'}\nuse: *b\n")
    assert result.errors == []
    assert tree["use"]["v"] == "${X}"


def test_resolve_references_at_plan_time():
    contacts = {"bob": Contact("bob", "127.0.0.1", 5062, "udp", user="bob"),
                "sut": Contact("sut", "::1", 5080, "tcp")}
    text = "sip:x@${bob.hostport} ${sut.uri} ${bob.user}@${sut.host}:${sut.port} " \
           "${scenario_dir}/a.wav $${bob.uri}"
    assert resolve_references(text, contacts, Path("/s")) == (
        "sip:x@127.0.0.1:5062 sip:[::1]:5080;transport=tcp bob@::1:5080 /s/a.wav ${bob.uri}")
    assert resolve_references("${bob.uri}", contacts, Path("/s")) == "sip:bob@127.0.0.1:5062"


def test_resolve_references_rejects_unknown_names():
    where = Location("f.yaml", 3, 4)
    with pytest.raises(ScenarioError) as caught:
        resolve_references("${carol.uri}", {"bob": Contact("bob", "127.0.0.1", 5060)},
                           Path("/s"), location=where, path="agents.a.steps[0].call.uri")
    assert str(caught.value) == ("f.yaml:3:4: agents.a.steps[0].call.uri: unknown agent or "
                                 "service 'carol' in '${carol.uri}' — known: bob")


def test_file_dir_in_an_included_piece_is_the_piece_s_own_folder(tmp_path):
    """A shared piece's paths resolve from the piece, whatever folder includes it."""
    from sipscen.scenario import load_scenario
    lib = tmp_path / "lib"
    deep = tmp_path / "a" / "b" / "c"
    lib.mkdir()
    deep.mkdir(parents=True)
    (lib / "piece.yaml").write_text(
        "services:\n  sut: {command: [kamailio, -f, '${file_dir}/sut.cfg', '${scenario_dir}']}\n")
    (deep / "s.yaml").write_text(
        "name: s\ninclude: [../../../lib/piece.yaml]\nagents: {a: {type: pjsua}}\n"
        "variables: {here: '${file_dir}'}\ndescription: '${file_dir}'\n")
    scenario = load_scenario(deep / "s.yaml", environ={})
    command = scenario.services[0].config["command"]
    assert command[2] == f"{lib.resolve()}/sut.cfg"
    assert command[3] == "${scenario_dir}"          # still the includer's, at plan time
    assert scenario.description == str(deep.resolve())


def test_a_scenario_dir_path_that_does_not_exist_is_refused_at_validation(tmp_path):
    """The old shared-piece trap: ${scenario_dir}/../../x only works one folder deep;
    validate now says so at the piece's line instead of passing."""
    from sipscen.scenario import validate_file
    lib = tmp_path / "lib"
    deep = tmp_path / "a" / "b"
    lib.mkdir()
    deep.mkdir(parents=True)
    (tmp_path / "sut.cfg").write_text("")
    (lib / "piece.yaml").write_text(
        "services:\n  sut: {command: [kamailio, -f, '${scenario_dir}/../sut.cfg']}\n")
    (deep / "s.yaml").write_text(
        "name: s\ninclude: [../../lib/piece.yaml]\nagents: {a: {type: pjsua}}\n")
    (tmp_path / "a" / "ok.yaml").write_text(
        "name: s\ninclude: [../lib/piece.yaml]\nagents: {a: {type: pjsua}}\n")
    assert validate_file(tmp_path / "a" / "ok.yaml", environ={}) == []
    errors = [str(e) for e in validate_file(deep / "s.yaml", environ={})]
    assert len(errors) == 1 and errors[0].startswith(f"{lib / 'piece.yaml'}:2:")
    assert "does not exist (this value is in an included piece" in errors[0]
    assert "write ${file_dir}" in errors[0]
