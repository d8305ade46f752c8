"""Issue 12: `validate` stays linear in parametrize sets and fast on huge includes."""
from __future__ import annotations

import time
from pathlib import Path

from sipscen.scenario import load_scenarios, validate_file
from sipscen.scenario import build, loader, schema


def _parametrized(tmp_path: Path, sets: int) -> Path:
    lines = ["name: p", "parametrize:"]
    lines += [f"  - {{codec: PCMA, n: '{i}'}}" for i in range(sets)]
    lines += ["agents:", "  bob: {type: pjsua, codecs: ['${codec}']}",
              "  alice: {type: pjsua, steps: [call: {to: bob}, sleep: 100ms, hangup: {}]}"]
    path = tmp_path / f"p{sets}.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_parametrize_reads_the_file_once_and_validates_the_sets_once(tmp_path, monkeypatch):
    reads, parametrize_seen = [], []
    real_read, real_schema = build.load_yaml_file, build.schema_errors
    monkeypatch.setattr(build, "load_yaml_file", lambda p: reads.append(p) or real_read(p))
    monkeypatch.setattr(build, "schema_errors",
                        lambda t: parametrize_seen.append("parametrize" in t) or real_schema(t))
    path = _parametrized(tmp_path, 1000)
    started = time.monotonic()
    scenarios = load_scenarios(path, environ={})
    elapsed = time.monotonic() - started
    assert len(scenarios) == 1000
    assert scenarios[999].name == "p[codec=PCMA,n=999]"
    assert reads == [path]                           # was once per set: quadratic
    assert parametrize_seen.count(True) == 1 and len(parametrize_seen) == 1000
    assert elapsed < 60, f"1,000 sets took {elapsed:.1f}s"


def test_an_error_in_a_later_set_names_that_set(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: p\nparametrize: {codec: [PCMA, XYZ]}\n"
                    "agents: {bob: {type: pjsua, codecs: ['${codec}']}}\n", encoding="utf-8")
    (error,) = validate_file(path, environ={})
    assert str(error).startswith(f"{path}:3:38: agents.bob.codecs[0]: unknown codec 'XYZ'")
    assert str(error).endswith("[with codec=XYZ]")


def test_a_huge_include_of_variables_is_parsed_by_libyaml_and_checked_in_python(
        tmp_path, monkeypatch):
    assert loader.FastMarkedLoader is not loader.MarkedLoader, "PyYAML without libyaml"
    lib = tmp_path / "lib.yaml"
    with lib.open("w", encoding="utf-8") as f:
        f.write("variables:\n")
        for i in range(100_000):
            f.write(f"  var_{i:07d}: value{i:07d}\n")
        f.write("  9bad: x\n")
    path = tmp_path / "uses.yaml"
    path.write_text("name: u\ninclude: [lib.yaml]\nagents: {a: {type: pjsua}}\n", encoding="utf-8")
    handed = []
    real = schema._for_jsonschema
    monkeypatch.setattr(schema, "_for_jsonschema",
                        lambda t: handed.append(len(real(t).get("variables", {}))) or real(t))
    started = time.monotonic()
    (error,) = validate_file(path, environ={})
    assert time.monotonic() - started < 60
    assert str(error) == (f"{lib}:100002:3: variables['9bad']: invalid variable name '9bad': "
                          "use letters, digits and '_'")
    assert handed == [1]          # jsonschema saw only the one entry that is not plainly valid


def test_loading_with_libyaml_or_pure_python_gives_the_same_tree():
    text = ("a: &x {b: [1, 2.5, true, null, '3', 2024-01-01]}\nc: *x\n"
            "d: {<<: *x, e: f}\ng: !!str 12\n")
    fast = loader.load_yaml(text, "f.yaml")
    slow_loader = loader.MarkedLoader(text)
    slow_loader.file_label = "f.yaml"
    slow = slow_loader.get_single_data()
    assert fast == slow
    assert fast["d"].key_marks == slow["d"].key_marks
    assert fast["a"]["b"].item_marks == slow["a"]["b"].item_marks
    assert fast["c"] is fast["a"]
