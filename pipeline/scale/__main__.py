"""``python -m pipeline.scale``: fan the changed stages out over Dask workers, then integrate with
``dvc repro --pull`` (README "Beyond one machine"). Exit status 0 when every stage came back and
integration ran none of them, 2 for a user error (bad option, dirty tree, a stage's exit status 2), 1
otherwise."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from pipeline.errors import ConfigError
from pipeline.scale.cluster import ClusterOptions
from pipeline.scale.plan import INTEGRATE


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m pipeline.scale",
        description="Run the study's changed stages as Dask tasks (one per stage, upstream first), each in "
        "its own clone at HEAD, results pushed to the DVC remote with their run-cache entries; then "
        "`dvc repro --pull` here restores them and runs the cheap fan-ins.",
    )
    p.add_argument("targets", nargs="*", help="stage name patterns, e.g. 'compress@*' (default: every stage)")
    p.add_argument(
        "--scheduler",
        default="local",
        help="local (a LocalCluster on this machine), slurm (dask-jobqueue batch jobs), or a scheduler's "
        "address tcp://host:port (default: local)",
    )
    p.add_argument("-j", "--workers", type=int, default=2, help="workers to start (default: 2)")
    p.add_argument("--dry-run", action="store_true", help="print the plan and exit")
    p.add_argument(
        "--integrate",
        nargs="*",
        default=list(INTEGRATE),
        metavar="PATTERN",
        help=f"cheap stages left to the integrating dvc repro (default: {' '.join(INTEGRATE)})",
    )
    p.add_argument("--retries", type=int, default=2, help="retries of a failed task (not of exit status 2)")
    p.add_argument(
        "--spot-check",
        type=int,
        default=1,
        metavar="K",
        help="re-run K random computed stages on another worker and compare hashes (default: 1; 0: none)",
    )
    p.add_argument("--seed", type=int, default=0, help="the spot check's random choice (default: 0)")
    p.add_argument(
        "--cache",
        default="auto",
        help="workers' DVC cache: shared (this checkout's), private (one per task), or a folder on every "
        "worker; auto: shared unless --repo-url is given",
    )
    p.add_argument("--repo-url", help="where workers clone the repository from (default: this checkout)")
    p.add_argument("--remote", help="the DVC remote (default: the default remote)")
    p.add_argument("--workdir", help="where workers make their task folders (default: their temp folder)")
    p.add_argument("--keep", action="store_true", help="keep the task folders (debugging)")
    slurm = p.add_argument_group("slurm")
    slurm.add_argument("--queue", help="partition")
    slurm.add_argument("--memory", default="8GB", help="memory per job (default: 8GB)")
    slurm.add_argument("--walltime", default="04:00:00", help="wall-time limit per job (default: 04:00:00)")
    slurm.add_argument("--lifetime", help="workers leave after this long (e.g. 3h50m), before the wall time")
    slurm.add_argument(
        "--scheduler-host", help="address the scheduler listens on and workers announce (default: Dask's)"
    )
    return p


def options(args: argparse.Namespace) -> object:
    from pipeline.scale.run import Options

    if args.workers < 1 or args.retries < 0 or args.spot_check < 0:
        raise ConfigError("-j must be at least 1, --retries and --spot-check at least 0")
    cluster = ClusterOptions(
        args.workers,
        queue=args.queue,
        memory=args.memory,
        walltime=args.walltime,
        lifetime=args.lifetime,
        local_directory=args.workdir,
        host=args.scheduler_host,
    )
    return Options(
        Path.cwd(),
        cluster,
        args.scheduler,
        tuple(args.targets),
        tuple(args.integrate),
        args.retries,
        args.spot_check,
        args.seed,
        args.cache,
        args.repo_url,
        args.remote,
        args.workdir,
        args.keep,
        args.dry_run,
    )


def main(argv: list[str] | None = None) -> int:
    from dvc.repo import Repo

    from pipeline.scale.run import fan_out, say, summarize

    args = build_parser().parse_args(argv)
    try:
        os.chdir(Repo.find_root())
        outcome = fan_out(options(args))  # type: ignore[arg-type]
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for line in summarize(outcome):
        say(line)
    return outcome.exit_code


if __name__ == "__main__":
    sys.exit(main())
