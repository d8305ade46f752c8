"""The official ``kubernetes`` client, configured, and every call's errors made plain.

Configuration, first that applies: ``--kubeconfig FILE``; in-cluster (the
pod's ServiceAccount token, ``KUBERNETES_SERVICE_HOST``); ``$KUBECONFIG`` or
``~/.kube/config``. Every API call goes through :func:`call`, which names the
verb and resource it needs, so a 403 says exactly what the Role lacks.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable
import json

from sipscen.core.errors import InfrastructureError, KubeAccessError, UsageError
from sipscen.core.network import SERVICE_ACCOUNT_DIR, in_cluster  # noqa: F401 - kube's own names



def _kubernetes():
    try:
        import kubernetes  # lazy: optional (the kube extra)
    except ImportError:
        raise InfrastructureError("the Kubernetes commands need the official client: "
                                  "pip install 'sipscen[kube]'") from None
    return kubernetes


@dataclass
class Cluster:
    api: Any                 # kubernetes.client.ApiClient
    namespace: str           # the default namespace of this configuration
    where: str               # the API server, for messages


def connect(kubeconfig: Path | None = None) -> Cluster:
    _kubernetes()
    from kubernetes import client, config  # lazy: optional (the kube extra)
    from kubernetes.config.config_exception import ConfigException  # lazy: optional (the kube extra)

    try:
        if kubeconfig is None and in_cluster():
            cfg = client.Configuration()
            config.load_incluster_config(client_configuration=cfg)
            ns_file = SERVICE_ACCOUNT_DIR / "namespace"
            namespace = ns_file.read_text().strip() if ns_file.is_file() else "default"
            return Cluster(client.ApiClient(cfg), namespace, cfg.host)
        path = str(kubeconfig) if kubeconfig else os.environ.get("KUBECONFIG") or \
            os.path.expanduser(config.KUBE_CONFIG_DEFAULT_LOCATION)
        if not Path(path.split(os.pathsep)[0]).is_file():
            raise UsageError(f"no Kubernetes configuration: not in a cluster and no kubeconfig "
                             f"at {path} (give --kubeconfig FILE)")
        cfg = client.Configuration()
        config.load_kube_config(config_file=path, client_configuration=cfg)
        _, active = config.list_kube_config_contexts(config_file=path)
        namespace = (active or {}).get("context", {}).get("namespace") or "default"
        return Cluster(client.ApiClient(cfg), namespace, cfg.host)
    except ConfigException as exc:
        raise UsageError(f"bad Kubernetes configuration: {exc}") from None


def api_error(exc: BaseException, verb: str, resource: str, namespace: str,
              name: str = "") -> Exception:
    """An ApiException (or a connection failure) as a sipscen error."""
    status = getattr(exc, "status", None)
    what = f"{resource}/{name}" if name else resource
    if status == 403:
        return KubeAccessError(
            f"forbidden: sipscen needs the verb '{verb}' on the resource '{resource}' in "
            f"namespace '{namespace}' (add it to the Role bound to this account, see "
            f"`sipscen kube manifests`): {_reason(exc)}")
    if status == 401:
        return KubeAccessError(f"unauthorized: the API server did not accept the credentials "
                               f"({verb} {what}): {_reason(exc)}")
    if status == 404:
        return UsageError(f"not found: {what} in namespace '{namespace}'")
    if status is not None:
        return InfrastructureError(f"Kubernetes API error {status} on {verb} {what} in "
                                   f"namespace '{namespace}': {_reason(exc)}")
    return InfrastructureError(f"cannot reach the Kubernetes API ({verb} {what}): {exc}")


def _reason(exc: BaseException) -> str:
    body = getattr(exc, "body", None)
    try:
        return json.loads(body).get("message") or str(getattr(exc, "reason", ""))
    except (TypeError, ValueError, AttributeError):
        return str(getattr(exc, "reason", "") or exc)


def call(verb: str, resource: str, namespace: str, fn: Callable[..., Any], *args: Any,
         name: str = "", **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``; API and connection errors become sipscen errors."""
    from kubernetes.client.exceptions import ApiException  # lazy: optional (the kube extra)
    from urllib3.exceptions import HTTPError  # lazy: optional (the kube extra)

    try:
        return fn(*args, **kwargs)
    except ApiException as exc:
        raise api_error(exc, verb, resource, namespace, name) from None
    except HTTPError as exc:
        raise api_error(exc, verb, resource, namespace, name) from None
