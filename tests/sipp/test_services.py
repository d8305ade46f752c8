"""Services (the SUT as a process of the scenario): plan, start, ready, stop."""
from __future__ import annotations

import sys

import pytest

from sipscen.core.contact import Contact
from sipscen.core.ports import PortAllocator
from sipscen.engine.services import Service, probe_sip_options
from sipscen.core.errors import InfrastructureError, Location, ScenarioError
from sipscen.core.model import ServiceSpec

from .conftest import KAMAILIO_CFG, needs_kamailio

pytestmark = pytest.mark.integration


def spec(name: str = "sut", **config) -> ServiceSpec:
    config.setdefault("address", "127.0.0.1")
    config.setdefault("port", "auto")
    config.setdefault("transport", "udp")
    return ServiceSpec(name=name, config=config, location=Location("s.yaml", 4, 3),
                       path=f"services.{name}")


@pytest.fixture
def ports():
    allocator = PortAllocator("127.0.0.1")
    yield allocator
    allocator.release()


@pytest.fixture
def services():
    started: list[Service] = []
    yield started
    for s in started:
        s.stop()


@needs_kamailio
def test_kamailio_as_a_service_answers_options_then_stops(tmp_path, ports, services):
    service = Service(spec(command=["kamailio", "-DD", "-E", "-f", str(KAMAILIO_CFG),
                                    "-l", "udp:127.0.0.1:${sut.port}",
                                    "-A", "UAS_ADDR=${uas.hostport}"],
                           ready={"sip_options": True, "timeout": "10s"}),
                      tmp_path / "sut", ports)
    services.append(service)
    contact = service.plan()
    contacts = {"sut": contact, "uas": Contact("uas", "127.0.0.1", 5099)}
    service.start(contacts, tmp_path)
    assert f"udp:127.0.0.1:{contact.port}" in service.argv
    assert "UAS_ADDR=127.0.0.1:5099" in service.argv
    service.ready(10)
    assert service.ready_status == "SIP/2.0 200 Keepalive"
    assert probe_sip_options("127.0.0.1", contact.port, 1.0) == "SIP/2.0 200 Keepalive"
    service.stop()
    service.stop()   # idempotent
    assert not service.proc.running
    assert probe_sip_options("127.0.0.1", contact.port, 0.3) is None
    logs = service.artifacts()
    assert set(logs) == {"stdout", "stderr"}
    assert "Listening on" in open(logs["stderr"]).read() + open(logs["stdout"]).read()


def test_a_service_that_exits_is_an_infrastructure_error_with_its_log(tmp_path, ports, services):
    service = Service(spec(command=[sys.executable, "-c",
                                    "import sys; print('no config here', file=sys.stderr); sys.exit(4)"]),
                      tmp_path / "sut", ports)
    services.append(service)
    service.plan()
    service.start({}, tmp_path)
    with pytest.raises(InfrastructureError, match=r"exited with code 4[\s\S]*no config here"):
        service.ready(5)


def test_a_service_never_ready_times_out(tmp_path, ports, services):
    service = Service(spec(command=[sys.executable, "-c", "import time; time.sleep(30)"],
                           ready={"sip_options": True, "timeout": "600ms"}),
                      tmp_path / "sut", ports)
    services.append(service)
    service.plan()
    service.start({}, tmp_path)
    with pytest.raises(InfrastructureError, match="not ready within 0.6s"):
        service.ready(10)
    service.stop()
    assert not service.proc.running


def test_log_line_readiness_and_environment(tmp_path, ports, services):
    code = "import os, time; print('up on', os.environ['GREETING'], flush=True); time.sleep(30)"
    service = Service(spec(command=[sys.executable, "-c", code], env={"GREETING": "port-${sut.port}"},
                           ready={"log": r"up on port-\d+"}, stop_signal="SIGINT"),
                      tmp_path / "sut", ports)
    services.append(service)
    contact = service.plan()
    service.start({"sut": contact}, tmp_path)
    service.ready(5)
    assert "log matched" in service.ready_status


def test_unknown_reference_and_non_loopback_address_are_scenario_errors(tmp_path, ports):
    service = Service(spec(command=["kamailio", "-A", "X=${nobody.port}"]), tmp_path, ports)
    contact = service.plan()
    with pytest.raises(ScenarioError, match="unknown agent or service 'nobody'"):
        service.start({"sut": contact}, tmp_path)
    with pytest.raises(ScenarioError, match="loopback"):
        Service(spec(command=["x"], address="192.0.2.1"), tmp_path, ports).plan()


def test_missing_command_is_an_infrastructure_error(tmp_path, ports):
    service = Service(spec(command=["no-such-sut-binary"]), tmp_path, ports)
    service.plan()
    with pytest.raises(InfrastructureError, match="'no-such-sut-binary' not found"):
        service.start({}, tmp_path)


def test_secrets_are_masked_in_the_kept_command_line_and_a_daemon_is_explained(
        tmp_path, ports, services):
    service = Service(spec(command=[sys.executable, "-c", "pass", "--token", "hunter2secret"]),
                      tmp_path / "sut", ports, secrets={"hunter2secret"})
    services.append(service)
    service.plan()
    service.start({}, tmp_path)
    kept = (tmp_path / "sut" / "command.txt").read_text()
    assert "hunter2secret" not in kept and "--token ***" in kept
    with pytest.raises(InfrastructureError, match="must stay in the foreground"):
        service.ready(5)
