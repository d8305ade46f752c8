"""Fixtures for `sipscen scaffold`: a customer-like capture, running scenario files."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.scaffold.captures import traffic_gen


@pytest.fixture(scope="session")
def traffic(tmp_path_factory):
    """Three customer-like calls through a proxy, after 40 registrations."""
    path = tmp_path_factory.mktemp("traffic") / "customer.pcap"
    info = traffic_gen.write_traffic(path, calls=3, rtp_seconds=1.0)
    return path, info


@pytest.fixture
def run_file(sipscen, tmp_path):
    """Run a scenario file for real: ``run_file(path) -> (exit code, scenario dict)``."""
    def run(path: Path, *extra):
        report = tmp_path / f"{path.stem}.json"
        code, out, err = sipscen("run", path, "--json", report, "--artifacts",
                                 tmp_path / "art", "-q", *extra)
        assert report.is_file(), out + err
        return code, json.loads(report.read_text())["scenarios"][0]
    return run
