"""The fan-out's plan on hand-built graphs: what runs where, in which order, after what."""

from __future__ import annotations

import pytest

from pipeline.errors import ConfigError
from pipeline.scale.plan import Node, describe, make_plan, selected, topological


def graph() -> dict[str, Node]:
    """prepare -> train@0/1 -> compress@{dense,m50}-{0,1} -> predict@{dense,m50} -> stats -> report."""
    nodes = [Node("prepare", "dvc.yaml:prepare", ())]
    nodes += [Node(f"train@{s}", f"dvc.yaml:train@{s}", ("prepare",), True) for s in (0, 1)]
    for c in ("dense", "m50"):
        cells = [f"compress@{c}-{s}" for s in (0, 1)]
        addr = "families/compress/dvc.yaml:"
        nodes += [Node(n, addr + n, (f"train@{s}",), True) for n, s in zip(cells, (0, 1), strict=True)]
        nodes.append(Node(f"predict@{c}", f"families/predict/dvc.yaml:predict@{c}", tuple(cells), True))
    nodes.append(Node("stats", "dvc.yaml:stats", ("predict@dense", "predict@m50")))
    nodes.append(Node("report", "dvc.yaml:report", ("stats",)))
    return {n.name: n for n in nodes}


def test_a_fresh_study_fans_out_everything_but_the_fan_ins_upstream_first() -> None:
    plan = make_plan(graph(), changed=set(graph()))
    assert plan.integrate == ("stats", "report")
    names = plan.names
    assert set(names) == set(graph()) - {"stats", "report"}
    for task in plan.tasks:  # every task after the tasks it waits for, which are its upstream stages
        assert all(names.index(u) < names.index(task.node.name) for u in task.after)
        assert task.after == tuple(sorted(task.node.upstream))
    assert names[0] == "prepare"


def test_a_changed_config_plans_its_cells_and_what_reads_them_only() -> None:
    plan = make_plan(graph(), changed={"compress@m50-0", "compress@m50-1"})
    assert plan.names == ("compress@m50-0", "compress@m50-1", "predict@m50")
    # Up-to-date upstream stages are not tasks: nothing to wait for, the workers restore them.
    assert plan.tasks[0].after == () and plan.tasks[2].after == ("compress@m50-0", "compress@m50-1")
    assert plan.integrate == ("stats", "report")


def test_targets_limit_the_plan_to_what_they_need() -> None:
    plan = make_plan(graph(), changed=set(graph()), targets=["compress@*-0"])
    assert plan.names == ("prepare", "train@0", "compress@dense-0", "compress@m50-0")
    assert plan.integrate == ()
    with pytest.raises(ConfigError, match=r"'nope@\*' matches no stage"):
        make_plan(graph(), changed=set(graph()), targets=["nope@*"])


def test_a_fan_in_that_a_task_reads_is_fanned_out_too() -> None:
    # A stage that reads stats (which the integrate patterns name) makes stats a task as well.
    nodes = graph() | {"late": Node("late", "dvc.yaml:late", ("stats",), True)}
    plan = make_plan(nodes, changed={"stats"}, integrate=["stats", "report"])
    assert plan.names == ("stats", "late")
    assert plan.integrate == ("report",)


def test_nothing_changed_plans_nothing() -> None:
    plan = make_plan(graph(), changed=set())
    assert plan.tasks == () and plan.integrate == ()
    assert describe(plan) == ["0 tasks, 0 stages left to integration"]


def test_unknown_changed_stages_and_cycles_are_refused() -> None:
    with pytest.raises(ConfigError, match="unknown stages"):
        make_plan(graph(), changed={"ghost"})
    cyclic = {"a": Node("a", "a", ("b",)), "b": Node("b", "b", ("a",))}
    with pytest.raises(ConfigError, match="cycle"):
        topological(cyclic, {"a", "b"})


def test_selected_without_patterns_is_everything() -> None:
    assert selected(["b", "a"], []) == {"a", "b"}
    assert selected(["train@0", "train@1", "stats"], ["train@*"]) == {"train@0", "train@1"}


def test_describe_names_device_tasks_and_their_waits() -> None:
    lines = describe(make_plan(graph(), changed={"train@1"}))
    assert lines[0] == "5 tasks, 2 stages left to integration"  # train@1, 2 cells, 2 predicts
    assert "  task compress@dense-1 [device]  after train@1" in lines
    assert lines[-1] == "  integration: dvc repro --pull (stats, report)"
