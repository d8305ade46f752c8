"""The command line: exit codes and messages for usage errors, no tracebacks."""
import json
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parents[1]


def test_schema_prints_the_packaged_json_schema(sipscen):
    code, out, _ = sipscen("schema")
    assert code == 0
    schema = json.loads(out)
    assert schema == json.loads((ROOT / "schemas" / "scenario.schema.json").read_text())


@pytest.mark.parametrize("argv, needle", [
    (["run", "no/such/file.yaml"], "no such file"),
    (["analyze", "README.md"], "not a pcap"),
    (["analyze", "no-such.pcap"], "no such file"),
    (["report", "merge", "README.md"], "not a sipscen JSON report"),
    (["run", "examples/demo.yaml", "--shard", "4/3"], "--shard"),
    (["validate", "examples/demo.yaml", "--var", "novalue"], "NAME=VALUE"),
    (["run", "examples/demo.yaml", "--timeout", "nan"], "not a duration: 'nan'"),
    (["run", "examples/demo.yaml", "--timeout", "0"], "expected a duration above 0"),
    (["run", "examples/demo.yaml", "--timeout", "0ms"], "expected a duration above 0"),
    (["run", "examples/demo.yaml", "--timeout", "15x"], "not a duration: '15x'"),
    (["run", "examples/demo.yaml", "--timeout", "31d"], "not a duration"),
    (["run", "examples/demo.yaml", "--timeout", "9999h"], "too long (at most 30 days)"),
    (["run", "examples/demo.yaml", "--json", "examples"], "is a folder"),
    (["run", "examples/demo.yaml", "--artifacts", "README.md"], "not a folder"),
])
def test_bad_input_exits_2_with_a_message(argv, needle, capsys, monkeypatch, sipscen):
    monkeypatch.chdir(ROOT)
    code, out, err = sipscen(*argv)
    captured = capsys.readouterr()     # argparse writes its own errors to sys.stderr
    text = out + err + captured.err
    assert code == 2
    assert needle in text
    assert "Traceback" not in text


@pytest.mark.parametrize("text, seconds", [("15s", 15.0), ("15", 15.0), ("200ms", 0.2),
                                           ("1.5m", 90.0), ("1h", 3600.0), (" 2s ", 2.0)])
def test_timeout_takes_the_durations_scenario_files_take(text, seconds):
    """Issue 20: `--timeout 15s` was refused ("expected seconds") while files take
    durations; the command line now reads them with the files' own parser."""
    from sipscen.cli import build_parser
    from sipscen.core.model import parse_duration
    args = build_parser().parse_args(["run", "x.yaml", "--timeout", text])
    assert args.timeout == seconds == parse_duration(text.strip())
    man = build_parser().parse_args(["kube", "manifests", "x", "--shards", "1", "--image", "i",
                                     "--timeout", text])
    assert man.timeout == seconds


def test_merge_refuses_a_damaged_report(tmp_path, sipscen):
    bad = tmp_path / "bad.json"
    bad.write_text('{"scenarios": [1, {"checks": 5}]}')
    code, out, err = sipscen("report", "merge", bad)
    assert code == 2
    assert "not a sipscen JSON report" in err and "Traceback" not in err


def test_validate_accepts_the_examples(sipscen):
    code, out, err = sipscen("validate", ROOT / "examples")
    assert code == 0, err
    assert out.count(": ok") >= 4


def test_analyze_json_on_a_sipp_sample(sipscen):
    sample = Path("/usr/share/sip-tester/dtmf_2833_pound.pcap")
    if not sample.exists():
        pytest.skip("sip-tester's samples are not installed (./setup.sh installs them)")
    code, out, _ = sipscen("analyze", sample, "--json", "-")
    assert code == 0
    assert [d["digit"] for d in json.loads(out)["dtmf"]] == ["#"]


def test_json_means_one_thing_for_run_and_analyze(sipscen, tmp_path, capsys):
    """`--json FILE` writes the document to FILE and `--json -` puts it alone on
    standard output (the console view goes to standard error), for `run` and
    `analyze` alike: the shared flags are declared once."""
    sample = Path("/usr/share/sip-tester/dtmf_2833_pound.pcap")
    if not sample.exists():
        pytest.skip("sip-tester's samples are not installed (./setup.sh installs them)")
    code, out, _ = sipscen("analyze", sample, "--json", tmp_path / "a.json")
    assert code == 0 and out == ""
    assert [d["digit"] for d in json.loads((tmp_path / "a.json").read_text())["dtmf"]] == ["#"]
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: empty\nagents:\n  a: {type: pjsua}\n")
    code, out, err = sipscen("run", scenario, "--json", "-", "--artifacts", tmp_path / "art", "-q")
    assert code == 0, err
    assert json.loads(out)["scenarios"][0]["name"] == "empty"
    assert "PASS" in err and "PASS" not in out
    for command in (["run", scenario], ["analyze", sample], ["report", "merge", tmp_path / "a.json"]):
        code, _, _ = sipscen(*command, "--json")     # argparse writes its usage itself
        assert code == 2 and "argument --json: expected one argument" in capsys.readouterr().err
