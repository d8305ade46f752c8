"""A stand-in Kubernetes API server for tests: recorded-style JSON answers on 127.0.0.1.

No Kubernetes API server can run on these machines, so the client code under
test (the real ``kubernetes`` library) talks to this: the few REST endpoints
sipscen calls, a watch stream (chunked JSON lines, then the connection
closes), a 410 Gone inside a watch, and 403 Forbidden for chosen resources.
Every request is recorded in ``requests`` (method, path, query).
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

CONTROLLER_UID = "0d4a8c3e-5b5f-4bd0-9c39-0123456789ab"


def job_object(name, ns, completions, condition=None):
    status = {"active": 0 if condition else completions}
    if condition:
        status["conditions"] = [{"type": condition, "status": "True"}]
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": name, "namespace": ns, "resourceVersion": "1"},
            "spec": {"completionMode": "Indexed", "completions": completions,
                     "selector": {"matchLabels": {
                         "batch.kubernetes.io/controller-uid": CONTROLLER_UID}},
                     "template": {"spec": {"containers": [{"name": "sipscen", "image": "i"}]}}},
            "status": status}


def pod_object(job, ns, index, phase, exit_code=None, attempt=0):
    name = f"{job}-{index}-{'abcde'[attempt]}x{index}"
    status = {"phase": phase}
    if exit_code is not None:
        status["containerStatuses"] = [{
            "name": "sipscen", "image": "i", "imageID": "i", "ready": False, "restartCount": 0,
            "state": {"terminated": {"exitCode": exit_code, "reason":
                                     "Completed" if exit_code == 0 else "Error"}}}]
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns,
                         "creationTimestamp": f"2026-01-01T00:00:0{attempt}Z",
                         "labels": {"batch.kubernetes.io/controller-uid": CONTROLLER_UID,
                                    "batch.kubernetes.io/job-name": job},
                         "annotations": {"batch.kubernetes.io/job-completion-index": str(index)}},
            "spec": {"containers": [{"name": "sipscen", "image": "i"}]},
            "status": status}


def forbidden(verb, resource, ns, name=""):
    what = f'{resource.split("/")[0]} "{name}" is' if name else f'{resource} is'
    return {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Forbidden",
            "code": 403, "details": {"kind": resource},
            "message": f'{what} forbidden: User "system:serviceaccount:{ns}:sipscen" cannot '
                       f'{verb} resource "{resource}" in API group "" in the namespace "{ns}"'}


class FakeCluster:
    """State the handler serves. Tests set ``jobs``, ``pod_lists`` (one pod list per
    successive LIST: the cluster moving on), ``watch_events`` (per successive WATCH:
    a list of events, a dict ``{"code": 410}`` for an ERROR event), ``logs``,
    ``slices`` and ``forbid`` ({(verb, resource)})."""

    def __init__(self):
        self.jobs: dict[tuple[str, str], list[dict]] = {}   # successive GETs; last repeats
        self.pod_lists: list[list[dict]] = []
        self.watch_events: list[list] = []
        self.logs: dict[str, str] = {}
        self.slices: dict[tuple[str, str], list[dict]] = {}
        self.forbid: set[tuple[str, str]] = set()
        self.requests: list[tuple[str, str, dict]] = []
        self.lock = threading.Lock()
        self._lists = self._watches = 0
        self._job_gets: dict[tuple[str, str], int] = {}

    def reset(self):
        """Forget what was asked: the next LIST, WATCH and GET start from the first answer."""
        self.requests = []
        self._lists = self._watches = 0
        self._job_gets = {}

    def count(self, verb, resource):
        return sum(1 for v, r, _ in self.requests if (v, r) == (verb, resource))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    cluster: FakeCluster

    def log_message(self, *args):
        pass

    def _send(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _text(self, text):
        data = text.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802 - http.server's name
        c = self.cluster
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        parts = url.path.strip("/").split("/")
        verb, resource, ns, name = self._route(parts, query)
        with c.lock:
            c.requests.append((verb, resource, query))
        if resource is None:
            return self._send(404, {"kind": "Status", "code": 404, "message": "no route"})
        if (verb, resource) in c.forbid:
            return self._send(403, forbidden(verb, resource, ns, name))
        if resource == "jobs":
            seq = c.jobs.get((ns, name))
            if not seq:
                return self._send(404, {"kind": "Status", "code": 404, "reason": "NotFound",
                                        "message": f'jobs.batch "{name}" not found'})
            with c.lock:
                i = c._job_gets.get((ns, name), 0)
                c._job_gets[(ns, name)] = i + 1
            return self._send(200, seq[min(i, len(seq) - 1)])
        if resource == "pods" and verb == "list":
            with c.lock:
                items = c.pod_lists[min(c._lists, len(c.pod_lists) - 1)]
                c._lists += 1
            return self._send(200, {"kind": "PodList", "apiVersion": "v1",
                                    "metadata": {"resourceVersion": str(100 * c._lists)},
                                    "items": items})
        if resource == "pods" and verb == "watch":
            with c.lock:
                events = c.watch_events[min(c._watches, len(c.watch_events) - 1)]
                c._watches += 1
            return self._stream(events)
        if resource == "pods/log":
            return self._text(c.logs.get(name, ""))
        if resource == "endpointslices":
            service = query.get("labelSelector", "").partition("kubernetes.io/service-name=")[2]
            return self._send(200, {"kind": "EndpointSliceList",
                                    "apiVersion": "discovery.k8s.io/v1",
                                    "metadata": {"resourceVersion": "7"},
                                    "items": c.slices.get((ns, service), [])})
        return self._send(404, {"kind": "Status", "code": 404})

    def _route(self, parts, query):
        # /api/v1/namespaces/NS/pods[/NAME/log] ; /apis/batch/v1/namespaces/NS/jobs/NAME
        # /apis/discovery.k8s.io/v1/namespaces/NS/endpointslices
        try:
            i = parts.index("namespaces")
        except ValueError:
            return "get", None, "", ""
        ns, rest = parts[i + 1], parts[i + 2:]
        if rest == ["pods"]:
            return ("watch" if query.get("watch") in ("true", "True", "1") else "list"), \
                "pods", ns, ""
        if len(rest) == 3 and rest[0] == "pods" and rest[2] == "log":
            return "get", "pods/log", ns, rest[1]
        if len(rest) == 2 and rest[0] == "jobs":
            return "get", "jobs", ns, rest[1]
        if rest == ["endpointslices"]:
            return "list", "endpointslices", ns, ""
        return "get", None, ns, ""

    def _stream(self, events):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        for event in events:
            if isinstance(event, dict) and "code" in event:
                line = {"type": "ERROR", "object": {
                    "kind": "Status", "apiVersion": "v1", "status": "Failure",
                    "code": event["code"], "reason": "Expired",
                    "message": "too old resource version: 100 (150)"}}
            else:
                line = event
            self.wfile.write((json.dumps(line) + "\n").encode())
            self.wfile.flush()


class FakeApiServer:
    def __init__(self):
        self.cluster = FakeCluster()
        handler = type("Handler", (_Handler,), {"cluster": self.cluster})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def kubeconfig(self, path, namespace="default"):
        path.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "fake",
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "users": [{"name": "tester", "user": {"token": "not-a-secret"}}],
            "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "tester",
                                                      "namespace": namespace}}]}))
        return path

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)
