"""The JSON Schema: shipped in the package, valid draft 2020-12, and its errors as ScenarioErrors."""
from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from sipscen.scenario.loader import load_yaml
from sipscen.scenario.schema import coerce_substituted, load_schema, schema_errors

ROOT = Path(__file__).resolve().parents[2]


def errors_of(text: str) -> list[str]:
    return [str(e) for e in schema_errors(load_yaml(text, "s.yaml"))]


def test_schema_loads_through_the_package_and_equals_the_source_file():
    packaged = resources.files("sipscen").joinpath("data/scenario.schema.json")
    assert json.loads(packaged.read_text("utf-8")) == \
        json.loads((ROOT / "schemas" / "scenario.schema.json").read_text("utf-8"))
    assert load_schema() == json.loads(packaged.read_text("utf-8"))


def test_packaged_schema_is_a_relative_symlink():
    link = ROOT / "runner" / "sipscen" / "data" / "scenario.schema.json"
    assert link.is_symlink()
    assert os.readlink(link) == "../../../schemas/scenario.schema.json"


def test_schema_is_valid_draft_2020_12_and_closed():
    schema = load_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"

    def objects(node):
        if isinstance(node, dict):
            if "properties" in node:
                yield node
            for key, value in node.items():
                if key != "if":          # discriminator conditions only read `type`
                    yield from objects(value)
        elif isinstance(node, list):
            for value in node:
                yield from objects(value)

    open_ones = [sorted(o["properties"]) for o in objects(schema)
                 if o.get("additionalProperties") is not False and o is not schema["$defs"]["agent"]]
    assert open_ones == []


def test_misspelt_key_inside_an_agent_points_at_that_key():
    assert errors_of("name: x\nagents:\n  a:\n    type: sipp\n    scenario: uac\n    cals: 3\n") \
        == ["s.yaml:6:5: agents.a.cals: unknown key 'cals' — did you mean 'calls'?"]


def test_unknown_key_without_a_close_match_lists_the_valid_keys():
    assert errors_of("name: x\nagents:\n  a: {type: pjsua, srtp: {zzz: 1}}\n") == [
        "s.yaml:3:27: agents.a.srtp.zzz: unknown key 'zzz' — valid keys are: "
        "secure_signaling, use"]


def test_bad_agent_name_points_at_the_name():
    assert errors_of("name: x\nagents:\n  9lives: {type: pjsua}\n") == [
        "s.yaml:3:3: agents['9lives']: invalid name '9lives': use a letter, then letters, "
        "digits, '_' or '-'"]


def test_missing_type_is_reported_once():
    assert errors_of("name: x\nagents:\n  a: {codecs: [PCMA]}\n") == [
        "s.yaml:3:3: agents.a: missing required key 'type'"]


@pytest.mark.parametrize("value, message", [
    ("7xx", "expected a status code (e.g. 200), a class (e.g. 2xx) or a list of codes, got '7xx'"),
    ("99", "expected a status code (e.g. 200), a class (e.g. 2xx) or a list of codes, got 99"),
    ("true", "expected a status code (e.g. 200), a class (e.g. 2xx) or a list of codes, "
             "got true"),
])
def test_status_values(value: str, message: str):
    text = f"name: x\nagents:\n  a: {{type: sipp}}\nexpect:\n  - response: {{agent: a, status: {value}}}\n"
    assert errors_of(text) == [f"s.yaml:5:34: expect[0].response.status: {message}"]


def test_status_lists_and_sipp_expect_shorthands_are_valid():
    text = ("name: x\nagents:\n  a:\n    type: sipp\n    messages:\n"
            "      - 'OPTIONS sip:a SIP/2.0'\n"
            "      - {send: 'OPTIONS sip:b SIP/2.0', expect: 4xx}\n"
            "      - {send: 'OPTIONS sip:c SIP/2.0', expect: nothing}\n"
            "      - {send: 'OPTIONS sip:d SIP/2.0', expect: {status: [400, 403]}}\n"
            "expect:\n  - response: {agent: a, message: 3, status: [400, 403]}\n")
    assert errors_of(text) == []
    bad = text.replace("expect: nothing", "expect: nothin")
    assert errors_of(bad) == [
        "s.yaml:8:49: agents.a.messages[2].expect: expect must be a status code, a class like "
        "4xx, 'nothing' or a mapping, got 'nothin'"]


def test_call_status_is_a_code_a_class_or_a_list():
    for ok in ("2xx", "[404, 480]", "486"):
        text = f"name: x\nagents:\n  a: {{type: pjsua}}\nexpect:\n  - call: {{from: a, status: {ok}}}\n"
        assert errors_of(text) == []
    text = "name: x\nagents:\n  a: {type: pjsua}\nexpect:\n  - call: {from: a, status: 7xx}\n"
    assert errors_of(text) == ["s.yaml:5:29: expect[0].call.status: expected a status code "
                               "(e.g. 200), a class (e.g. 2xx) or a list of codes, got '7xx'"]


def test_wrong_types_and_bad_regex():
    text = ("name: x\nagents:\n  a: {type: pjsua, srtp: {secure_signaling: 3}}\n"
            "expect:\n  - response: {agent: a, header: {Via: '([a'}}\n")
    assert errors_of(text) == [
        "s.yaml:5:40: expect[0].response.header.Via: not a valid regular expression: '([a' "
        "(unterminated character set at position 1)",
        "s.yaml:3:45: agents.a.srtp.secure_signaling: unknown value 3 — expected one of: 0, 1, 2",
    ]


def test_valid_documents_have_no_errors():
    text = ("name: x\ncapture: false\nagents:\n  a:\n    type: pjsua\n    steps:\n"
            "      - hangup:\n      - hangup: {}\n      - sleep: 1.5\n")
    assert errors_of(text) == []


def test_substituted_numbers_become_integers_where_the_schema_wants_them():
    tree = load_yaml("name: x\nagents:\n  a: {type: sipp, port: '5070', calls: '10', "
                     "rate: '2.5', address: '127'}\n", "s.yaml")
    agent = ("agents", "a")
    changed = coerce_substituted(tree, {agent + ("port",), agent + ("calls",),
                                        agent + ("rate",), agent + ("address",)})
    assert changed
    assert tree["agents"]["a"]["port"] == 5070
    assert tree["agents"]["a"]["calls"] == 10
    assert tree["agents"]["a"]["rate"] == 2.5
    assert tree["agents"]["a"]["address"] == "127"      # the schema wants a string here
    assert schema_errors(tree) == []


def test_only_substituted_values_are_coerced():
    tree = load_yaml("name: x\nagents:\n  a: {type: pjsua, port: '5070'}\n", "s.yaml")
    assert not coerce_substituted(tree, set())
    assert [str(e) for e in schema_errors(tree)] == [
        "s.yaml:3:26: agents.a.port: port must be an integer 1-65535 or 'auto', got '5070'"]


def test_schema_agent_types_match_the_agent_registry():
    from sipscen.language.registry import agent_types
    AGENT_TYPES = agent_types()

    agent = load_schema()["$defs"]["agent"]
    assert sorted(agent["properties"]["type"]["enum"]) == sorted(AGENT_TYPES)
    selected = sorted(branch["if"]["properties"]["type"]["const"] for branch in agent["allOf"])
    assert selected == sorted(AGENT_TYPES)
    for name in AGENT_TYPES:
        assert load_schema()["$defs"][f"{name}_agent"]["properties"]["type"] == {"const": name}


def test_expectations_name_who_they_are_about():
    text = ("name: x\nagents:\n  a: {type: pjsua}\nexpect:\n  - call: {to: a}\n"
            "  - codec: {codec: PCMA}\n  - dtmf: {from: a, digits: '1'}\n")
    assert errors_of(text) == [
        "s.yaml:5:5: expect[0].call: missing required key 'from'",
        "s.yaml:6:12: expect[1].codec: expected a mapping with 'between' or a mapping with "
        "'agent', got a mapping",
        "s.yaml:7:5: expect[2].dtmf: missing required key 'to'",
    ]
