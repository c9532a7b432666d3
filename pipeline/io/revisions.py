"""results.json (pipeline/io/report.py) at any revision or experiment, read through DVC's Python API:
``dvc.api.read`` takes the file from the workspace, or from the DVC cache (``dvc pull`` fills it from the
remote) by the dvc.lock of a Git revision or an experiment. A revision from before issue 14 has
``reports/metrics.json`` instead, the same layout, read in its place."""

from __future__ import annotations

from typing import Any

from pipeline.io.report import ReportFolder, parse_results

WORKSPACE = "workspace"  # the name of the working tree among revisions, as ``dvc exp show`` calls it


def read_results(rev: str, folder: ReportFolder, repo: str = ".") -> dict[str, dict[str, Any]]:
    """config -> key -> number at ``rev`` (a Git revision, an experiment name or ``workspace``); a
    ValueError (one line) for an unknown revision, naming the known ones, or for a revision without
    results."""
    import dvc.api
    from dvc.exceptions import PathMissingError
    from dvc.scm import RevError

    at = None if rev == WORKSPACE else rev
    for path in (folder.results(), folder.legacy_results()):
        try:
            text = dvc.api.read(path.as_posix(), repo=repo, rev=at)
        except RevError:
            raise ValueError(f"unknown revision or experiment {rev!r}; {known(repo)}") from None
        except (PathMissingError, FileNotFoundError):
            continue
        return parse_results(text, f"{path} at {rev}")
    raise ValueError(f"{folder.results()} at {rev}: missing (run `dvc repro`, or `dvc pull` it)")


def experiments(repo: str = ".") -> list[str]:
    """The names of the experiments of the workspace's baseline (``dvc exp show``'s)."""
    import dvc.api

    return [row["Experiment"] for row in dvc.api.exp_show(repo=repo) if row.get("Experiment")]


def known(repo: str = ".") -> str:
    """The revisions one may name, for an error message."""
    import dvc.api

    parts = [f"branches: {', '.join(dvc.api.all_branches(repo)) or '-'}"]
    parts.append(f"tags: {', '.join(dvc.api.all_tags(repo)) or '-'}")
    parts.append(f"experiments: {', '.join(experiments(repo)) or '-'}")
    return f"use {WORKSPACE}, a commit, or one of {'; '.join(parts)}"
