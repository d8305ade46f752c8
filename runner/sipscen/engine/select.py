"""Choosing which scenarios of a suite run: tags, a keyword, a shard.

Selection happens on loaded scenarios (so tags and names come from the files)
and is deterministic, so N machines given the same paths and ``--shard K/N``
together run each scenario exactly once.
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from sipscen.core.errors import UsageError
from sipscen.core.model import Scenario


@dataclass(frozen=True)
class Selection:
    tags: tuple[str, ...] = ()          # run scenarios having any of these
    exclude_tags: tuple[str, ...] = ()  # ...and none of these
    keyword: str | None = None          # substring or glob of name or file
    shard: tuple[int, int] | None = None  # (K, N), 1-based

    def matches(self, scenario: Scenario) -> bool:
        tags = set(scenario.tags)
        if self.tags and not tags & set(self.tags):
            return False
        if tags & set(self.exclude_tags):
            return False
        if self.keyword:
            k = self.keyword
            hay = (scenario.name, str(scenario.file))
            if not any(k in h or fnmatch.fnmatch(h, k) for h in hay):
                return False
        return True


def parse_part(text: str, option: str) -> tuple[int, int]:
    """'K/N' -> (K, N), 1 <= K <= N (`--shard`, `--generator`)."""
    try:
        k, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise UsageError(f"{option} takes K/N, e.g. 2/3 (got {text!r})") from None
    if not 1 <= k <= n:
        raise UsageError(f"{option} {text}: K must be between 1 and N")
    return k, n


def parse_shard(text: str) -> tuple[int, int]:
    return parse_part(text, "--shard")


def in_shard(position: int, shard: tuple[int, int] | None) -> bool:
    """Round-robin over the selected scenarios' positions: balanced and stable."""
    if shard is None:
        return True
    k, n = shard
    return position % n == k - 1
