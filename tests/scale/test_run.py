"""The fan-out's verdicts: exit status, the too-short warning, the closing lines, the cache choice."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.scale.run import Outcome, load_history, resolve_cache, save_history, summarize, too_short
from pipeline.scale.worker import TaskResult


def ran(name: str, wall: float, command: float) -> TaskResult:
    return TaskResult(name, "ran", "tcp://w", wall, command, (("out", "abc"),))


def test_the_warning_compares_the_median_command_with_the_median_fixed_cost() -> None:
    short = [ran("a", 5.0, 2.0), ran("b", 6.0, 3.0)]  # commands 2.5 s against 3 s of fixed cost
    assert "does not pay" in too_short(short)
    long = [ran("a", 34.0, 30.0), ran("b", 44.0, 40.0)]  # 35 s against 4 s
    assert too_short(long) == ""
    assert too_short([TaskResult("a", "restored", wall=3.0)]) == ""  # nothing ran: nothing to judge


def test_exit_status_two_for_user_errors_one_for_anything_else() -> None:
    good = {"a": ran("a", 1, 1)}
    assert Outcome(good, {}).exit_code == 0
    assert Outcome(good | {"b": TaskResult("b", "config-error")}, {}).exit_code == 2
    assert Outcome(good, {"b": "StageFailed: boom"}).exit_code == 1
    assert Outcome(good, {}, integration_error="integration executed fanned-out stages ['a']").exit_code == 1
    assert Outcome(good, {}, mismatches=("a: differs",)).exit_code == 1
    assert Outcome(good | {"c": TaskResult("c", "guard")}, {}).exit_code == 1


def test_summary_lines() -> None:
    lines = summarize(Outcome({"a": ran("a", 34.0, 30.0), "b": TaskResult("b", "restored")}, {}, wall=40))
    assert lines[0] == "2 tasks: 1 ran, 1 restored; 40 s in all"
    assert lines[1] == "per task: 30.0 s command, 4.0 s fixed cost (median, 1 ran)"
    assert summarize(Outcome({}, {}, ("stats",))) == ["no tasks; integration ran stats"]


def test_history_round_trips_and_ignores_a_damaged_file(tmp_path: Path) -> None:
    save_history(tmp_path, {"a": ran("a", 5.0, 2.0)})
    assert load_history(tmp_path) == [ran("a", 5.0, 2.0)]
    (tmp_path / ".dvc/tmp/scale/last.json").write_text("{garbled")
    assert load_history(tmp_path) == []


class FakeCache:
    class legacy:
        path = "/repo/.dvc/cache"


class FakeRepo:
    cache = FakeCache


@pytest.mark.parametrize(
    ("choice", "url", "expected"),
    [("auto", None, "/repo/.dvc/cache"), ("auto", "git@host:x", None), ("private", None, None)],
)
def test_cache_choice(choice: str, url: str | None, expected: str | None) -> None:
    assert resolve_cache(choice, FakeRepo(), url) == expected


def test_a_cache_folder_is_made_absolute() -> None:
    assert resolve_cache("~/c", FakeRepo(), None) == str(Path("~/c").expanduser().resolve())
