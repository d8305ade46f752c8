"""`sipscen judge`: a finished run re-judged from its saved evidence
(evidence.json, the capture, the recordings) against the scenario as it is
now, without placing a call. One real demo run (PJSUA2, SRTP, tcpdump) serves
every test here; judging is in-process and takes a fraction of a second."""
import json
import os
import shutil

import pytest

from sipscen.engine.evidence_store import FILE_NAME

from .conftest import ROOT

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(os.geteuid() != 0, reason="capturing on lo needs root")]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """(scenario file, run folder, the run's JSON report) of one real demo run."""
    from sipscen.cli import main
    import io
    base = tmp_path_factory.mktemp("judge")
    scenario = base / "demo.yaml"
    shutil.copy(ROOT / "examples" / "demo.yaml", scenario)
    out, err = io.StringIO(), io.StringIO()
    code = main(["run", str(scenario), "--artifacts", str(base / "art"), "-q",
                 "--json", str(base / "run.json")], stdout=out, stderr=err)
    assert code == 0, out.getvalue() + err.getvalue()
    (folder,) = [p for p in (base / "art").iterdir() if p.is_dir()]
    return scenario, folder, json.loads((base / "run.json").read_text())


def _rows(doc):
    return [(c["name"], c["status"], c["expected"], c["actual"], c["location"].split("/")[-1])
            for s in doc["scenarios"] for c in s["checks"]]


def test_judge_gives_the_runs_own_verdict(demo_run, sipscen, tmp_path):
    scenario, folder, run_doc = demo_run
    saved = json.loads((folder / FILE_NAME).read_text())
    assert saved["kind"] == "sipscen-evidence" and saved["version"] == 1
    assert saved["scenario"]["file"] == str(scenario.resolve())
    code, out, err = sipscen("judge", folder, "--json", tmp_path / "j.json",
                             "--junit", tmp_path / "j.xml")
    assert code == 0, out + err
    doc = json.loads((tmp_path / "j.json").read_text())
    assert _rows(doc) == _rows(run_doc) and len(_rows(doc)) >= 10
    assert "<testsuite" in (tmp_path / "j.xml").read_text()
    assert "PASS demo-srtp-dtmf" in out


def test_judge_reads_the_scenario_as_it_is_now(demo_run, sipscen, tmp_path):
    """The negative control: the same evidence with a false expectation fails."""
    scenario, folder, _ = demo_run
    edited = tmp_path / "edited.yaml"
    edited.write_text(scenario.read_text().replace('digits: "1234#", method: rfc4733}',
                                                   'digits: "1235#", method: rfc4733}'))
    code, out, err = sipscen("judge", folder, edited, "--json", tmp_path / "j.json")
    assert code == 1, out + err
    rows = {r[0]: r[1] for r in _rows(json.loads((tmp_path / "j.json").read_text()))}
    assert rows["dtmf alice->bob rfc4733 (at bob)"] == "failed"
    assert rows["dtmf alice->bob rfc4733 (wire)"] == "failed"
    assert rows["codec at bob"] == "passed"


def test_judge_reanalyses_the_capture_for_wire_audio(demo_run, sipscen, tmp_path):
    """The demo's expectations need no decoded audio, so the run decoded none:
    an audio expectation added later is judged on the saved (SRTP) capture."""
    scenario, folder, _ = demo_run
    for freq, want in ((440, 0), (1000, 1)):
        edited = tmp_path / f"tone{freq}.yaml"
        edited.write_text(scenario.read_text() + (
            f"  - audio: {{from: alice, to: bob, where: wire, tone: {{frequency: {freq}, "
            "min_duration: 200ms}}\n"))
        code, out, err = sipscen("judge", folder, edited, "--json", tmp_path / "j.json")
        assert code == want, out + err
        rows = _rows(json.loads((tmp_path / "j.json").read_text()))
        audio = [r for r in rows if r[0].startswith("audio alice->bob")]
        assert audio and {r[1] for r in audio} == {"passed" if want == 0 else "failed"}


def test_bad_scenario_is_refused_with_its_location(demo_run, sipscen, tmp_path):
    scenario, folder, _ = demo_run
    bad = tmp_path / "bad.yaml"
    bad.write_text(scenario.read_text().replace("codec: PCMA}", "codec: PCMX}"))
    code, out, err = sipscen("judge", folder, bad)
    assert code == 2 and "Traceback" not in err
    assert f"{bad}:" in err and "PCMX" in err


def test_foreign_or_missing_evidence_is_refused(demo_run, sipscen, tmp_path):
    scenario, folder, _ = demo_run
    other = tmp_path / "other.yaml"
    other.write_text(scenario.read_text().replace("alice", "carol"))
    code, out, err = sipscen("judge", folder, other)
    assert code == 2 and "the evidence is not" in err and "alice (pjsua)" in err, err
    code, out, err = sipscen("judge", tmp_path)
    assert code == 2 and f"no {FILE_NAME}" in err, err
    old = tmp_path / "old"
    old.mkdir()
    doc = json.loads((folder / FILE_NAME).read_text())
    doc["version"] = 99
    (old / FILE_NAME).write_text(json.dumps(doc))
    code, out, err = sipscen("judge", old)
    assert code == 2 and "evidence version 99" in err, err
    (old / FILE_NAME).write_text("{not json")
    code, out, err = sipscen("judge", old)
    assert code == 2 and "not readable evidence" in err and "Traceback" not in err, err


def test_a_moved_folder_is_still_judged(demo_run, sipscen, tmp_path):
    scenario, folder, _ = demo_run
    moved = tmp_path / "moved"
    shutil.copytree(folder, moved)
    edited = tmp_path / "tone.yaml"
    edited.write_text(scenario.read_text() + (
        "  - audio: {from: alice, to: bob, where: wire, tone: {frequency: 440}}\n"))
    code, out, err = sipscen("judge", tmp_path / "moved", edited)
    assert code == 0, out + err
    assert str(moved) in out


def test_a_folder_of_runs_judges_each_and_names_one_it_cannot(demo_run, sipscen, tmp_path):
    scenario, folder, _ = demo_run
    shutil.copytree(folder, tmp_path / "art" / "run-1")
    shutil.copytree(folder, tmp_path / "art" / "run-2")
    (tmp_path / "art" / "run-2" / FILE_NAME).write_text('{"kind": "sipscen-evidence"}')
    code, out, err = sipscen("judge", tmp_path / "art", "--json", tmp_path / "j.json")
    assert code == 2, out + err
    doc = json.loads((tmp_path / "j.json").read_text())
    statuses = sorted((s["status"], (s["error"] or "")[:40]) for s in doc["scenarios"])
    assert statuses[0][0] == "error" and statuses[0][1].startswith("not judged: ")
    assert statuses[1] == ("passed", "")


def test_a_contact_keeps_its_own_class(tmp_path):
    """A browser's contact (dialled through its registrar) is saved and read back as
    a BrowserContact, so `${carol.uri}`-style values and attribution read the same."""
    from sipscen.agents.browser.settings import BrowserContact
    from sipscen.engine.evidence_store import Evidence, load, save
    contact = BrowserContact("carol", "127.0.0.1", 0, "ws", "carol", via="127.0.0.1:5060")
    ev = Evidence("s", str(tmp_path / "s.yaml"), [("carol", "browser")], [], {}, {}, None,
                  "no capture", False, {"carol": contact})
    save(ev, tmp_path)
    back = load(tmp_path).contacts["carol"]
    assert type(back) is BrowserContact and back == contact and back.uri == contact.uri
