"""`sipscen run` on broken SIPp set-ups: clear messages and exit codes 2/3, no traceback."""
from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from .conftest import needs_sipp

pytestmark = [pytest.mark.integration, needs_sipp]


def sipscen(args: list[str], cwd, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sipscen", "run", "-q", "--artifacts",
                           str(cwd / "art"), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60, env=env)


def assert_clean(out: subprocess.CompletedProcess) -> str:
    text = out.stdout + out.stderr
    assert "Traceback" not in text, text
    return text


def test_bad_sipp_xml_exits_2_with_its_location(tmp_path):
    (tmp_path / "calls.xml").write_text('<scenario name="c">\n  <send>\n    <oops>\n</scenario>\n')
    (tmp_path / "s.yaml").write_text("name: bad-xml\ncapture: {enabled: false}\nagents:\n"
                                     "  c: {type: sipp, scenario: calls.xml, target: '127.0.0.1:9'}\n")
    out = sipscen(["s.yaml"], tmp_path)
    text = assert_clean(out)
    assert out.returncode == 2, text
    assert f"{tmp_path / 'calls.xml'}:4:" in text and "not well-formed" in text


def test_missing_sipp_exits_3(tmp_path):
    (tmp_path / "s.yaml").write_text(
        "name: no-sipp\ncapture: {enabled: false}\nagents:\n"
        "  c: {type: sipp, target: '127.0.0.1:9', messages: ['OPTIONS sip:x SIP/2.0']}\n")
    env = dict(os.environ, PATH=str(tmp_path / "empty-bin"))
    out = sipscen(["s.yaml"], tmp_path, env=env)
    text = assert_clean(out)
    assert out.returncode == 3, text
    assert "'sipp' not found on PATH" in text


def test_port_in_use_exits_3(tmp_path):
    busy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    busy.bind(("127.0.0.1", 0))
    port = busy.getsockname()[1]
    try:
        (tmp_path / "s.yaml").write_text(
            f"name: busy\ncapture: {{enabled: false}}\nagents:\n"
            f"  uas: {{type: sipp, scenario: uas, port: {port}}}\n")
        out = sipscen(["s.yaml"], tmp_path)
    finally:
        busy.close()
    text = assert_clean(out)
    assert out.returncode == 3, text
    assert "could not bind" in text and str(port) in text
