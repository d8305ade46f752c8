"""The container recipe: one source of truth (setup.sh), non-root, the uid the
manifests run as. (The image cannot be built here: no base images can be pulled.)"""
import re
from pathlib import Path

from sipscen.core import process
from sipscen.kube.manifests import IMAGE_WORKDIR, RUN_AS_UID

ROOT = Path(__file__).resolve().parents[2]


def setup_packages(tmp_path, *mode):
    proc = process.start("setup-packages", ["bash", str(ROOT / "setup.sh"), "packages", *mode],
                         log_dir=tmp_path, cwd=ROOT)
    try:
        assert proc.wait(30) == 0, proc.stderr_tail()
    finally:
        proc.stop()
    lines = dict(line.split(": ", 1) for line in proc.stdout_path.read_text().splitlines())
    return lines["apt"].split(), lines["pip"]


def test_the_recipe_installs_through_setup_sh_only():
    text = (ROOT / "Containerfile").read_text()
    steps = [line for line in text.splitlines() if line and not line.startswith("#")]
    runs = [line for line in steps if line.startswith("RUN ")]
    assert runs == ["RUN ./setup.sh image"]
    assert not re.search(r"apt-get|apt |pip |dpkg", "\n".join(steps))   # no second list
    assert f"WORKDIR {IMAGE_WORKDIR}" in steps


def test_the_image_runs_as_the_non_root_user_the_manifests_expect():
    text = (ROOT / "Containerfile").read_text()
    users = re.findall(r"^USER (\d+)(?::(\d+))?$", text, re.M)
    assert users and users[-1][0] == str(RUN_AS_UID) != "0"
    assert f"IMAGE_UID={RUN_AS_UID}" in (ROOT / "setup.sh").read_text()
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".venv" in ignored and ".git" in ignored


def test_image_mode_installs_what_sipscen_runs_with_not_the_test_tools(tmp_path):
    image_apt, image_pip = setup_packages(tmp_path, "image")
    full_apt, full_pip = setup_packages(tmp_path)
    assert {"sip-tester", "tcpdump", "kamailio"} <= set(image_apt) & set(full_apt)
    assert "chromium" not in image_apt and "chromium" in full_apt
    assert "libcap2-bin" in image_apt                  # setcap for tcpdump
    assert image_pip == ".[kube]" and full_pip == ".[test]"
