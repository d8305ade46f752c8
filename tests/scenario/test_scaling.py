"""Issue 12: `validate` stays linear in parametrize sets and fast on huge includes."""
from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from sipscen.core.errors import ScenarioError
from sipscen.scenario import load_scenarios, validate_file
from sipscen.scenario import build, loader, marks, schema
from sipscen.scenario import yaml_events as events

ROOT = Path(__file__).resolve().parents[2]


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


def _bench(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_huge_include_validates_in_bounded_memory(tmp_path):
    """The issue's 600k values (300k variables, 8.4 MB) in a child process: its own
    peak RSS. Measured ~105 MB (was 332 MB: a node graph, a Location per mark,
    copies per include and per set); the bounds leave room for other platforms."""
    capture_gen, bench = _bench("capture_gen"), _bench("bench_load_scale")
    peaks = {}
    for values in (100_000, 600_000):
        folder = tmp_path / str(values)
        folder.mkdir()
        path = bench.write_scenario(folder, values)
        _wall, kb, code = capture_gen.run_sipscen_measured(["validate", str(path)],
                                                           folder / "out.txt", ROOT)
        assert code == 0 and kb > 0, (folder / "out.txt").read_text()
        peaks[values] = kb * 1024
    per_value = (peaks[600_000] - peaks[100_000]) / 500_000
    assert peaks[600_000] < 200 * 2**20, f"{peaks[600_000] / 2**20:.0f} MB for 600k values"
    assert per_value < 250, f"{per_value:.0f} bytes per value (was ~490)"
    # a duplicate key at the end is located as lean (was the composing loader: 338 MB)
    folder = tmp_path / "600000"
    with (folder / "lib.yaml").open("a", encoding="utf-8") as f:
        f.write("  var_0000001: again\n")
    _wall, kb, code = capture_gen.run_sipscen_measured(
        ["validate", str(folder / "uses.yaml")], folder / "out.txt", ROOT)
    assert code == 2
    assert kb * 1024 < 200 * 2**20, f"{kb / 1024:.0f} MB for 600k values and a duplicate key"
    (error,) = validate_file(folder / "uses.yaml", environ={})
    assert str(error) == (f"{folder / 'lib.yaml'}:300002:3: duplicate key 'var_0000001' "
                          "(first defined at line 3)")


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


def _composed(text: str, label: str = "f.yaml"):
    """The tree as the composing loader (libyaml events, PyYAML nodes) builds it."""
    composing = loader.FastMarkedLoader(text)
    composing.file_label = label
    try:
        return composing.get_single_data()
    finally:
        composing.dispose()


def _marks(value):
    """Every mark of a tree, in order, with the tree's shape."""
    if isinstance(value, marks.MarkedMap):
        return (value.mark, [(k, value.key_mark(k), value.value_mark(k), _marks(v))
                             for k, v in value.items()])
    if isinstance(value, marks.MarkedSeq):
        return (value.mark, [(value.item_mark(i), _marks(v)) for i, v in enumerate(value)])
    return (type(value).__name__, value)


BUILT = [
    "a: 1\nb: [x, 'y', \"z\", 2.5, -3, 0x1f, .inf, true, no, ~, null, '', 2024-01-02]\n",
    "a: &x {b: [1, 2], c: {d: e}}\nf: *x\ng: [*x, *x]\nh: &s text\ni: *s\n",
    "- {a: 1}\n- [1, [2, [3, []]], {}]\n-\n- 'quoted: yes'\n- >\n  folded\n  text\n",
    "top:\n  list:\n    - k: v\n      k2: |\n        literal\n    - plain words here\n",
    "just a scalar\n",
    "",
    "# only a comment\n",
    "---\n",
    "{json: [1, 2, {\"k\": \"v\"}], \"x y\": null}\n",
    "name: ü tf8 ✓\nagents: {bob: {type: pjsua, codecs: [PCMA]}}\n",
]


@pytest.mark.parametrize("text", BUILT)
def test_the_event_builder_builds_what_the_composing_loader_builds(text):
    built = events._build(text, "f.yaml")          # never falls back on these
    composed = _composed(text)
    assert built == composed
    assert _marks(built) == _marks(composed)


def test_the_event_builder_keeps_aliases_shared():
    built = events._build("a: &x {b: [1]}\nc: *x\nd: [*x]\n", "f.yaml")
    assert built["c"] is built["a"] and built["d"][0] is built["a"]


FALLBACKS = [
    "a: !!str 12\n", "a: !!map {}\n", "base: &b {x: 1}\nuse: {<<: *b, y: 2}\n",
    "? [a]\n: b\n", "a: *nowhere\n", "a: &x [*x]\n", "a: &x 1\nb: &x 2\n", "a: =\n",
    "a: 2024-13-45\n", "--- a\n--- b\n", "[" * 101 + "]" * 101 + "\n", "a: ! x\n",
    "a: 1\na: 2\nb: *nowhere\n",       # a compose error later wins over the duplicate
    "a: 1\na: 2\nb: [\n",              # so does a syntax error (a YAMLError here)
    "m: {a: 1, a: 2, <<: {b: 1}}\n",    # the merge is flattened before the keys are read
]


WORDED = ["1: a\n", "a: 1\na: 2\n", "null: 1\n", "x:\n  k: 1\n  k: [2]\n  1.5: 3\n",
          "- {a: 1, &n 2: b}\n", "a: 1\nb: {a: 1}\na: 3\n"]


@pytest.mark.parametrize("text", WORDED)
def test_the_event_builder_words_key_errors_as_the_composing_loader(text):
    with pytest.raises(ScenarioError) as built:
        events._build(text, "f.yaml")
    with pytest.raises(ScenarioError) as composed:
        _composed(text)
    assert str(built.value) == str(composed.value)


@pytest.mark.parametrize("text", FALLBACKS)
def test_what_the_event_builder_leaves_to_the_composing_loaders(text):
    import yaml
    with pytest.raises((events._Fallback, yaml.YAMLError)):
        events._build(text, "f.yaml")
    try:                                            # and load_yaml still answers as before
        expected = _composed(text)
    except Exception as exc:       # noqa: BLE001 - the composing loader's own error
        with pytest.raises(type(exc) if isinstance(exc, ScenarioError) else ScenarioError):
            loader.load_yaml(text, "f.yaml")
    else:
        assert _marks(loader.load_yaml(text, "f.yaml")) == _marks(expected)


_CORPUS = [p.read_text(encoding="utf-8") for folder in ("examples", "scenarios")
           for p in sorted((ROOT / folder).rglob("*.yaml"))]
_PIECES = ["!!int ", "!!str ", "&a ", "*a ", "<<: ", "[", "]", "{", "}", ":", "- ", "\n  ",
           "'", '"', "? ", "~", "null", "true", "0x1F", "1e3", "2024-01-01", "=", "# c",
           "\t", "|\n", ">-\n", "---\n", "...\n", "1: ", ",", "&b [", "*b"]


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.sampled_from(_CORPUS), st.lists(st.tuples(st.floats(0, 1), st.sampled_from(_PIECES),
                                                      st.integers(0, 3)), max_size=4))
def test_mutated_files_build_as_composed_or_fall_back(text, edits):
    import yaml
    for where, piece, cut in edits:
        at = int(where * len(text))
        text = text[:at] + piece + text[at + cut:]
    try:
        built = events._build(text, "m.yaml")
    except events._Fallback:
        return
    except ScenarioError as exc:                    # a key error: worded the same
        with pytest.raises(ScenarioError) as composed:
            _composed(text, "m.yaml")
        assert str(exc) == str(composed.value)
        return
    except yaml.YAMLError:
        with pytest.raises(yaml.YAMLError):         # libyaml refuses it either way
            _composed(text, "m.yaml")
        return
    composed = _composed(text, "m.yaml")
    assert built == composed or built != built      # (a NaN is never equal to itself)
    assert repr(_marks(built)) == repr(_marks(composed))
    from_bytes = events._build(text.encode("utf-8"), "m.yaml")     # how files are read
    assert repr(_marks(from_bytes)) == repr(_marks(built))


def test_a_file_is_read_with_universal_newlines(tmp_path):
    text = "a: 1\nb:\n  - x\n  - 'y\n    z'\nc: |\n  one\n  two\n"
    unix, dos = tmp_path / "unix.yaml", tmp_path / "dos.yaml"
    unix.write_bytes(text.encode())
    dos.write_bytes(text.replace("\n", "\r\n").encode())
    assert _marks(loader.load_yaml_file(dos)) == \
        _marks(loader.load_yaml(text, str(dos))) == _marks(_composed(text, str(dos)))
    assert loader.load_yaml_file(dos) == loader.load_yaml_file(unix)


def test_an_included_section_reachable_through_an_alias_is_copied_not_shared(tmp_path):
    (tmp_path / "aliased.yaml").write_text(
        "variables: &v {user: alice}\nagents: {bob: {type: pjsua, account: *v}}\n")
    (tmp_path / "plain.yaml").write_text("variables: {later: x}\n")
    path = tmp_path / "s.yaml"
    path.write_text("name: s\ninclude: [plain.yaml, aliased.yaml]\n")
    (scenario,) = load_scenarios(path, environ={})
    (bob,) = scenario.agents
    assert bob.config["account"] == {"user": "alice"}      # not given `later` by the merge


def test_included_variables_keep_their_own_file_in_a_map_of_the_scenario(tmp_path):
    (tmp_path / "lib.yaml").write_text("variables:\n  good: x\n  bad: [1]\n")
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nvariables: {own: y}\ninclude: [lib.yaml]\n"
                    "agents: {a: {type: pjsua}}\n")
    (error,) = validate_file(path, environ={})
    assert str(error).startswith(f"{tmp_path / 'lib.yaml'}:3:8: variables.bad: ")
