"""The marked YAML loader: positions, duplicate keys, syntax errors, safety."""
from __future__ import annotations

import pytest
import yaml

from sipscen.core.errors import Location, ScenarioError
from sipscen.scenario.loader import MarkedLoader, load_yaml
from sipscen.scenario.marks import MarkedMap, MarkedSeq, format_path, locate, to_plain

DOC = """\
name: demo
agents:
  alice:
    codecs: [PCMA, PCMU]
    steps:
      - call: {to: bob}
      - sleep: 2s
"""


def test_loader_is_a_safe_loader():
    assert issubclass(MarkedLoader, yaml.SafeLoader)
    with pytest.raises(ScenarioError):
        load_yaml("x: !!python/object/apply:os.system ['true']\n", "evil.yaml")


def test_mappings_and_sequences_carry_marks_per_key_and_item():
    tree = load_yaml(DOC, "f.yaml")
    assert isinstance(tree, MarkedMap) and tree.mark == Location("f.yaml", 1, 1)
    alice = tree["agents"]["alice"]
    assert alice.key_marks["codecs"] == Location("f.yaml", 4, 5)
    assert alice.value_marks["codecs"] == Location("f.yaml", 4, 13)
    codecs = alice["codecs"]
    assert isinstance(codecs, MarkedSeq)
    assert codecs.item_marks == [Location("f.yaml", 4, 14), Location("f.yaml", 4, 20)]
    assert alice["steps"].item_marks[1] == Location("f.yaml", 7, 9)


def test_locate_finds_values_keys_and_falls_back_to_the_nearest_ancestor():
    tree = load_yaml(DOC, "f.yaml")
    assert locate(tree, ["agents", "alice", "steps", 0, "call", "to"]) == Location("f.yaml", 6, 20)
    assert locate(tree, ["agents", "alice", "steps", 0, "call"], key=True) == \
        Location("f.yaml", 6, 9)
    # a path that does not exist ends at the deepest existing node
    assert locate(tree, ["agents", "alice", "nope", 3]) == Location("f.yaml", 4, 5)
    assert locate(tree, []) == Location("f.yaml", 1, 1)


def test_duplicate_keys_are_errors_at_the_second_key():
    with pytest.raises(ScenarioError) as caught:
        load_yaml("a: 1\nb:\n  c: 1\n  c: 2\n", "dup.yaml")
    assert str(caught.value) == "dup.yaml:4:3: duplicate key 'c' (first defined at line 3)"


def test_merge_keys_may_be_overridden_without_a_duplicate_error():
    tree = load_yaml("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n", "m.yaml")
    assert to_plain(tree["use"]) == {"x": 1, "y": 3}


def test_syntax_error_has_the_location():
    with pytest.raises(ScenarioError) as caught:
        load_yaml("a: [1, 2\nb: 3\n", "bad.yaml")
    assert str(caught.value).startswith("bad.yaml:2:2: YAML syntax error: expected ',' or ']'")


def test_tabs_are_a_syntax_error_not_a_traceback():
    with pytest.raises(ScenarioError) as caught:
        load_yaml("a:\n\tb: 1\n", "tab.yaml")
    assert caught.value.location == Location("tab.yaml", 2, 1)


def test_non_string_keys_are_rejected():
    with pytest.raises(ScenarioError) as caught:
        load_yaml("on: 1\n", "k.yaml")
    assert str(caught.value) == "k.yaml:1:1: key True is not a string (quote it: 'on')"


def test_empty_document_is_none():
    assert load_yaml("", "e.yaml") is None


def test_format_path():
    assert format_path(["agents", "alice", "steps", 2, "dtmf", "method"]) == \
        "agents.alice.steps[2].dtmf.method"
    assert format_path(["services", "sut", "env", "A B"]) == "services.sut.env['A B']"
    assert format_path([]) == ""
