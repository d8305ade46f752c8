"""Issue 12: a report on a full disk is a clear error, leaves no .tmp file and does
not keep the other reports from being written. A real, small tmpfs fills up."""
import os
import xml.etree.ElementTree as ET

import pytest

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")


@pytest.fixture
def full_disk(tmpfs):
    mount = tmpfs("64k")
    try:
        with open(mount / "filler", "wb") as f:
            while True:
                f.write(b"x" * 4096)
                f.flush()
    except OSError as exc:
        assert exc.errno == 28          # ENOSPC: the disk is full now
    return mount


def test_reports_on_a_full_disk(sipscen, tmp_path, full_disk):
    scenario = tmp_path / "bad.yaml"
    scenario.write_text("name: x\nagents: {a: {type: pjsua, codecs: [XYZ]}}\n")
    junit = tmp_path / "ok.xml"
    code, out, err = sipscen("run", scenario, "--json", full_disk / "r.json", "--junit", junit,
                              "--html", full_disk / "r.html", "--artifacts", tmp_path / "art")
    assert code == 3, out + err
    assert "internal error" not in err
    assert f"cannot write the JSON report {full_disk / 'r.json'}: No space left on device" in err
    assert f"cannot write the HTML report {full_disk / 'r.html'}: No space left on device" in err
    assert sorted(p.name for p in full_disk.iterdir()) == ["filler"]      # no 0-byte .tmp
    assert ET.parse(junit).getroot().get("tests") == "1"                  # the others written
