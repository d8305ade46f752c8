"""Real tcpdump on the loopback: started before traffic, filtered, flushed on stop."""
import os
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
