"""Fixtures for the Kubernetes tests: a stand-in API server, and a real SUT on the
loopback (the example Kamailio in front of a SIPp UAS) that the stand-in publishes
as a Kubernetes Service's EndpointSlice."""
from __future__ import annotations

import shutil
import signal
from pathlib import Path

import pytest

from sipscen.core import process
from sipscen.core.ports import PortAllocator
from sipscen.engine.services import probe_sip_options

from .fakeapi import FakeApiServer

ROOT = Path(__file__).resolve().parents[2]
KAMAILIO_CFG = ROOT / "examples" / "sut" / "kamailio.cfg"


@pytest.fixture(autouse=True)
def fresh_discovery(monkeypatch):
    """Each test its own API server: no cached connection, no discovered endpoint."""
    from sipscen.kube import discovery
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.delenv("JOB_COMPLETION_INDEX", raising=False)
    discovery._cluster = None
    discovery._discovered.clear()
    yield
    discovery._cluster = None
    discovery._discovered.clear()


@pytest.fixture
def api(tmp_path, monkeypatch):
    with FakeApiServer() as server:
        server.config = server.kubeconfig(tmp_path / "kubeconfig", namespace="qa")
        monkeypatch.setenv("KUBECONFIG", str(server.config))
        yield server


def endpoint_slice(service, port, addresses, port_name="sip", ready=True, address_type="IPv4"):
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": f"{service}-x{port}",
                         "labels": {"kubernetes.io/service-name": service}},
            "addressType": address_type,
            "ports": [{"name": port_name, "port": port, "protocol": "UDP"},
                      {"name": "metrics", "port": 9090, "protocol": "TCP"}],
            "endpoints": [{"addresses": [a], "conditions": {} if ready is None else
                           {"ready": ready}} for a in addresses]}


@pytest.fixture
def kamailio_sut(tmp_path):
    """(Kamailio port, UAS port): the example SUT forwarding 9xxx calls to a SIPp UAS."""
    if not (shutil.which("kamailio") and shutil.which("sipp")):
        pytest.skip("kamailio and sipp needed")
    ports = PortAllocator()
    kam, uas, control = ports.port(), ports.port(), ports.port()
    media = ports.range(4)
    procs = []
    try:
        procs.append(process.start(
            "uas", ["sipp", "-sn", "uas", "-i", "127.0.0.1", "-p", str(uas), "-mi", "127.0.0.1",
                    "-mp", str(media[0]), "-cp", str(control), "-ci", "127.0.0.1", "-nostdin",
                    "-timeout", "300s"], log_dir=tmp_path / "sut", stop_signal=signal.SIGINT,
            cwd=tmp_path))
        procs.append(process.start(
            "kamailio", ["kamailio", "-DD", "-E", "-f", str(KAMAILIO_CFG), "-l",
                         f"udp:127.0.0.1:{kam}", "-A", f"UAS_ADDR=127.0.0.1:{uas}"],
            log_dir=tmp_path / "sut"))
        assert process.wait_until(lambda: probe_sip_options("127.0.0.1", kam, 0.2), 10, 0.05), \
            procs[1].stderr_tail()
        yield kam, uas
    finally:
        for p in reversed(procs):
            p.stop()
        ports.release()
