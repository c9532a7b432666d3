"""The study's stage graph and what changed, read through DVC's Python API, as :mod:`pipeline.scale.plan`
nodes; the git state a fan-out builds from; and the remote and cache its workers use."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.errors import ConfigError
from pipeline.scale.plan import Node

if TYPE_CHECKING:
    from dvc.repo import Repo


def _name(stage: Any) -> str:
    return str(stage.name if hasattr(stage, "name") else stage.addressing)


def _reads_runtime(stage: Any) -> bool:
    """Whether the stage declares the ``runtime`` params (the section that owns the device)."""
    for dep in stage.deps:
        keys = getattr(dep, "params", None)
        if keys is not None and any(k == "runtime" or k.startswith("runtime.") for k in keys):
            return True
    return False


def read_nodes(repo: Repo) -> dict[str, Node]:
    """Every stage of the repository's ``dvc.yaml`` files, by name (names must be unique across files)."""
    graph = repo.index.graph
    nodes: dict[str, Node] = {}
    for stage in graph.nodes:
        if not getattr(stage, "cmd", None):
            continue  # a .dvc-tracked data source, not a stage
        name = _name(stage)
        if name in nodes:
            raise ConfigError(f"stages: the name {name!r} is defined twice ({stage.addressing})")
        upstream = tuple(sorted(_name(s) for s in graph.successors(stage) if getattr(s, "cmd", None)))
        nodes[name] = Node(name, stage.addressing, upstream, _reads_runtime(stage))
    return nodes


def changed_stages(repo: Repo, nodes: dict[str, Node]) -> set[str]:
    """The stages ``dvc status`` reports (changed deps, params, command or outputs, or never run)."""
    by_address = {n.address: n.name for n in nodes.values()}
    return {by_address[a] for a in repo.status() if a in by_address}


def git(root: Path, *args: str) -> str:
    out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    if out.returncode:
        raise ConfigError(f"git {' '.join(args)}: {out.stderr.strip() or out.stdout.strip()}")
    return out.stdout


def clean_commit(root: Path) -> str:
    """HEAD's commit; a ConfigError naming the first changed files when the work tree is not clean
    (workers build from the commit, so uncommitted changes would not reach them)."""
    dirty = [line[3:] for line in git(root, "status", "--porcelain").splitlines()]
    if dirty:
        shown = ", ".join(dirty[:5]) + (f" and {len(dirty) - 5} more" if len(dirty) > 5 else "")
        raise ConfigError(
            f"the work tree is not clean ({shown}): workers build from a commit; commit or stash first"
        )
    return git(root, "rev-parse", "HEAD").strip()


@dataclass(frozen=True)
class Remote:
    """The DVC remote the workers push to and the integration pulls from: its name and options as the
    integrating checkout resolves them (relative paths made absolute, local credentials included)."""

    name: str
    options: tuple[tuple[str, str], ...]

    def __repr__(self) -> str:
        """Credentials masked: Dask logs a failed task's arguments, and this is one of them."""
        shown = tuple((k, "***" if SECRET.search(k) else v) for k, v in self.options)
        return f"Remote(name={self.name!r}, options={shown!r})"


# Option names whose values are credentials (DVC's s3, gs, azure, ssh, http, webdav remotes).
SECRET = re.compile(r"key|secret|password|token|credential|passphrase|sas|session", re.IGNORECASE)


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def default_remote(repo: Repo, name: str | None = None) -> Remote:
    """The named or default remote, with every option DVC merged from its config files."""
    config = repo.config
    name = name or config["core"].get("remote")
    if not name:
        raise ConfigError('remote: none configured; add a DVC remote (README "Working as a team")')
    if name not in config["remote"]:
        raise ConfigError(f"remote: {name!r} is not defined (defined: {sorted(config['remote'])})")
    options = config["remote"][name]
    return Remote(name, tuple(sorted((k, _text(v)) for k, v in options.items())))


def cache_dir(repo: Repo) -> str:
    """The integrating checkout's DVC cache folder (the one holding ``files/`` and ``runs/``)."""
    return str(Path(repo.cache.legacy.path).resolve())
