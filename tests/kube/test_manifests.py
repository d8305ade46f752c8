"""`sipscen kube manifests`: every document valid for Kubernetes (offline schemas of
the `kubernetes-validate` package, pinned version), least privilege, no privilege."""
import os
from pathlib import Path

import pytest
import yaml

kubernetes_validate = pytest.importorskip("kubernetes_validate")

ROOT = Path(__file__).resolve().parents[2]
K8S_VERSION = "1.33"      # podFailurePolicy FailIndex and backoffLimitPerIndex are GA from 1.33
READ_VERBS = {"get", "list", "watch"}


@pytest.fixture
def in_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def manifests(sipscen, *args):
    code, out, err = sipscen("kube", "manifests", *args)
    assert code == 0, err
    return list(yaml.safe_load_all(out))


def test_suite_manifests_are_valid_kubernetes_objects(sipscen, in_root):
    docs = manifests(sipscen, "scenarios/", "--shards", "4", "--image", "registry.example/sipscen:1")
    assert [d["kind"] for d in docs] == ["ServiceAccount", "Role", "RoleBinding", "Job"]
    for doc in docs:   # strict: unknown fields are errors too
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_validation_is_offline_and_would_catch_a_broken_job(sipscen, in_root, monkeypatch):
    """The schemas ship in the package (no download: any connection fails here),
    and the check can fail."""
    import socket

    def no_network(*args, **kwargs):
        raise AssertionError("kubernetes-validate tried to use the network")
    base = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    assert (base / f"v{K8S_VERSION}.0-local-strict" / "job-batch-v1.json").is_file()
    job = manifests(sipscen, "scenarios/", "--shards", "2", "--image", "img")[3]
    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    kubernetes_validate.validate(job, K8S_VERSION, strict=True)
    job["spec"]["completionMode"] = 7
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(job, K8S_VERSION, strict=True)


def test_role_is_namespaced_read_only_and_no_cluster_role(sipscen, in_root):
    docs = manifests(sipscen, "scenarios/", "--shards", "4", "--image", "img", "--namespace", "sip")
    assert not any(d["kind"].startswith("Cluster") for d in docs)
    role = docs[1]
    assert role["metadata"]["namespace"] == "sip"
    granted = {(g, r, v) for rule in role["rules"] for g in rule["apiGroups"]
               for r in rule["resources"] for v in rule["verbs"]}
    assert {v for _, _, v in granted} <= READ_VERBS
    assert granted == {("discovery.k8s.io", "endpointslices", "list"), ("", "pods", "list"),
                       ("", "pods", "watch"), ("", "pods/log", "get"), ("batch", "jobs", "get")}
    assert all("*" not in str(rule) for rule in role["rules"])
    binding = docs[2]
    assert binding["roleRef"]["kind"] == "Role"
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "sipscen", "namespace": "sip"}]


def test_indexed_job_runs_shard_k_plus_1_with_deadlines_and_failure_policy(sipscen, in_root):
    job = manifests(sipscen, "scenarios/malformed", "--shards", "4", "--image", "img")[3]
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed" and spec["completions"] == 4
    container = spec["template"]["spec"]["containers"][0]
    assert container["command"] == ["sipscen"]
    args = container["args"]
    assert args[:2] == ["run", "scenarios/malformed"]
    assert args[args.index("--job-shards") + 1] == "4" and "--log-report" in args
    rules = {r["action"]: r for r in spec["podFailurePolicy"]["rules"]}
    assert rules["FailIndex"]["onExitCodes"]["values"] == [1, 2]      # a failing test: no retry
    assert rules["Count"]["onExitCodes"]["values"] == [3]             # infrastructure: retried
    assert spec["template"]["spec"]["restartPolicy"] == "Never"
    # 23 malformed scenarios of 10s-20s: shard 1 has 6 of them; deadline from their timeouts
    pod_deadline = spec["template"]["spec"]["activeDeadlineSeconds"]
    slower = manifests(sipscen, "scenarios/malformed", "--shards", "4", "--image", "img",
                       "--timeout", "100")[3]["spec"]
    assert slower["template"]["spec"]["activeDeadlineSeconds"] > pod_deadline
    assert slower["template"]["spec"]["activeDeadlineSeconds"] >= 6 * 100
    assert slower["activeDeadlineSeconds"] > slower["template"]["spec"]["activeDeadlineSeconds"]


def _security(doc):
    return doc["spec"]["template"]["spec"]["containers"][0]["securityContext"]


def test_non_root_unprivileged_capabilities_only_for_capture(sipscen, in_root, tmp_path):
    capturing = manifests(sipscen, "scenarios/malformed", "--shards", "2", "--image", "img")[3]
    sc = _security(capturing)
    assert sc["runAsNonRoot"] is True and sc["runAsUser"] != 0 and sc["privileged"] is False
    assert sc["capabilities"] == {"drop": ["ALL"], "add": ["NET_RAW", "NET_ADMIN"]}
    quiet = manifests(sipscen, "scenarios/load", "-k", "smoke", "--shards", "1",
                      "--image", "img")[3]   # the load smoke: capture false
    sc = _security(quiet)      # capture: false -> nothing added, no escalation
    assert sc["capabilities"] == {"drop": ["ALL"]} and sc["allowPrivilegeEscalation"] is False
    for doc in (capturing, quiet):
        pod = doc["spec"]["template"]["spec"]
        assert not pod.get("hostNetwork") and pod["securityContext"]["runAsNonRoot"] is True


@pytest.mark.parametrize("args, message", [
    (["--shards", "0"], "between 1 and 1000"),
    (["--shards", "2", "--name", "Bad_Name"], "DNS label"),
    (["--shards", "2", "--namespace", "x" * 64], "DNS label"),
    (["--shards", "2", "-k", "no-such-scenario"], "selection is empty"),
])
def test_bad_input_is_exit_2_without_traceback(sipscen, in_root, args, message):
    code, out, err = sipscen("kube", "manifests", "scenarios/malformed", "--image", "img", *args)
    assert code == 2 and message in err and "Traceback" not in err


def test_paths_outside_the_checkout_and_invalid_suites_are_refused(sipscen, in_root, tmp_path):
    code, _, err = sipscen("kube", "manifests", str(tmp_path), "--shards", "1", "--image", "i")
    assert code == 2 and "no scenario files" in err
    bad = ROOT / "tests" / "scenario" / "invalid" / "enum_typo.yaml"
    code, _, err = sipscen("kube", "manifests", os.path.relpath(bad, ROOT), "--shards", "1",
                           "--image", "i")
    assert code == 2 and "invalid files" in err
