"""Real tcpdump on the loopback: started before traffic, filtered, flushed on stop."""
import json
import os
import subprocess
import time
import socket

import pytest

from sipscen.capture.tcpdump import Capture, port_filter
from sipscen.core.ports import PortAllocator
from sipscen.core.errors import InfrastructureError

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="capturing on lo needs root")


def _records(path):
    from scapy.utils import RawPcapReader
    return [bytes(data) for data, _meta in RawPcapReader(str(path))]


def test_capture_keeps_only_the_scenarios_ports(tmp_path):
    ports = PortAllocator()
    mine = ports.port()
    lo, hi = ports.range(4)
    other = ports.port()
    marker = ports.port()
    cap = Capture(tmp_path / "c.pcap", bpf=port_filter([mine, (lo, hi), marker]),
                  marker_port=marker)
    cap.start()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for port, payload in ((mine, b"mine-sip"), (lo + 2, b"mine-rtp"), (other, b"not-mine")):
        s.sendto(payload, ("127.0.0.1", port))
    s.close()
    cap.stop()   # drains: the packets just sent are in the file, whatever the load
    ports.release()
    data = b"".join(_records(cap.path))
    assert b"mine-sip" in data and b"mine-rtp" in data
    assert b"not-mine" not in data
    assert cap.artifacts()["pcap"] == str(cap.path)


def test_bad_interface_is_an_infrastructure_error(tmp_path):
    cap = Capture(tmp_path / "c.pcap", interface="no-such-if0")
    with pytest.raises(InfrastructureError, match="tcpdump did not start"):
        cap.start(timeout=3)
    assert cap.proc is not None and not cap.proc.running


def test_port_filter_expression():
    expr = port_filter([5060, (20000, 20019)], extra="host 127.0.0.1")
    assert "port 5060" in expr and "portrange 20000-20019" in expr
    assert expr.endswith("and (host 127.0.0.1)")


def test_stop_drains_a_burst_sent_just_before_it(tmp_path):
    """SIGINT alone loses what tcpdump has not read yet; the drain marker makes
    stop() wait for it. 500 datagrams sent right before stop must all be there."""
    ports = PortAllocator()
    target, marker = ports.port(), ports.port()
    cap = Capture(tmp_path / "burst.pcap", bpf=port_filter([target, marker]), marker_port=marker)
    cap.start()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for i in range(500):
            s.sendto(b"burst-%06d" % i, ("127.0.0.1", target))
    cap.stop()
    ports.release()
    burst = [r for r in _records(cap.path) if b"burst-" in r]
    assert len(burst) == 500
    assert cap.dropped() == 0


@pytest.fixture
def full_disk(tmpfs):
    """A real tmpfs filled up: 0 bytes free."""
    mount = tmpfs("64k")
    try:
        with open(mount / "filler", "wb") as f:
            while True:
                f.write(b"x" * 4096)
                f.flush()
    except OSError as exc:
        assert exc.errno == 28
    return mount


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs and capturing need root")
def test_a_full_disk_is_said_at_once(full_disk):
    """Issue 20: 0 bytes free gave "tcpdump did not start on lo: " (no reason)
    after seconds: tcpdump starts, writes nothing and its log is on that disk."""
    cap = Capture(full_disk / "c.pcap")
    started = time.monotonic()
    with pytest.raises(InfrastructureError) as info:
        cap.start()
    assert time.monotonic() - started < 0.5
    assert str(info.value) == (f"cannot capture on lo: the disk of {full_disk} is full (0 bytes "
                               "free): tcpdump could write neither the capture nor its log")
    assert cap.proc is None                          # nothing was started


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs and capturing need root")
def test_a_run_with_its_artifacts_on_a_full_disk_says_why(tmp_path, full_disk, sipscen,
                                                          no_leftovers):
    path = tmp_path / "s.yaml"
    path.write_text("name: full\nagents:\n  a: {type: pjsua, steps: [{sleep: 100ms}]}\n")
    started = time.monotonic()
    code, out, err = sipscen("run", path, "--artifacts", full_disk / "art", "--json",
                             tmp_path / "r.json", "-q")
    assert code == 3, out + err
    assert time.monotonic() - started < 5
    error = json.loads((tmp_path / "r.json").read_text())["scenarios"][0]["error"]
    assert "No space left on device" in error or "is full (0 bytes free)" in error, error
    assert not error.endswith(": ")


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting needs root")
def test_tcpdump_s_reason_is_read_even_when_its_log_cannot_be_written(tmp_path, full_disk):
    """tcpdump's stderr comes through a pipe: its reason is known when the log
    file's disk is full (the capture's own folder has room here)."""
    cap = Capture(tmp_path / "c.pcap", interface="no-such-if0", log_dir=full_disk)
    with pytest.raises(InfrastructureError) as info:
        cap.start(timeout=3)
    assert "tcpdump did not start on no-such-if0: tcpdump: no-such-if0: " in str(info.value)
    assert "o such device" in str(info.value)
    assert (full_disk / "tcpdump.stderr.log").stat().st_size == 0     # the log could not say it


def test_a_log_folder_that_refuses_files_is_an_infrastructure_error(tmp_path):
    from sipscen.core import process

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with pytest.raises(InfrastructureError, match="cannot start x: its log file"):
        process.start("x", ["true"], log_dir=blocker)
