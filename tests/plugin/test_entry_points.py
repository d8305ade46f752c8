"""The ``sipscen.language`` entry-point group: an installed package adds an agent
type, a step kind and an expectation family (tests/plugin/sipscen-responder,
the worked example of docs/EXTENDING.md), installed here into a venv of its own."""
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import sipscen

HERE = Path(__file__).resolve().parent
PLUGIN = HERE / "sipscen-responder"
ROOT = HERE.parents[1]


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    """A venv that sees this environment's packages (sipscen and its dependencies)
    through a .pth file, with the plugin installed into it by pip."""
    base = tmp_path_factory.mktemp("plugin-venv")
    home = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(home)], check=True,
                   timeout=120)
    python = home / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig."
                                "get_paths()['purelib'])"], capture_output=True, text=True,
                               check=True).stdout.strip())
    source_root = Path(sipscen.__file__).resolve().parents[1]
    (site / "base-environment.pth").write_text(
        f"{sysconfig.get_paths()['purelib']}\n{source_root}\n")
    build = base / "build"
    shutil.copytree(PLUGIN, build)        # pip builds in place: keep the checkout clean
    proc = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps",
                           "--no-build-isolation", "--no-index", "--disable-pip-version-check",
                           str(build)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return python, site


def _sipscen(python, *args, cwd=None):
    return subprocess.run([str(python), "-m", "sipscen", *map(str, args)], capture_output=True,
                          text=True, timeout=120, cwd=cwd)


def test_the_plugins_records_are_in_validate_schema_and_doc(venv):
    python, _ = venv
    assert _sipscen(python, "validate", PLUGIN / "scenario.yaml").returncode == 0
    doc = _sipscen(python, "doc").stdout
    for name in ("`responder`", "`note`", "`user_agent`"):
        assert name in doc
    schema = json.loads(_sipscen(python, "schema").stdout)
    assert "responder_agent" in schema["$defs"]
    # the shipped schema and reference stay the built-in language's
    shipped = (ROOT / "schemas" / "scenario.schema.json").read_text("utf-8")
    assert "responder" not in shipped and "user_agent" not in shipped


def test_without_the_plugin_the_scenario_is_refused_at_its_location():
    proc = subprocess.run([sys.executable, "-m", "sipscen", "validate",
                           str(PLUGIN / "scenario.yaml")], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2
    out = proc.stdout + proc.stderr
    assert "scenario.yaml:6:11: agents.busy.type: unknown value 'responder'" in out
    assert "scenario.yaml:16:9: agents.alice.steps[2].note: unknown key 'note'" in out
    assert "expect[1].user_agent: unknown key 'user_agent'" in out


@pytest.mark.integration
@pytest.mark.skipif(os.geteuid() != 0, reason="the run captures on lo, which needs root")
def test_a_scenario_using_the_plugin_runs_and_its_negative_control_fails(venv, tmp_path):
    python, _ = venv
    proc = _sipscen(python, "run", PLUGIN / "scenario.yaml", "-q", "--artifacts",
                    tmp_path / "a", "--json", tmp_path / "r.json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    scenario = report["scenarios"][0]
    checks = {c["name"]: c for c in scenario["checks"]}
    ua = checks["user_agent alice"]
    assert ua["status"] == "passed" and ua["evidence"] == "wire" and ua["actual"] == ["sipscen-pjsua"]
    assert any(c["name"].startswith("call alice->busy: status") and c["actual"] == 486
               for c in scenario["checks"])
    notes = [e for e in scenario["events"] if e.get("kind") == "note"]
    assert [n["text"] for n in notes] == ["waiting for alice", "alice was turned away"]

    wrong = tmp_path / "wrong.yaml"          # the same run with the expectation made false
    wrong.write_text((PLUGIN / "scenario.yaml").read_text().replace('"^sipscen-pjsua"', '"^Linphone"'))
    proc = _sipscen(python, "run", wrong, "-q", "--artifacts", tmp_path / "b")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "user_agent alice" in proc.stdout


def test_a_broken_plugin_is_a_warning_and_the_builtin_language_still_works(venv, tmp_path):
    python, site = venv
    dist = site / "sipscen_broken-0.1.dist-info"
    dist.mkdir(exist_ok=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: sipscen-broken\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[sipscen.language]\nbroken = no_such_module_here\n")
    try:
        proc = _sipscen(python, "validate", ROOT / "examples" / "demo.yaml")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "plugin 'broken = no_such_module_here'" in proc.stderr
        assert "could not be loaded: ModuleNotFoundError" in proc.stderr
    finally:
        shutil.rmtree(dist)
