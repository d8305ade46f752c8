"""What sipscen installs and imports: the name ``sipscen`` only, and no child process
or plugin that can be broken by a file in the user's working directory."""
import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SIPSCEN = Path(sys.executable).with_name("sipscen")
POISON = "raise SystemExit('imported from the working directory: {}')\n"


def test_distribution_installs_only_the_sipscen_import_package():
    tops = {name for name, dists in importlib.metadata.packages_distributions().items()
            if "sipscen" in dists}
    assert tops == {"sipscen"}
    import sipscen
    # the import name is the folder: runner/ is only the source root (like src/)
    assert Path(sipscen.__file__).resolve().parent == ROOT / "runner" / "sipscen"
    # nothing named ``runner`` is importable outside the checkout
    proc = subprocess.run([sys.executable, "-I", "-c", "import runner"], cwd=Path("/"),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "ModuleNotFoundError" in proc.stderr


def _poisoned_cwd(tmp_path: Path) -> Path:
    cwd = tmp_path / "user-project"
    cwd.mkdir()
    for module in ("runner", "sipscen", "pjsua2", "yaml", "scapy"):
        (cwd / f"{module}.py").write_text(POISON.format(module))
    return cwd


@pytest.mark.integration
@pytest.mark.skipif(os.geteuid() != 0, reason="the demo captures on lo, which needs root")
def test_pjsua_workers_ignore_modules_in_the_working_directory(tmp_path):
    cwd = _poisoned_cwd(tmp_path)
    proc = subprocess.run(
        [str(SIPSCEN), "run", str(ROOT / "examples" / "demo.yaml"), "-q",
         "--artifacts", str(tmp_path / "art")],
        cwd=cwd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "imported from the working directory" not in proc.stdout + proc.stderr


def test_pytest_plugin_survives_a_runner_module_in_an_unrelated_project(tmp_path):
    cwd = tmp_path / "other-project"
    cwd.mkdir()
    (cwd / "runner.py").write_text(POISON.format("runner"))
    (cwd / "test_other.py").write_text("def test_other():\n    assert 1 + 1 == 2\n")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                          cwd=cwd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout
