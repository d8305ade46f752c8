"""A capture that keeps up with a load, and says when it did not.

* ``capture: {rotate: 1MB, buffer: 128MiB}``: tcpdump starts a new file every
  megabyte; the analysis reads every file, so all calls of a load split over
  several files are judged whole;
* a real kernel overrun (a 256 KiB capture buffer and a burst of 20,000
  datagrams) is counted from tcpdump's own report and makes the capture
  incomplete, with the reason;
* media bounds judged on an incomplete capture are inconclusive (an error that
  says why), never a failure for "loss" -- also after merging generators.
"""
from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

from sipscen.capture.tcpdump import Capture, port_filter, rotated_files, size_bytes
from sipscen.checks import load_media
from sipscen.checks.verdict import conclude
from sipscen.core.ports import PortAllocator
from sipscen.core.results import ERROR, FAILED, PASSED, WIRE
from tests.load.conftest import CALLS, scenario_text
from tests.sipp.conftest import needs_kamailio, needs_sipp, run_file

pytestmark = [pytest.mark.integration, needs_sipp, needs_kamailio,
              pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump not installed")]


@pytest.fixture(scope="module")
def rotated(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("load-rotated")
    path = tmp / "rotated.yaml"
    path.write_text(scenario_text(capture="capture: {rotate: 1MB, buffer: 128MiB}\n",
                                  impair="", one_way=""))
    return run_file(path, tmp)


def test_sizes():
    assert size_bytes("64MiB") == 64 * 2**20 and size_bytes("1MB") == 10**6
    assert size_bytes(4096) == 4096
    with pytest.raises(ValueError):
        size_bytes("lots")


def test_a_rotated_capture_is_read_whole(rotated):
    assert rotated.status == PASSED, [c.to_dict() for c in rotated.failed_checks]
    files = rotated_files(rotated.artifacts["pcap"])
    assert len(files) >= 2 and "pcap1" in rotated.artifacts
    assert all(f.stat().st_size > 0 for f in files)
    summary = rotated.load["caller"]
    # every call judged whole although its packets are spread over the files
    assert summary["calls"] == CALLS and summary["not_whole"] == 0
    assert summary["two_way"] == CALLS and summary["one_way"] == 0
    command = (Path(rotated.artifacts["pcap"]).parent / "tcpdump.stderr.log")
    assert command.exists()


def test_kernel_drops_make_the_capture_incomplete(tmp_path):
    ports = PortAllocator()
    target, marker = ports.port(), ports.port()
    cap = Capture(tmp_path / "drop.pcap", bpf=port_filter([target, marker]),
                  marker_port=marker, buffer_kib=256)
    assert cap.argv()[cap.argv().index("-B") + 1] == "256"
    cap.start()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for _ in range(20000):
            s.sendto(b"x" * 1200, ("127.0.0.1", target))
    cap.stop()
    ports.release()
    assert cap.dropped() > 0
    why = cap.incomplete(cap.captured() or 0, [])
    assert any("the kernel dropped" in w and "capture.buffer" in w for w in why), why
    # the control: a burst the default 64 MiB buffer holds (immediate mode gives it
    # ~1,000 slots of the 64 KiB snapshot length) loses nothing
    ports = PortAllocator()
    target, marker = ports.port(), ports.port()
    cap = Capture(tmp_path / "nodrop.pcap", bpf=port_filter([target, marker]),
                  marker_port=marker)
    cap.start()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for _ in range(500):
            s.sendto(b"x" * 1200, ("127.0.0.1", target))
    cap.stop()
    ports.release()
    assert cap.dropped() == 0 and not any("kernel dropped" in w for w in cap.incomplete(0, []))


def test_media_bounds_on_an_incomplete_capture_are_inconclusive(rotated):
    summary = rotated.load["caller"]
    # bounds that the complete capture fails (MOS 4.38 < 4.5) ...
    failing = load_media.judge("caller", {"mos_p5_min": 4.5, "loss_p95_max": "1%"}, summary,
                               "here")
    assert [r.status for r in failing] == [FAILED, PASSED]
    assert all(r.evidence == WIRE for r in failing)
    # ... say nothing on a capture the kernel did not deliver whole
    result = type(rotated)(name="x", file="x", checks=failing)
    why = "the kernel dropped 12 packets tcpdump did not read in time"
    conclude(result, None, incomplete=[why], capture_faults=[], analysis_failed=False,
             wire_error=None)
    assert result.status == ERROR
    assert all(r.status == ERROR and r.message.startswith("inconclusive") and why in r.message
               for r in failing)


def test_merged_generators_on_an_incomplete_capture_are_inconclusive(rotated):
    from sipscen.report.aggregate import aggregate_group
    from sipscen.core.results import ScenarioResult
    parts = []
    for k, summary in ((1, dict(rotated.load["caller"])),
                       (2, dict(rotated.load["caller"], incomplete=["kernel dropped 3"]))):
        parts.append(ScenarioResult(
            name="gen", file="gen.yaml", status=PASSED, agents=rotated.agents,
            load={"caller": summary},
            distributed={"generator": [k, 2], "load": [
                {"params": {"agent": "caller", "mos_p5_min": 4.0}, "location": "x:1:1",
                 "path": "expect[0]"}]}))
    merged = aggregate_group(parts)
    media = [c for c in merged.checks if "MOS p5" in c.name]
    assert len(media) == 1 and media[0].status == ERROR
    assert "inconclusive" in media[0].message and "kernel dropped 3" in media[0].message
    assert merged.load["caller"]["calls"] == 2 * CALLS
    assert merged.load["caller"]["generators"] == 2
