"""The system under test as a Kubernetes Service, and where sipscen may send.

A service entry ``kube: {namespace, name, port}`` is not started: at plan time
its EndpointSlices (discovery.k8s.io/v1, label
``kubernetes.io/service-name=NAME``) are listed, the endpoints that are ready
(``conditions.ready`` true, or unset, which the API defines as ready) with an
address of type IPv4 or IPv6 and a port of that name are kept, and one of them
becomes the service's contact: agents target it by name as any other service.
With several, pod K of an Indexed Job (``JOB_COMPLETION_INDEX``) takes the
K-th (modulo), so generators spread over the SUT's endpoints.

Destinations (:func:`allowed`, handed to ``sipscen.core.network`` on import):
on a machine that is not a Kubernetes pod, loopback only; an endpoint
discovered off the loopback is refused. In a pod: loopback, the pod's own
address (``SIPSCEN_POD_IP``, from the downward API) and the endpoints
discovered in this process; nothing else.
"""
from __future__ import annotations

import ipaddress
import os
import threading
from pathlib import Path
from typing import Any
import time

from sipscen.core import network
from sipscen.core.contact import Contact
from sipscen.core.errors import InfrastructureError, ScenarioError
from sipscen.kube.client import Cluster, call, connect, in_cluster
from sipscen.kube.jobindex import INDEX_VARIABLE
from sipscen.core.model import ServiceSpec
from sipscen.core.model import parse_duration
from sipscen.engine.services import probe_sip_options


_discovered: set[str] = set()
_lock = threading.Lock()
_cluster: Cluster | None = None


def allowed(ip: str) -> bool:
    """A discovered SUT endpoint, in a pod (the pod's own address is allowed by
    ``sipscen.core.network`` itself)."""
    if not in_cluster():
        return False
    with _lock:
        return ip in _discovered


network.add_policy(allowed)


def _shared_cluster() -> Cluster:
    global _cluster
    with _lock:
        if _cluster is None:
            _cluster = connect(None)
        return _cluster


def ready_endpoints(cluster: Cluster, namespace: str, service: str, port_name: str,
                    where: str = "", location=None) -> list[tuple[str, int, str]]:
    """(address, port, protocol) of every ready endpoint of the Service's named port."""
    from kubernetes import client  # lazy: optional (the kube extra)

    api = client.DiscoveryV1Api(cluster.api)
    slices = call("list", "endpointslices", namespace, api.list_namespaced_endpoint_slice,
                  namespace, label_selector=f"kubernetes.io/service-name={service}")
    found: set[tuple[str, int, str]] = set()
    port_names: set[str] = set()
    for s in slices.items or []:
        if s.address_type not in ("IPv4", "IPv6"):
            continue
        ports = [p for p in s.ports or [] if p.port is not None]
        port_names.update(p.name or "" for p in ports)
        port = next((p for p in ports if (p.name or "") == port_name), None)
        if port is None:
            continue
        for ep in s.endpoints or []:
            ready = ep.conditions.ready if ep.conditions else None
            if ready is False:
                continue
            for address in ep.addresses or []:
                found.add((str(ipaddress.ip_address(address)), int(port.port),
                           (port.protocol or "TCP").upper()))
    if slices.items and port_names and port_name not in port_names:
        raise ScenarioError(f"Kubernetes Service {namespace}/{service} has no port named "
                            f"'{port_name}' (its ports: {', '.join(sorted(port_names))})",
                            location, where)
    return sorted(found)


class KubeService:
    """A ``services:`` entry with ``kube``: discovered at plan, never started or stopped."""

    def __init__(self, spec: ServiceSpec, artifacts_dir: Path, ports: Any,
                 secrets: frozenset[str] | set[str] = frozenset()):
        self.spec = spec
        self.dir = artifacts_dir
        self.contact: Contact | None = None
        self.endpoints: list[tuple[str, int, str]] = []
        self.ready_status: str | None = None

    def plan(self) -> Contact:
        kube = dict(self.spec.config.get("kube") or {})
        where = f"{self.spec.path}.kube"
        cluster = _shared_cluster()
        ns = kube.get("namespace") or cluster.namespace
        name, port_name = kube["name"], kube["port"]
        self.endpoints = ready_endpoints(cluster, ns, name, port_name, where,
                                         self.spec.location)
        if not self.endpoints:
            raise InfrastructureError(f"Kubernetes Service {ns}/{name} (port '{port_name}') "
                                      "has no ready endpoint")
        index = os.environ.get(INDEX_VARIABLE, "").strip()
        pick = int(index) if index.isdigit() else 0
        host, port, protocol = self.endpoints[pick % len(self.endpoints)]
        if not ipaddress.ip_address(host).is_loopback:
            if not in_cluster():
                raise ScenarioError(
                    f"Kubernetes Service {ns}/{name} resolved to {host}, which is not a "
                    "loopback address, and sipscen is not running in a Kubernetes pod: "
                    "refused (off a cluster sipscen sends to loopback addresses only)",
                    self.spec.location, where)
            with _lock:
                _discovered.update(h for h, _, _ in self.endpoints)
        # the Service port's protocol, unless the scenario says (e.g. tls over TCP)
        transport = str(self.spec.config.get("transport") or
                        ("tcp" if protocol == "TCP" else "udp"))
        self.contact = Contact(self.spec.name, host, port, transport)
        self.ready_status = f"discovered {ns}/{name}:{port_name} -> {self.contact.hostport}"
        return self.contact

    def start(self, contacts: dict[str, Contact], scenario_dir: Path) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        lines = [f"{h}:{p}/{proto}" for h, p, proto in self.endpoints]
        (self.dir / "endpoints.txt").write_text(
            f"{self.ready_status}\nready endpoints:\n" + "\n".join(lines) + "\n")

    def ready(self, timeout: float = 10.0) -> None:
        """With ``ready: {sip_options: true}``, the chosen endpoint must answer OPTIONS."""

        how = dict(self.spec.config.get("ready") or {})
        if not how.get("sip_options"):
            return
        if "timeout" in how:
            timeout = parse_duration(how["timeout"])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if probe_sip_options(self.contact.host, self.contact.port, 0.2):
                return
        raise InfrastructureError(f"service '{self.spec.name}' ({self.ready_status}) did not "
                                  f"answer OPTIONS within {timeout:g}s")

    def stop(self) -> None:
        pass

    def artifacts(self) -> dict[str, str]:
        path = self.dir / "endpoints.txt"
        return {"endpoints": str(path)} if path.exists() else {}
