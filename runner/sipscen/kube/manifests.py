"""The Kubernetes objects that run a suite (or a distributed load test) as an Indexed Job.

``build_manifests`` returns four plain dicts: a ServiceAccount, a Role, a
RoleBinding and a Job. Nothing here talks to a cluster.

* The Role is namespaced and read-only: exactly the resources and verbs
  sipscen itself calls (``ROLE_RULES``): EndpointSlices for SUT discovery (in
  the pods), pods, their logs and the Job for ``sipscen kube collect`` (when it
  runs in the cluster under this ServiceAccount).
* The Job is Indexed (``completionMode: Indexed``, ``completions: N``); pod K
  runs ``sipscen run PATHS --job-shards N`` (or ``--job-generators N``), which
  reads ``JOB_COMPLETION_INDEX`` and takes shard K+1/N.
* Deadlines come from the scenarios' timeouts: a pod's ``activeDeadlineSeconds``
  is the sum of its scenarios' budgets (timeout + per-scenario overhead) plus a
  start margin; the Job's covers every retry of the slowest pod.
* Pod failure policy, per index (``backoffLimitPerIndex``): exit 1 (a check
  failed) and 2 (invalid input) fail that index at once, never retried (the
  other shards go on); exit 3 (infrastructure) is retried; a pod disrupted by
  the cluster (eviction, preemption) is retried without counting.
* Secrets: every ``${env:NAME}`` the selected scenarios read becomes the pod's
  environment variable NAME taken from key NAME of the Secret ``--secret``
  (default ``<--name>-env``, e.g. ``sipscen-env``) by ``secretKeyRef``; the
  value is never read here nor written in a manifest.
* Security: non-root (uid 10001, as in the Containerfile), not privileged,
  every capability dropped; NET_RAW and NET_ADMIN are added back (with
  privilege escalation allowed, so tcpdump's file capabilities take effect)
  only when a selected scenario captures.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sipscen.core.errors import UsageError
from sipscen.scenario.variables import SecretStandIns
from sipscen.scenario.discover import discover
from sipscen.engine.suite import load_all, select
from sipscen.engine.select import Selection
from sipscen.core.results import ScenarioResult

CONTAINER = "sipscen"
RUN_AS_UID = 10001                 # the Containerfile's user
IMAGE_WORKDIR = "/opt/sipscen"     # the Containerfile's WORKDIR: scenario paths are relative to it
ARTIFACTS = "/tmp/sipscen-artifacts"
SCENARIO_OVERHEAD = 30             # s per scenario: service + agent readiness, teardown, analysis
POD_START_MARGIN = 60              # s: interpreter start, loading the suite
JOB_SCHEDULING_MARGIN = 300        # s: scheduling and image pulls, once per attempt
RETRIES_PER_INDEX = 2              # infrastructure errors (exit 3) are retried this often
TTL_AFTER_FINISHED = 86400         # s: pods (and their logs) stay a day for `kube collect`

# Exactly what sipscen calls (sipscen.kube.discovery, sipscen.kube.collect).
ROLE_RULES: list[dict[str, Any]] = [
    {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["list"]},
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["list", "watch"]},
    {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
    {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["get"]},
]

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


@dataclass
class JobRequest:
    paths: list[str]
    image: str
    shards: int | None = None           # split the suite (--shard K/N per pod)
    generators: int | None = None       # or: every pod runs the whole selection, its share of load
    namespace: str = "default"
    name: str = "sipscen"
    parallelism: int | None = None
    variables: list[tuple[str, str]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    exclude_tags: list[str] = field(default_factory=list)
    keyword: str | None = None
    timeout: float | None = None
    secret: str | None = None           # the Secret holding ${env:NAME} values (default NAME-env)

    @property
    def secret_name(self) -> str:
        return self.secret or f"{self.name}-env"


def _check(request: JobRequest) -> int:
    if (request.shards is None) == (request.generators is None):
        raise UsageError("give exactly one of --shards N and --generators N")
    count = request.shards if request.shards is not None else request.generators
    if count < 1 or count > 1000:
        raise UsageError(f"the Job's pod count must be between 1 and 1000, not {count}")
    for what, value, limit in (("--name", request.name, 52), ("--namespace", request.namespace, 63),
                               ("--secret", request.secret_name, 253)):
        if len(value) > limit or not _DNS_LABEL.match(value):
            raise UsageError(f"{what} {value!r}: lower-case letters, digits and '-', at most "
                             f"{limit} characters (a DNS label)")
    if not request.image.strip() or any(c.isspace() for c in request.image):
        raise UsageError(f"--image {request.image!r}: not an image reference")
    if request.parallelism is not None and request.parallelism < 1:
        raise UsageError("--parallelism must be at least 1")
    return count


def image_paths(paths: list[str]) -> list[str]:
    """Scenario paths as the pod sees them: relative to the image's working
    directory, i.e. to the checkout the image was built from (the current folder)."""
    out = []
    cwd = Path.cwd().resolve()
    for text in paths:
        p = Path(text)
        if p.is_absolute():
            try:
                p = p.resolve().relative_to(cwd)
            except ValueError:
                raise UsageError(f"{text}: outside the current folder; the image holds the "
                                 "checkout it was built from, give paths relative to it") from None
        if ".." in p.parts:
            raise UsageError(f"{text}: a path leaving the checkout ('..') cannot be in the image")
        out.append(p.as_posix())
    return out


def plan_budgets(request: JobRequest, count: int) -> tuple[list[float], bool, list[str]]:
    """Per pod: the seconds its scenarios may take; whether any captures; the
    names of every ``${env:NAME}`` the selection reads (its secrets: never read
    here, the pods get them from the Job's Secret)."""

    files = discover(request.paths)
    if not files:
        raise UsageError(f"no scenario files in {' '.join(request.paths)}")
    selected = select(load_all(files, dict(request.variables), SecretStandIns(os.environ)),
                      Selection(tuple(request.tags), tuple(request.exclude_tags), request.keyword))
    invalid = [item for _, item in selected if isinstance(item, ScenarioResult)]
    if invalid:
        raise UsageError("the suite has invalid files; `sipscen validate` them first:\n"
                         + "\n".join(f"  {r.error}" for r in invalid[:10]))
    if not selected:
        raise UsageError("the selection is empty: no scenario would run")
    budgets = [0.0] * count
    capture = False
    env_names: set[str] = set()
    for pos, scenario in selected:
        env_names |= scenario.env_names
        timeout = request.timeout if request.timeout is not None else scenario.timeout
        cost = timeout + SCENARIO_OVERHEAD
        capture = capture or scenario.capture.enabled
        if request.generators:
            budgets = [b + cost for b in budgets]        # every generator runs everything
        else:
            budgets[pos % count] += cost                 # as sipscen.engine.select.in_shard
    return budgets, capture, sorted(env_names)


def pod_args(request: JobRequest, count: int) -> list[str]:
    """The container's arguments (after ``sipscen``): the same for every index."""
    args = ["run", *image_paths(request.paths),
            "--job-shards" if request.shards else "--job-generators", str(count),
            "--quiet", "--log-report", "--artifacts", ARTIFACTS]
    for name, value in request.variables:
        args += ["--var", f"{name}={value}"]
    for tag in request.tags:
        args += ["--tag", tag]
    for tag in request.exclude_tags:
        args += ["--exclude-tag", tag]
    if request.keyword:
        args += ["-k", request.keyword]
    if request.timeout is not None:
        args += ["--timeout", f"{request.timeout:g}"]
    return args


def build_manifests(request: JobRequest) -> list[dict[str, Any]]:
    count = _check(request)
    budgets, capture, env_names = plan_budgets(request, count)
    pod_deadline = int(max(budgets)) + POD_START_MARGIN
    job_deadline = (pod_deadline + JOB_SCHEDULING_MARGIN) * (RETRIES_PER_INDEX + 1)
    ns, name = request.namespace, request.name
    labels = {"app.kubernetes.io/name": "sipscen", "app.kubernetes.io/instance": name}
    meta = {"name": name, "namespace": ns, "labels": dict(labels)}
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": dict(meta)}
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": dict(meta), "rules": [dict(r) for r in ROLE_RULES]}
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": dict(meta),
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
               "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": ns}]}
    capabilities: dict[str, Any] = {"drop": ["ALL"]}
    if capture:
        capabilities["add"] = ["NET_RAW", "NET_ADMIN"]
    container = {
        "name": CONTAINER, "image": request.image, "imagePullPolicy": "IfNotPresent",
        "workingDir": IMAGE_WORKDIR,
        "command": ["sipscen"], "args": pod_args(request, count),
        "env": [{"name": "HOME", "value": "/tmp"},
                {"name": "SIPSCEN_POD_IP",
                 "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                # every ${env:NAME}: from the Secret, by reference (its value never here)
                *({"name": n, "valueFrom": {"secretKeyRef": {"name": request.secret_name,
                                                             "key": n}}}
                  for n in env_names if n not in ("HOME", "SIPSCEN_POD_IP"))],
        "securityContext": {
            "runAsNonRoot": True, "runAsUser": RUN_AS_UID, "runAsGroup": RUN_AS_UID,
            "privileged": False,
            # no_new_privs would keep tcpdump's file capabilities from taking effect
            "allowPrivilegeEscalation": capture,
            "readOnlyRootFilesystem": True,
            "capabilities": capabilities,
            "seccompProfile": {"type": "RuntimeDefault"}},
        "resources": {"requests": {"cpu": "500m", "memory": "256Mi"},
                      "limits": {"memory": "1Gi"}},
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }
    job = {
        "apiVersion": "batch/v1", "kind": "Job", "metadata": dict(meta),
        "spec": {
            "completionMode": "Indexed", "completions": count,
            "parallelism": min(request.parallelism or count, count),
            "backoffLimitPerIndex": RETRIES_PER_INDEX, "maxFailedIndexes": count,
            "activeDeadlineSeconds": job_deadline,
            "ttlSecondsAfterFinished": TTL_AFTER_FINISHED,
            "podFailurePolicy": {"rules": [
                {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget",
                                                                     "status": "True"}]},
                {"action": "FailIndex", "onExitCodes": {
                    "containerName": CONTAINER, "operator": "In", "values": [1, 2]}},
                {"action": "Count", "onExitCodes": {
                    "containerName": CONTAINER, "operator": "In", "values": [3]}},
            ]},
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {
                    "serviceAccountName": name, "restartPolicy": "Never",
                    "activeDeadlineSeconds": pod_deadline,
                    "securityContext": {"runAsNonRoot": True, "runAsUser": RUN_AS_UID,
                                        "fsGroup": RUN_AS_UID,
                                        "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [container],
                    "volumes": [{"name": "tmp", "emptyDir": {}}],
                }},
        },
    }
    return [account, role, binding, job]


def render(documents: list[dict[str, Any]]) -> str:
    return "".join("---\n" + yaml.safe_dump(d, sort_keys=False, default_flow_style=False)
                   for d in documents)
