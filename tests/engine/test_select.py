"""Suite selection: tags, keywords, shards that together cover the suite once."""
from pathlib import Path

import pytest

from sipscen.core.results import ScenarioResult
from sipscen.engine.select import Selection, in_shard, parse_shard
from sipscen.engine.suite import select
from sipscen.core.errors import ExitStatus, UsageError, overall_status
from sipscen.core.model import Scenario


def _scenarios(n):
    return [Scenario(name=f"s{i}", file=Path(f"/suite/s{i}.yaml"),
                     tags=("srtp",) if i % 2 else ("plain", "slow") if i % 3 == 0 else ("plain",))
            for i in range(n)]


def test_tags_and_exclusions():
    items = _scenarios(6)
    names = [s.name for _, s in select(items, Selection(tags=("plain",), exclude_tags=("slow",)))]
    assert names == ["s2", "s4"]


def test_keyword_matches_name_substring_or_glob():
    items = _scenarios(12)
    assert [s.name for _, s in select(items, Selection(keyword="s1"))] == ["s1", "s10", "s11"]
    assert [s.name for _, s in select(items, Selection(keyword="*/s1?.yaml"))] == ["s10", "s11"]


def test_shards_cover_every_scenario_exactly_once():
    items = _scenarios(20)
    seen = []
    for k in (1, 2, 3):
        seen += [pos for pos, _ in select(items, Selection(shard=(k, 3)))]
    assert sorted(seen) == list(range(20))
    assert len(select(items, Selection(shard=(1, 3)))) == 7


def test_invalid_files_are_always_selected():
    broken = ScenarioResult(name="broken", file="/suite/broken.yaml", status="error")
    chosen = select([broken] + _scenarios(2), Selection(tags=("nothing-has-this",)))
    assert [item for _, item in chosen] == [broken]


@pytest.mark.parametrize("text", ["3", "0/2", "3/2", "a/b"])
def test_bad_shard_is_a_usage_error(text):
    with pytest.raises(UsageError):
        parse_shard(text)


def test_in_shard_without_shard_takes_everything():
    assert all(in_shard(i, None) for i in range(5))


def test_overall_status_takes_the_most_severe():
    def r(status, exit_status=None):
        return ScenarioResult(name="x", file="x", status=status, exit_status=exit_status)
    assert overall_status([]) == ExitStatus.SUCCESS
    assert overall_status([r("passed"), r("failed")]) == ExitStatus.CHECK_FAILED
    assert overall_status([r("failed"), r("error", 2)]) == ExitStatus.INVALID_INPUT
    assert overall_status([r("error", 2), r("error", 3), r("passed")]) == ExitStatus.INFRASTRUCTURE
    assert overall_status([r("error")]) == ExitStatus.INFRASTRUCTURE

