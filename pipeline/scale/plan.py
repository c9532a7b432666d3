"""What a fan-out runs where: pure functions from the stage graph to a plan (README "Beyond one machine").

A stage is *planned* when it is needed for the targets (a target or upstream of one) and stale (changed
since its ``dvc.lock`` entry, or downstream of a changed stage). Planned stages matching an *integrate*
pattern (the cheap fan-ins) run in the integrating checkout's ``dvc repro --pull`` instead of on a
worker, but only when nothing fanned out depends on them; every other planned stage becomes one task,
which waits for the tasks of its planned upstream stages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase

from pipeline.errors import ConfigError

# The study's fan-ins over every config: seconds of work each, not worth a task's fixed cost.
INTEGRATE = ("robustness", "stats", "pie", "report")


@dataclass(frozen=True)
class Node:
    """One DVC stage: its ``name`` (``compress@dense-0``), DVC's ``address``
    (``families/compress/dvc.yaml:compress@dense-0``), the names of the stages it reads from, and whether
    it runs on the ``runtime`` device (it declares the ``runtime`` params)."""

    name: str
    address: str
    upstream: tuple[str, ...]
    device: bool = False


@dataclass(frozen=True)
class Task:
    """A fanned-out stage and the tasks it waits for."""

    node: Node
    after: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    """``tasks`` in an order where every task follows those it waits for; ``integrate``: the planned
    stages left to the integrating ``dvc repro --pull``."""

    tasks: tuple[Task, ...]
    integrate: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(t.node.name for t in self.tasks)


def selected(names: Iterable[str], patterns: Iterable[str]) -> set[str]:
    """The names matching any of the shell-style ``patterns`` (all names when there are none); a pattern
    matching nothing is a ConfigError naming a few stages that exist."""
    names, patterns = sorted(names), list(patterns)
    if not patterns:
        return set(names)
    chosen: set[str] = set()
    for pattern in patterns:
        hits = {n for n in names if fnmatchcase(n, pattern)}
        if not hits:
            some = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
            raise ConfigError(f"targets: {pattern!r} matches no stage (stages: {some})")
        chosen |= hits
    return chosen


def _reach(neighbours: Mapping[str, Iterable[str]], start: Iterable[str]) -> set[str]:
    """``start`` and everything reachable from it through ``neighbours``."""
    seen: set[str] = set()
    todo = list(start)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(neighbours[name])
    return seen


def upstream_closure(nodes: Mapping[str, Node], start: Iterable[str]) -> set[str]:
    """``start`` and every stage they read from, directly or not."""
    return _reach({n: node.upstream for n, node in nodes.items()}, start)


def downstream_closure(nodes: Mapping[str, Node], start: Iterable[str]) -> set[str]:
    """``start`` and every stage that reads from them, directly or not."""
    readers: dict[str, set[str]] = {n: set() for n in nodes}
    for node in nodes.values():
        for up in node.upstream:
            readers[up].add(node.name)
    return _reach(readers, start)


def topological(nodes: Mapping[str, Node], names: set[str]) -> list[str]:
    """``names`` ordered so that every stage follows its upstream stages (ties by name: stable plans)."""
    order: list[str] = []
    done: set[str] = set()
    pending = sorted(names)
    while pending:
        ready = [n for n in pending if not (set(nodes[n].upstream) & names) - done]
        if not ready:
            raise ConfigError(f"stages: a cycle among {', '.join(pending[:5])}")
        order.extend(ready)
        done.update(ready)
        pending = [n for n in pending if n not in done]
    return order


def _integrated(nodes: Mapping[str, Node], planned: list[str], patterns: Iterable[str]) -> set[str]:
    """The planned stages matching ``patterns`` whose planned readers are all integrated too."""
    patterns = list(patterns)
    chosen: set[str] = set()
    planned_set = set(planned)
    for name in reversed(planned):  # readers before the stages they read
        readers = {n for n in planned_set if name in nodes[n].upstream}
        if any(fnmatchcase(name, p) for p in patterns) and readers <= chosen:
            chosen.add(name)
    return chosen


def make_plan(
    nodes: Mapping[str, Node],
    changed: Iterable[str],
    targets: Iterable[str] = (),
    integrate: Iterable[str] = INTEGRATE,
) -> Plan:
    """The plan for ``targets`` (patterns; all stages when empty) given the stages DVC reports
    ``changed``."""
    unknown = sorted(set(changed) - set(nodes))
    if unknown:
        raise ConfigError(f"stages: DVC reports unknown stages {unknown}")
    needed = upstream_closure(nodes, selected(nodes, targets))
    planned = topological(nodes, needed & downstream_closure(nodes, changed))
    kept = _integrated(nodes, planned, integrate)
    fanned = [n for n in planned if n not in kept]
    tasks = tuple(
        Task(nodes[n], tuple(sorted(u for u in nodes[n].upstream if u in set(fanned)))) for n in fanned
    )
    return Plan(tasks, tuple(n for n in planned if n in kept))


def describe(plan: Plan) -> list[str]:
    """The plan as lines for ``--dry-run``: one per task with what it waits for, then the integration."""
    lines = [f"{len(plan.tasks)} tasks, {len(plan.integrate)} stages left to integration"]
    for task in plan.tasks:
        wait = f"  after {', '.join(task.after)}" if task.after else ""
        lines.append(f"  task {task.node.name}{' [device]' if task.node.device else ''}{wait}")
    if plan.integrate:
        lines.append(f"  integration: dvc repro --pull ({', '.join(plan.integrate)})")
    return lines
