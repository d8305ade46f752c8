"""`sipscen run` as a pod of an Indexed Job: bad or missing JOB_COMPLETION_INDEX and
contradictory flags are usage errors (exit 2), before anything runs."""
from pathlib import Path

import pytest

from sipscen.kube.jobindex import index_from_env

ROOT = Path(__file__).resolve().parents[2]
ONE = str(ROOT / "scenarios" / "malformed" / "missing-to.yaml")


def test_index_from_env_is_one_based():
    assert index_from_env(4, "--job-shards", {"JOB_COMPLETION_INDEX": "0"}) == (1, 4)
    assert index_from_env(4, "--job-shards", {"JOB_COMPLETION_INDEX": "3"}) == (4, 4)


@pytest.mark.parametrize("env, args, message", [
    ({}, ["--job-shards", "4"], "needs the environment variable JOB_COMPLETION_INDEX"),
    ({"JOB_COMPLETION_INDEX": "4"}, ["--job-shards", "4"], "outside 0..3"),
    ({"JOB_COMPLETION_INDEX": "x"}, ["--job-generators", "2"], "is not a number"),
    ({"JOB_COMPLETION_INDEX": "0"}, ["--job-shards", "2", "--shard", "1/2"], "not both"),
    ({"JOB_COMPLETION_INDEX": "0"}, ["--job-shards", "2", "--job-generators", "2"],
     "either a shard or a generator"),
    ({}, ["--generator", "3/2"], "K must be between 1 and N"),
    ({}, ["--generator", "two"], "takes K/N"),
])
def test_bad_job_flags_exit_2(sipscen, monkeypatch, tmp_path, env, args, message):
    monkeypatch.delenv("JOB_COMPLETION_INDEX", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    code, out, err = sipscen("run", ONE, "-q", "--artifacts", tmp_path, *args)
    assert code == 2 and message in err and "Traceback" not in err
    assert not any(tmp_path.iterdir())       # nothing ran
