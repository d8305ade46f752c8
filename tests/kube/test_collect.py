"""`sipscen kube collect` with the real `kubernetes` client against a stand-in
API server (tests/kube/fakeapi.py): watch to completion, 410 resumes, 403 names
the verb and resource, reports come from the pods' logs and are merged."""
import json

import pytest

pytest.importorskip("kubernetes")

from sipscen.core.results import CheckResult, ScenarioResult  # noqa: E402
from sipscen.kube.logreport import frame, unframe  # noqa: E402
from sipscen.report.json_report import to_json_dict  # noqa: E402

from .fakeapi import FakeApiServer, job_object, pod_object  # noqa: E402


def shard_log(name, status, order, console="some console output\n"):
    check = CheckResult(name="call a->b", status="passed" if status == "passed" else "failed")
    result = ScenarioResult(name=name, file=f"scenarios/{name}.yaml", status=status,
                            checks=[check], order=order, duration=1.0)
    return console + frame(to_json_dict([result]))


@pytest.fixture
def api(tmp_path, monkeypatch):
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with FakeApiServer() as server:
        server.config = server.kubeconfig(tmp_path / "kubeconfig", namespace="qa")
        yield server


def nightly(api, forbid=()):
    c = api.cluster
    c.reset()
    running = [pod_object("nightly", "qa", i, "Running") for i in range(3)]
    first_try = pod_object("nightly", "qa", 2, "Failed", exit_code=3)     # infrastructure
    done = [pod_object("nightly", "qa", 0, "Succeeded", 0),
            pod_object("nightly", "qa", 1, "Failed", 1),                   # a check failed
            first_try, pod_object("nightly", "qa", 2, "Succeeded", 0, attempt=1)]
    active, complete = job_object("nightly", "qa", 3), job_object("nightly", "qa", 3, "Failed")
    c.jobs[("qa", "nightly")] = [active, active, active, complete]
    c.pod_lists = [running, done]
    c.watch_events = [[{"type": "MODIFIED", "object": done[0]}, {"code": 410}]]
    c.logs = {done[0]["metadata"]["name"]: shard_log("alpha", "passed", 0),
              done[1]["metadata"]["name"]: shard_log("beta", "failed", 1),
              first_try["metadata"]["name"]: "boom\n",
              done[3]["metadata"]["name"]: shard_log("gamma", "passed", 2)}
    c.forbid = set(forbid)


def test_collect_watches_resumes_after_410_and_merges_every_index(sipscen, api, tmp_path):
    nightly(api)
    out = tmp_path / "all.json"
    code, stdout, err = sipscen("kube", "collect", "nightly", "--kubeconfig", api.config,
                                "--json", out, "--junit", tmp_path / "all.xml")
    assert code == 1, err                     # beta failed: the merged verdict is "failed"
    report = json.loads(out.read_text())
    assert [(s["name"], s["status"]) for s in report["scenarios"]] == [
        ("alpha", "passed"), ("beta", "failed"), ("gamma", "passed")]
    assert "410 Gone" in err and "job nightly: Failed" in err
    c = api.cluster
    assert c.count("list", "pods") == 2 and c.count("watch", "pods") == 1
    watch_query = [q for v, r, q in c.requests if (v, r) == ("watch", "pods")][0]
    assert watch_query["resourceVersion"] == "100"          # from the list before it
    assert watch_query["labelSelector"] == \
        "batch.kubernetes.io/controller-uid=0d4a8c3e-5b5f-4bd0-9c39-0123456789ab"
    logs_read = [q for v, r, q in c.requests if r == "pods/log"]
    assert len(logs_read) == 3                 # the retried index: only its successful pod
    assert (tmp_path / "all.xml").read_text().count("<testcase") == 3


def test_forbidden_names_the_missing_verb_and_resource(sipscen, api):
    nightly(api, forbid={("get", "pods/log")})
    code, _, err = sipscen("kube", "collect", "nightly", "--kubeconfig", api.config, "-q")
    assert code == 3 and "Traceback" not in err
    assert "verb 'get' on the resource 'pods/log' in namespace 'qa'" in err
    nightly(api, forbid={("watch", "pods")})
    code, _, err = sipscen("kube", "collect", "nightly", "--kubeconfig", api.config, "-q")
    assert code == 3 and "verb 'watch' on the resource 'pods'" in err


def test_unknown_job_and_missing_configuration_are_usage_errors(sipscen, api, tmp_path,
                                                                monkeypatch):
    code, _, err = sipscen("kube", "collect", "nope", "--kubeconfig", api.config)
    assert code == 2 and "not found: jobs/nope in namespace 'qa'" in err
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    code, _, err = sipscen("kube", "collect", "nightly")
    assert code == 2 and "no Kubernetes configuration" in err


def test_an_index_without_a_report_is_an_error_naming_its_pod(sipscen, api, tmp_path):
    nightly(api)
    c = api.cluster
    beta_pod = next(n for n in c.logs if n.startswith("nightly-1-"))
    c.logs[beta_pod] = "Killed\n"
    out = tmp_path / "r.json"
    code, _, err = sipscen("kube", "collect", "nightly", "--kubeconfig", api.config, "-q",
                           "--json", out)
    assert code == 3
    errors = [s for s in json.loads(out.read_text())["scenarios"] if s["status"] == "error"]
    assert len(errors) == 1 and beta_pod in errors[0]["error"]
    assert "exit code 1" in errors[0]["error"]


def test_log_frame_round_trip_and_damage():
    report = to_json_dict([ScenarioResult(name="x", file="x.yaml", status="passed")])
    log = "noise\n" + frame(report) + "trailing\n"
    assert unframe(log)["scenarios"][0]["name"] == "x"
    from sipscen.kube.logreport import NoReport
    with pytest.raises(NoReport):
        unframe(log.replace(log.splitlines()[2], "!!!!"))
