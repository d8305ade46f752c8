"""Which part of the work one pod of an Indexed Job does.

Kubernetes gives every pod of an Indexed Job its index in the environment
variable ``JOB_COMPLETION_INDEX`` (0-based). ``sipscen run --job-shards N``
turns it into ``--shard K/N`` with K = index + 1; ``--job-generators N`` into
generator K of N of a distributed load test. Read here, nowhere else.
"""
from __future__ import annotations

import os
from typing import Mapping

from sipscen.core.errors import UsageError

INDEX_VARIABLE = "JOB_COMPLETION_INDEX"


def index_from_env(count: int, option: str, env: Mapping[str, str] | None = None
                   ) -> tuple[int, int]:
    """(K, N), 1-based, from ``JOB_COMPLETION_INDEX``; UsageError when it is
    missing or out of range (the pod was not started by an Indexed Job of N)."""
    env = os.environ if env is None else env
    if count < 1:
        raise UsageError(f"{option} {count}: N must be at least 1")
    raw = env.get(INDEX_VARIABLE)
    if raw is None:
        raise UsageError(f"{option} needs the environment variable {INDEX_VARIABLE} "
                         "(set by Kubernetes in every pod of an Indexed Job)")
    try:
        index = int(raw.strip())
    except ValueError:
        raise UsageError(f"{INDEX_VARIABLE}={raw!r} is not a number") from None
    if not 0 <= index < count:
        raise UsageError(f"{INDEX_VARIABLE}={index} is outside 0..{count - 1} "
                         f"({option} {count})")
    return index + 1, count
