"""Load through the example SUT: the 1,000-call smoke test once, thresholds, SIGINT."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from sipscen.core.results import FAILED, PASSED

from .conftest import (SCENARIOS, by_name, copy_scenario, needs_kamailio, needs_sipp,
                       processes_in, run_file)

pytestmark = [pytest.mark.integration, needs_sipp, needs_kamailio]

SMOKE = SCENARIOS / "load" / "smoke-50cps.yaml"


def test_load_smoke_1000_calls_at_50cps_through_kamailio(tmp_path):
    result = run_file(SMOKE, tmp_path)
    assert result.status == PASSED, (result.error, [c.to_dict() for c in result.failed_checks])
    stats = result.agents["caller"]["stats"]
    assert stats["attempted"] == 1000
    assert stats["successful"] >= 995
    assert stats["target_rate"] == 50
    assert stats["response_time_ms"]["count"] >= 995
    assert result.agents["uas"]["stats"]["attempted"] >= 995
    for label in ("stat", "rtt", "counts", "shortmessages"):   # errors.log only on errors
        assert f"caller.{label}" in result.artifacts, label


def test_threshold_above_what_the_run_achieves_fails_with_expected_and_actual(tmp_path):
    path = copy_scenario(SMOKE, tmp_path, {
        "    rate: 50\n    calls: 1000\n": "    rate: 100\n    calls: 200\n",
        "      calls_min: 1000\n": "      calls_min: 201\n",
        "  - load: {agent: uas, calls_min: 995}": "  - load: {agent: uas, calls_min: 190}"})
    result = run_file(path, tmp_path)
    assert result.status == FAILED
    checks = by_name(result.checks)
    made = checks["load caller: calls made"]
    assert made.status == FAILED and made.expected == ">= 201" and made.actual == 200
    assert "expected >= 201, got 200" in made.message
    assert checks["load caller: success rate"].status == PASSED
    assert checks["load uas: calls made"].status == PASSED


def test_sigint_during_a_load_run_leaves_no_sipp_or_kamailio_behind(tmp_path):
    path = copy_scenario(SMOKE, tmp_path)
    art = tmp_path / "art"
    proc = subprocess.Popen([sys.executable, "-m", "sipscen", "run", "-q", "--artifacts", str(art),
                             str(path)], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not list(art.glob("*/caller/stat.csv")):
            time.sleep(0.1)
        assert list(art.glob("*/caller/stat.csv")), "the load never started"
        assert processes_in(tmp_path), "expected SIPp and Kamailio running in the test folder"
        time.sleep(1.0)
    except BaseException:
        _kill(proc)
        raise
    _interrupt_and_expect_nothing_left(proc, tmp_path)


def test_sigint_during_the_malformed_library_leaves_nothing_behind(tmp_path):
    for src in sorted((SCENARIOS / "malformed").glob("*.yaml")):
        copy_scenario(src, tmp_path)
    art = tmp_path / "art"
    proc = subprocess.Popen([sys.executable, "-m", "sipscen", "run", "-q", "--artifacts", str(art),
                             str(tmp_path / "scenarios" / "malformed")], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(list(art.glob("*"))) < 3:
            time.sleep(0.05)
        assert len(list(art.glob("*"))) >= 3, "the library never started"
    except BaseException:
        _kill(proc)
        raise
    _interrupt_and_expect_nothing_left(proc, tmp_path)


def _interrupt_and_expect_nothing_left(proc, folder) -> None:
    """SIGINT the sipscen run: it must exit 130 and leave no process of ``folder``."""
    try:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    finally:
        _kill(proc)
    assert proc.returncode == 130, out.decode(errors="replace")[-2000:]
    time.sleep(0.2)
    assert processes_in(folder) == []


def _kill(proc) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
