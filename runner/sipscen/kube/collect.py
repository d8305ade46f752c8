"""``sipscen kube collect JOB``: watch a Job's pods to the end, merge their reports.

1. ``get`` the Job (its pod selector and completion count);
2. ``list`` its pods, then ``watch`` them from that list's resourceVersion,
   printing each pod's phase as it changes; after every pod that ends, ``get``
   the Job again: the Job controller alone knows whether a failed index will
   be retried, so collection waits for the Job's ``Complete`` or ``Failed``
   condition. A watch that expires (410 Gone) is resumed with a fresh list;
   every watch request is bounded in time, and so is the whole wait;
3. per completion index, the pod that succeeded (else the last one that
   failed): ``get`` its log and take the framed report at its end
   (sipscen.kube.logreport);
4. merge exactly as ``sipscen report merge`` does (shards in the order of one
   run; the generators of a distributed load summed and judged together). An
   index without a readable report becomes an error result naming its pod.

API calls: get jobs, list/watch pods, get pods/log (the Role of
``sipscen kube manifests`` grants exactly these, plus list endpointslices).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

from sipscen.core.results import ERROR, ScenarioResult
from sipscen.core.errors import ExitStatus, InfrastructureError, UsageError
from sipscen.kube.client import Cluster, api_error, call, connect
from sipscen.kube.logreport import NoReport, unframe
from sipscen.report.merge import merge_report_data

INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index"
CONTAINER = "sipscen"
WATCH_SECONDS = 300          # one watch request at most; then list and watch again
MAX_ROUNDS = 10000           # list+watch rounds: a bound, never reached in practice
TERMINAL = ("Succeeded", "Failed")


def _selector(job) -> str:
    labels = (job.spec.selector.match_labels if job.spec and job.spec.selector else None) or {}
    if not labels:
        return f"batch.kubernetes.io/job-name={job.metadata.name}"
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def job_finished(job) -> str | None:
    """'Complete' or 'Failed' once the Job controller has decided; else None."""
    for cond in (job.status.conditions if job.status else None) or []:
        if cond.type in ("Complete", "Failed") and cond.status == "True":
            return cond.type
    return None


class Collector:
    def __init__(self, cluster: Cluster, name: str, namespace: str,
                 progress: Callable[[str], None] | None = None):
        from kubernetes import client  # lazy: optional (the kube extra)
        self.batch = client.BatchV1Api(cluster.api)
        self.core = client.CoreV1Api(cluster.api)
        self.name, self.ns = name, namespace
        self.progress = progress or (lambda line: None)
        self.pods: dict[str, Any] = {}

    def read_job(self):
        return call("get", "jobs", self.ns, self.batch.read_namespaced_job, self.name, self.ns,
                    name=self.name)

    def _note(self, pod) -> None:
        name, phase = pod.metadata.name, pod.status.phase if pod.status else None
        old = self.pods.get(name)
        if old is None or (old.status.phase if old.status else None) != phase:
            index = (pod.metadata.annotations or {}).get(INDEX_ANNOTATION, "?")
            self.progress(f"pod {name} (index {index}): {phase}")
        self.pods[name] = pod

    def wait(self, selector: str, deadline: float) -> str:
        """Watch the pods until the Job has finished; 'Complete' or 'Failed'."""
        from kubernetes import watch  # lazy: optional (the kube extra)
        from kubernetes.client.exceptions import ApiException  # lazy: optional (the kube extra)
        from urllib3.exceptions import HTTPError  # lazy: optional (the kube extra)

        for _ in range(MAX_ROUNDS):
            listed = call("list", "pods", self.ns, self.core.list_namespaced_pod, self.ns,
                          label_selector=selector)
            for pod in listed.items:
                self._note(pod)
            state = job_finished(self.read_job())
            if state:
                return state
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            w = watch.Watch()
            try:
                for event in w.stream(self.core.list_namespaced_pod, self.ns,
                                      label_selector=selector,
                                      resource_version=listed.metadata.resource_version,
                                      timeout_seconds=int(max(1, min(WATCH_SECONDS, remaining)))):
                    pod = event["object"]
                    self._note(pod)
                    if pod.status and pod.status.phase in TERMINAL:
                        state = job_finished(self.read_job())
                        if state:
                            w.stop()
                            return state
            except ApiException as exc:
                if exc.status != 410:
                    raise api_error(exc, "watch", "pods", self.ns) from None
                self.progress("watch expired (410 Gone): listing the pods again")
            except HTTPError as exc:
                raise api_error(exc, "watch", "pods", self.ns) from None
        raise InfrastructureError(f"job {self.name} did not finish while collect waited "
                                  "(--wait)")

    def reports(self, completions: int) -> tuple[list[tuple[str, Any]], list[ScenarioResult]]:
        by_index: dict[int, list[Any]] = {}
        for pod in self.pods.values():
            raw = (pod.metadata.annotations or {}).get(INDEX_ANNOTATION)
            if raw is not None and raw.isdigit():
                by_index.setdefault(int(raw), []).append(pod)
        reports, missing = [], []
        for index in range(completions):
            pods = by_index.get(index, [])
            pod = _chosen(pods)
            label = f"index {index} of job {self.name}"
            if pod is None:
                missing.append(_missing(label, "no pod ran it", index, completions))
                continue
            log = call("get", "pods/log", self.ns, self.core.read_namespaced_pod_log,
                       pod.metadata.name, self.ns, container=CONTAINER,
                       name=pod.metadata.name)
            try:
                reports.append((f"pod {pod.metadata.name}", unframe(log or "")))
            except NoReport as exc:
                missing.append(_missing(label, f"pod {pod.metadata.name} "
                                        f"({_ended(pod)}): {exc}", index, completions))
        return reports, missing


def _chosen(pods: list[Any]):
    if not pods:
        return None
    done = [p for p in pods if p.status and p.status.phase == "Succeeded"]
    key = (lambda p: p.metadata.creation_timestamp or 0)
    return max(done or pods, key=key)


def _ended(pod) -> str:
    phase = pod.status.phase if pod.status else "unknown"
    for cs in (pod.status.container_statuses if pod.status else None) or []:
        term = cs.state.terminated if cs.state else None
        if term is not None:
            return f"{phase}, exit code {term.exit_code}, {term.reason or ''}".rstrip(", ")
    return phase or "unknown"


def _missing(label: str, why: str, index: int, completions: int) -> ScenarioResult:
    return ScenarioResult(name=f"{label}: no report", file="", status=ERROR,
                          error=f"{label}: {why}", exit_status=int(ExitStatus.INFRASTRUCTURE),
                          order=10**9 + index, location="")


def collect_job(name: str, namespace: str | None = None, kubeconfig: Path | None = None,
                wait: float = 86400.0, progress: Callable[[str], None] | None = None
                ) -> list[ScenarioResult]:

    cluster = connect(kubeconfig)
    ns = namespace or cluster.namespace
    collector = Collector(cluster, name, ns, progress)
    job = collector.read_job()
    if not job.spec or job.spec.completion_mode != "Indexed":
        raise UsageError(f"job {name} is not an Indexed Job (not made by `sipscen kube "
                         "manifests`)")
    state = collector.wait(_selector(job), time.monotonic() + wait)
    collector.progress(f"job {name}: {state}")
    reports, missing = collector.reports(int(job.spec.completions or 1))
    return merge_report_data(reports) + missing
