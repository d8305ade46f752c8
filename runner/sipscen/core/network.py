"""Where sipscen may send: the loopback policy, one check for agents and services.

sipscen talks to loopback addresses (127.0.0.0/8, ::1) only. The one
exception is a Kubernetes pod: there sipscen.kube.discovery hands in a policy
(:func:`add_policy`) that also allows the pod's own address and the SUT
endpoints it discovered; this module never imports it.
"""
from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Callable

from sipscen.core.errors import Location, ScenarioError

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
POD_IP_VARIABLE = "SIPSCEN_POD_IP"       # the pod's own address (kube manifests set it)

_policies: list[Callable[[str], bool]] = []


def in_cluster() -> bool:
    """True inside a Kubernetes pod that has a ServiceAccount token."""
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST")) and \
        (SERVICE_ACCOUNT_DIR / "token").is_file()


def add_policy(allows: Callable[[str], bool]) -> None:
    """Also allow the non-loopback addresses for which ``allows(ip)`` is true."""
    if allows not in _policies:
        _policies.append(allows)


def allowed(ip: str) -> bool:
    """Whether this non-loopback address is allowed: in a pod, its own address
    (``SIPSCEN_POD_IP``, from the downward API); or a policy handed in allows it."""
    own = os.environ.get(POD_IP_VARIABLE, "").strip()
    if own and in_cluster() and _same(own, ip):
        return True
    return any(allows(ip) for allows in _policies)


def _same(a: str, b: str) -> bool:
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return False


def require_loopback(host: str, where: str, location: Location | None = None) -> str:
    """``host`` (brackets allowed), normalised, if it is a loopback address; else a
    ScenarioError at ``location``/``where``: sipscen talks to loopback addresses only
    (in a Kubernetes pod, also to its own address and the discovered SUT endpoints).

    The one check for agents and services alike."""
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        raise ScenarioError(f"'{host}' is not an IP address (sipscen talks to loopback "
                            "addresses only)", location, where) from None
    if not ip.is_loopback and not allowed(str(ip)):
        raise ScenarioError(f"{host} is not a loopback address: sipscen only sends on "
                            "127.0.0.0/8 and ::1 (in a Kubernetes pod also to the pod's own "
                            "address and the discovered SUT endpoints)", location, where)
    return str(ip)
