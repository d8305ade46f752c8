"""Issue 20: where results go. A read-only --artifacts folder (a real read-only
mount), a report writer handed text UTF-8 cannot hold, and terminal escape codes
in what the console shows."""
import io
import json
import os
import subprocess
import xml.etree.ElementTree as ET

import pytest

from sipscen.core.results import CheckResult, ScenarioResult

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="mounting and capturing need root")
SHORT = """
name: {name}
timeout: 20s
agents:
  solo: {{type: pjsua, steps: [{{sleep: 100ms}}]}}
"""


@pytest.fixture
def read_only_folder(tmp_path):
    """A real read-only tmpfs (root ignores mode bits, not a read-only mount)."""
    point = tmp_path / "ro"
    point.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(point)],
                   check=True)
    yield point
    subprocess.run(["umount", "-l", str(point)], check=True)


@root_only
@pytest.mark.integration
def test_a_read_only_artifacts_folder_is_a_clear_error_and_the_reports_are_written(
        tmp_path, sipscen, read_only_folder, no_leftovers):
    path = tmp_path / "s.yaml"
    path.write_text("name: ro\nagents:\n  solo: {type: pjsua, steps: [{sleep: 100ms}]}\n")
    (tmp_path / "t.yaml").write_text(path.read_text().replace("name: ro", "name: ro2"))
    report, junit = tmp_path / "out" / "r.json", tmp_path / "out" / "r.xml"
    code, out, err = sipscen("run", path, tmp_path / "t.yaml", "--json", report, "--junit",
                             junit, "--artifacts", read_only_folder / "art")
    assert code == 3, out + err
    assert "internal error" not in out + err
    doc = json.loads(report.read_text())
    assert [s["status"] for s in doc["scenarios"]] == ["error", "error"]
    for s in doc["scenarios"]:
        assert s["error"] == (f"cannot create the artifacts folder {read_only_folder / 'art'} "
                              "(--artifacts): Read-only file system")
        assert s["exit_status"] == 3 and "dir" not in s["artifacts"]
    assert ET.parse(junit).getroot().get("errors") == "2"
    assert "Read-only file system" in out
    assert not list((tmp_path / "out").glob("*.tmp"))


def test_report_writers_never_fail_on_a_lone_surrogate_and_leave_no_tmp(tmp_path):
    """Validation refuses surrogates in scenarios; a writer handed one anyway (a
    tool's output, an agent's message) writes an escape, never an internal error."""
    from sipscen.report.html import write_html
    from sipscen.report.json_report import write_json
    from sipscen.report.junit import write_junit

    bad = "sur\udc80"
    result = ScenarioResult(name=bad, file="x.yaml", status="passed", tags=[bad],
                            checks=[CheckResult(name=bad, status="passed", actual=bad)],
                            warnings=[bad])
    write_json([result], tmp_path / "r.json")
    write_junit([result], tmp_path / "r.xml")
    write_html([result], tmp_path / "r.html")
    assert b'"name": "sur\\udc80"' in (tmp_path / "r.json").read_bytes()    # an escape
    assert json.loads((tmp_path / "r.json").read_text())["scenarios"][0]["name"] == bad
    ET.parse(tmp_path / "r.xml")
    assert "sur\\udc80" in (tmp_path / "r.html").read_text() or \
        "sur\ufffd" in (tmp_path / "r.html").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html", "r.json", "r.xml"]


def test_a_writer_that_fails_midway_leaves_no_tmp_and_says_which_report(tmp_path):
    from sipscen.core.errors import ReportWriteError
    from sipscen.core.atomic import write_atomically

    def breaks(f):
        f.write(b"half")
        raise ValueError("a bug in a writer")

    with pytest.raises(ReportWriteError, match="cannot write the JSON report .*r.json: "
                                               "ValueError"):
        write_atomically(tmp_path / "r.json", "JSON", breaks)
    assert list(tmp_path.iterdir()) == []


ESCAPES = "\x1b[2J\x1b]0;owned\x07\x9b31m\u202eevil\r"


def test_escape_codes_from_scenario_text_never_reach_the_console():
    """Names, tags, messages, check values: escaped in every console line."""
    from rich.console import Console

    from sipscen.core.events import Event
    from sipscen.report.console import LiveProgress, render_results

    result = ScenarioResult(name=f"n{ESCAPES}", file="x.yaml", status="failed",
                            error=f"error {ESCAPES}", warnings=[f"w {ESCAPES}"],
                            checks=[CheckResult(name=f"c{ESCAPES}", status="failed",
                                                expected=ESCAPES, actual=ESCAPES,
                                                message=f"m{ESCAPES}")])
    stream = io.StringIO()
    console = Console(file=stream, width=200, force_terminal=True)
    render_results([result], console)
    progress = LiveProgress(console).bind(f"n{ESCAPES}")
    progress(Event(t=0.1, agent="alice", kind="step", data={"index": 0, "step": ESCAPES,
                                                              "status": "failed",
                                                              "message": ESCAPES}))
    progress(Event(t=0.2, agent="a", kind="custom", data={"text": ESCAPES}))
    shown = stream.getvalue()
    # rich's own colour codes start with ESC [ and a digit/semicolon run ending in m;
    # none of the scenario's codes survive: no clear, no title, no C1 CSI, no bidi, no CR
    assert "\x1b[2J" not in shown and "\x1b]0;" not in shown and "\x07" not in shown
    assert "\x9b" not in shown and "\u202e" not in shown and "\r" not in shown
    assert shown.count("\\x1b[2J\\x1b]0;owned\\x07\\x9b31m\\u202eevil\\x0d") >= 8


def test_validate_and_list_escape_names_and_messages(tmp_path, sipscen):
    path = tmp_path / "s.yaml"
    path.write_text('name: "n\\e[31mred"\ndescription: "\\e]0;title\\a"\n'
                    'agents:\n  a: {type: pjsua, bogus: 1}\n')
    code, out, err = sipscen("validate", path)
    assert code == 2 and "\x1b" not in out + err
    path.write_text('name: "n\\e[31mred"\ndescription: "[bold]\\e]0;title\\a"\n'
                    'agents:\n  a: {type: pjsua}\n')
    code, out, err = sipscen("list", path)
    assert code == 0 and "\x1b" not in out and "\x07" not in out
    assert "n\\x1b[31mred" in out and "[bold]\\x1b]0;title\\x07" in out


@root_only
@pytest.mark.integration
def test_a_real_run_of_a_scenario_named_with_escape_codes(tmp_path, sipscen, no_leftovers):
    path = tmp_path / "s.yaml"
    path.write_text(SHORT.format(name='"x\\e[2J\\e]0;owned\\ay"'))
    code, out, err = sipscen("run", path, "--artifacts", tmp_path / "art",
                             "--json", tmp_path / "r.json")
    assert code == 0, out + err
    assert "\x1b[2J" not in out + err and "\x07" not in out + err
    assert out.count("x\\x1b[2J\\x1b]0;owned\\x07y") >= 3      # progress lines, verdict
    assert json.loads((tmp_path / "r.json").read_text())["scenarios"][0]["name"] == \
        "x\x1b[2J\x1b]0;owned\x07y"                          # the data itself is kept
