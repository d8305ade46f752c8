"""SUT discovery through EndpointSlices (real `kubernetes` client, stand-in API
server) and the destinations sipscen accepts on and off a cluster."""
import json

import pytest

pytest.importorskip("kubernetes")

from sipscen.core.network import require_loopback  # noqa: E402
from sipscen.core.errors import ScenarioError  # noqa: E402
from sipscen.kube import discovery  # noqa: E402
from sipscen.kube.client import connect  # noqa: E402

from .conftest import endpoint_slice  # noqa: E402


def test_only_ready_endpoints_of_the_named_port(api):
    api.cluster.slices[("qa", "kamailio")] = [
        endpoint_slice("kamailio", 5060, ["127.0.0.2", "127.0.0.4"]),
        endpoint_slice("kamailio", 5060, ["127.0.0.3"], ready=False),   # not ready: out
        endpoint_slice("kamailio", 5060, ["127.0.0.6"], ready=None),    # unset = ready
        endpoint_slice("kamailio", 5070, ["127.0.0.5"]),
        endpoint_slice("kamailio", 5060, ["sut.example"], address_type="FQDN"),
        endpoint_slice("kamailio", 5080, ["127.0.0.7"], port_name="sip-tls"),
    ]
    found = discovery.ready_endpoints(connect(None), "qa", "kamailio", "sip")
    assert found == [("127.0.0.2", 5060, "UDP"), ("127.0.0.4", 5060, "UDP"),
                     ("127.0.0.5", 5070, "UDP"), ("127.0.0.6", 5060, "UDP")]
    query = [q for v, r, q in api.cluster.requests if r == "endpointslices"][0]
    assert query["labelSelector"] == "kubernetes.io/service-name=kamailio"
    with pytest.raises(ScenarioError, match="no port named 'sips'.*metrics, sip"):
        discovery.ready_endpoints(connect(None), "qa", "kamailio", "sips")


def test_pod_k_takes_the_kth_endpoint(api, tmp_path, monkeypatch):
    from sipscen.kube.discovery import KubeService
    from sipscen.core.model import ServiceSpec

    api.cluster.slices[("qa", "kamailio")] = [
        endpoint_slice("kamailio", 5060, ["127.0.0.2", "127.0.0.3", "127.0.0.4"])]
    spec = ServiceSpec("sut", {"kube": {"name": "kamailio", "port": "sip"}}, None, "services.sut")
    picked = []
    for index in ("0", "1", "2", "3"):
        monkeypatch.setenv("JOB_COMPLETION_INDEX", index)
        picked.append(KubeService(spec, tmp_path, None).plan().host)   # namespace: kubeconfig's
    assert picked == ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.2"]


def scenario(tmp_path, name="kamailio", extra=""):
    path = tmp_path / "probe.yaml"
    path.write_text(f"""\
name: discovered-sut
timeout: 20s
capture: false
services:
  sut:
    kube: {{namespace: qa, name: {name}, port: sip}}
    ready: {{sip_options: true, timeout: 5s}}
agents:
  prober:
    type: sipp
    target: sut
    messages:
      - send: |
          OPTIONS sip:[remote_ip]:[remote_port] SIP/2.0
          Via: SIP/2.0/UDP [local_ip]:[local_port];branch=[branch]
          From: <sip:p@[local_ip]:[local_port]>;tag=[call_number]
          To: <sip:[remote_ip]:[remote_port]>
          Call-ID: [call_id]
          CSeq: 1 OPTIONS
          Max-Forwards: 70
          Content-Length: 0
        expect: {{status: 200}}
expect:
  - response: {{agent: prober}}
{extra}""")
    return path


@pytest.mark.integration
def test_a_scenario_reaches_the_sut_found_through_the_api(sipscen, api, kamailio_sut, tmp_path):
    kam, _ = kamailio_sut
    api.cluster.slices[("qa", "kamailio")] = [
        endpoint_slice("kamailio", kam, ["127.0.0.1"]),
        endpoint_slice("kamailio", 1, ["127.0.0.9"], ready=False)]    # would fail if used
    out = tmp_path / "r.json"
    code, _, err = sipscen("run", scenario(tmp_path), "-q", "--artifacts", tmp_path / "a",
                           "--json", out)
    assert code == 0, err
    result = json.loads(out.read_text())["scenarios"][0]
    assert result["status"] == "passed"
    assert f"127.0.0.1:{kam}" in open(result["artifacts"]["sut.endpoints"]).read()


def test_no_ready_endpoint_is_infrastructure_and_off_loopback_is_refused(sipscen, api, tmp_path):
    api.cluster.slices[("qa", "kamailio")] = [
        endpoint_slice("kamailio", 5060, ["127.0.0.1"], ready=False)]
    code, out, err = sipscen("run", scenario(tmp_path), "-q", "--artifacts", tmp_path / "a")
    assert code == 3 and "has no ready endpoint" in out + err
    api.cluster.slices[("qa", "remote")] = [endpoint_slice("remote", 5060, ["10.1.2.3"])]
    code, out, err = sipscen("run", scenario(tmp_path, "remote"), "-q",
                             "--artifacts", tmp_path / "b")
    assert code == 2 and "resolved to 10.1.2.3" in out + err and "refused" in out + err


def test_forbidden_discovery_names_list_endpointslices(sipscen, api, tmp_path):
    api.cluster.forbid = {("list", "endpointslices")}
    code, out, err = sipscen("run", scenario(tmp_path), "-q", "--artifacts", tmp_path / "a")
    assert code == 3
    assert "verb 'list' on the resource 'endpointslices' in namespace 'qa'" in out + err


def test_in_a_pod_only_own_address_and_discovered_endpoints(api, tmp_path, monkeypatch):
    """Planning only: no packet leaves for these addresses."""
    from sipscen.kube.discovery import KubeService
    from sipscen.core.model import ServiceSpec

    from sipscen.core import network
    monkeypatch.setattr(discovery, "in_cluster", lambda: True)
    monkeypatch.setattr(network, "in_cluster", lambda: True)
    monkeypatch.setenv("SIPSCEN_POD_IP", "10.0.0.9")
    api.cluster.slices[("qa", "kamailio")] = [endpoint_slice("kamailio", 5060, ["10.0.0.7"])]
    spec = ServiceSpec("sut", {"kube": {"namespace": "qa", "name": "kamailio", "port": "sip"}},
                       None, "services.sut")
    contact = KubeService(spec, tmp_path, None).plan()
    assert contact.hostport == "10.0.0.7:5060"
    assert require_loopback("10.0.0.7", "target") == "10.0.0.7"     # discovered SUT
    assert require_loopback("10.0.0.9", "address") == "10.0.0.9"    # the pod itself
    with pytest.raises(ScenarioError, match="10.0.0.8 is not a loopback address"):
        require_loopback("10.0.0.8", "target")
    monkeypatch.setattr(discovery, "in_cluster", lambda: False)     # off the cluster: none
    monkeypatch.setattr(network, "in_cluster", lambda: False)
    with pytest.raises(ScenarioError):
        require_loopback("10.0.0.7", "target")
