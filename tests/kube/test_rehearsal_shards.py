"""The Job's contract rehearsed on this machine: the exact pod command line of every
index of `sipscen kube manifests --shards 4`, run with the environment the Job gives
(JOB_COMPLETION_INDEX), its stdout kept as the pod log, collected by
`sipscen kube collect` (real client, stand-in API server) — equals one plain run."""
import json
import os
import re
import sys
from pathlib import Path

import pytest
import yaml

pytest.importorskip("kubernetes")

from sipscen.core import process  # noqa: E402

from .fakeapi import FakeApiServer, job_object, pod_object  # noqa: E402

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
# small and fast: five malformed-message scenarios (SIPp + Kamailio) and one that
# fails on purpose (PJSUA, wrong DTMF digits)
SUITE = ["scenarios/malformed/missing-*.yaml", "examples/failing-dtmf.yaml"]
SHARDS = 4


def verdicts(report):
    """Names and verdicts of every scenario and check (a check's name may hold the
    port a run was given: ports differ between any two runs)."""
    def name(check):
        return re.sub(r"(\d+\.\d+\.\d+\.\d+):\d+", r"\1:PORT", check["name"])
    return [(s["name"], s["status"], sorted((name(c), c["status"]) for c in s["checks"]))
            for s in report["scenarios"]]


def test_four_job_pods_collected_equal_one_plain_run(sipscen, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    code, out, err = sipscen("kube", "manifests", *SUITE, "--shards", SHARDS, "--image", "img",
                             "--name", "nightly", "--namespace", "qa")
    assert code == 0, err
    job = list(yaml.safe_load_all(out))[3]
    container = job["spec"]["template"]["spec"]["containers"][0]
    argv = [str(Path(sys.executable).with_name(container["command"][0]))] + container["args"]
    # the one difference from a pod: /tmp is the pod's own emptyDir there
    argv[argv.index("--artifacts") + 1] = str(tmp_path / "pod-artifacts")
    env = {**os.environ, **{e["name"]: e["value"] for e in container["env"] if "value" in e}}
    env["HOME"] = str(tmp_path)

    procs = []
    try:
        for index in range(SHARDS):
            procs.append(process.start(f"pod-{index}", argv, log_dir=tmp_path / f"pod-{index}",
                                       env={**env, "JOB_COMPLETION_INDEX": str(index)}, cwd=ROOT))
        codes = [p.wait(timeout=240) for p in procs]
    finally:
        for p in procs:
            p.stop()
    assert sorted(codes) == [0, 0, 0, 1]      # the shard with failing-dtmf exits 1

    code, _, err = sipscen("run", *SUITE, "-q", "--artifacts", tmp_path / "plain",
                           "--json", tmp_path / "plain.json")
    assert code == 1, err
    plain = json.loads((tmp_path / "plain.json").read_text())

    with FakeApiServer() as api:
        pods = [pod_object("nightly", "qa", i, "Succeeded" if c == 0 else "Failed", c)
                for i, c in enumerate(codes)]
        api.cluster.jobs[("qa", "nightly")] = [job_object("nightly", "qa", SHARDS, "Failed")]
        api.cluster.pod_lists = [pods]
        api.cluster.logs = {pod["metadata"]["name"]: procs[i].stdout_path.read_text()
                            for i, pod in enumerate(pods)}
        config = api.kubeconfig(tmp_path / "kubeconfig", namespace="qa")
        code, _, err = sipscen("kube", "collect", "nightly", "--kubeconfig", config, "-q",
                               "--json", tmp_path / "merged.json")
    assert code == 1, err
    merged = json.loads((tmp_path / "merged.json").read_text())
    assert len(plain["scenarios"]) == 6
    assert verdicts(merged) == verdicts(plain)
    assert merged["summary"]["passed"] == 5 and merged["summary"]["failed"] == 1
