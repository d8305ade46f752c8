"""The load-with-media run the tests of this folder share (one module-scoped run each)."""
from __future__ import annotations

from pathlib import Path

import pytest

from sipscen.core.results import PASSED
from tests.sipp.conftest import KAMAILIO_CFG, run_file

PCAP = Path(__file__).resolve().parents[2] / "scenarios" / "load" / "audio" / "g711a-3s.pcap"
CALLS = 30

SCENARIO = f"""name: load-media-test
timeout: 40s
CAPTURE
services:
  sut:
    command: [kamailio, -DD, -E, -f, {KAMAILIO_CFG}, -l, "udp:127.0.0.1:${{sut.port}}",
              -A, "UAS_ADDR=${{uas.hostport}}"]
    ready: {{sip_options: true, timeout: 10s}}
agents:
  uas:
    type: sipp
    scenario: uas
    calls: {CALLS}
    media: {{play_pcap: {PCAP}}}
IMPAIR
  caller:
    type: sipp
    target: sut
    user: "9000"
    rate: 20
    calls: {CALLS}
    limit: 100
    duration: 0
    media: {{play_pcap: {PCAP}ONE_WAY}}
expect:
  - load: {{agent: caller, calls_min: {CALLS}, mos_p5_min: 3.0, loss_p95_max: 6%,
            jitter_p95_max: 30ms, two_way_media_min: 85%, one_way_calls_max: 3,
            setup_p95_max: 200ms, interval: 1s}}
"""


def scenario_text(capture: str = "capture: {buffer: 128MiB}\n", impair: str = "    impair: {loss: 5%, seed: 3}\n",
                  one_way: str = ", one_way_every: 10") -> str:
    return SCENARIO.replace("CAPTURE\n", capture).replace("IMPAIR\n", impair).replace(
        "ONE_WAY", one_way)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("load-media")
    path = tmp / "load-media.yaml"
    path.write_text(scenario_text())
    result = run_file(path, tmp)
    assert result.status == PASSED, (result.error, [c.to_dict() for c in result.failed_checks])
    return result


