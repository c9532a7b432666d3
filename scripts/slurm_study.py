"""The tiny study of the end-to-end tests, fanned out through SLURM batch jobs (dask-jobqueue), checked
against a serial ``dvc repro``: opt-in, not in CI (README "Beyond one machine").

    bash scripts/slurm_local.sh .venv/bin/python scripts/slurm_study.py     # a one-node SLURM, then this

Needs a SLURM cluster in reach (``sbatch``/``squeue``/``scancel``; scripts/slurm_local.sh brings one up
on this machine from Debian's packages and stops it afterwards). Builds the tiny study (synthetic data,
2 seeds, 3 configs) as a committed repository in a temporary folder with a folder remote, runs
``python -m pipeline.scale --scheduler slurm -j 2`` in it (every stage a task in a batch job of one
worker), then runs ``dvc repro`` serially in a clone of the same commit and compares every ``dvc.lock``
byte for byte. Exits 0 when they are identical and the fan-out succeeded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.config import to_dict  # noqa: E402
from tests.conftest import tiny_params  # noqa: E402
from tests.e2e_study import copy_project, env  # noqa: E402

LOCKS = [
    "dvc.lock",
    *(f"families/{f}/dvc.lock" for f in ("compress", "predict", "saliency", "representations")),
]


def sh(cwd: Path, *argv: str, show: bool = False) -> str:
    done = subprocess.run(argv, cwd=cwd, env=env(), capture_output=True, text=True, check=False)
    out = done.stdout + done.stderr
    if show:
        print(out, end="", flush=True)
    if done.returncode:
        sys.exit(f"{' '.join(argv)} failed (exit {done.returncode}) in {cwd}:\n{out[-4000:]}")
    return out


def build(root: Path) -> Path:
    study = root / "study"
    copy_project(study)
    (study / "params.yaml").write_text(yaml.safe_dump(to_dict(tiny_params()), sort_keys=False))
    sh(study, "git", "init", "-q")
    sh(study, "dvc", "init", "-q")
    shutil.copytree(REPO / ".dvc/plots", study / ".dvc/plots")
    sh(study, "dvc", "remote", "add", "-d", "shared", str(root / "remote"))
    sh(study, "git", "add", "-A")
    sh(study, "git", "commit", "-qm", "tiny study")
    return study


def main() -> int:
    if not shutil.which("sbatch"):
        sys.exit("no sbatch on PATH: run this inside a SLURM cluster (bash scripts/slurm_local.sh ...)")
    root = Path(tempfile.mkdtemp(prefix="slurm-study-"))
    os.chmod(root, 0o755)
    try:
        study = build(root)
        start = time.perf_counter()
        sh(
            study,
            sys.executable,
            "-m",
            "pipeline.scale",
            "--scheduler",
            "slurm",
            "-j",
            "2",
            "--queue",
            "debug",
            "--memory",
            "4GB",
            "--walltime",
            "00:30:00",
            "--scheduler-host",
            "127.0.0.1",
            "--workdir",
            str(root / "work"),
            show=True,
        )
        fanned = time.perf_counter() - start
        serial = root / "serial"
        sh(root, "git", "clone", "-q", str(study), str(serial))
        start = time.perf_counter()
        sh(serial, "dvc", "repro")
        alone = time.perf_counter() - start
        same = [lock for lock in LOCKS if (study / lock).read_bytes() == (serial / lock).read_bytes()]
        print(f"fan-out through SLURM: {fanned:.0f} s; serial dvc repro: {alone:.0f} s")
        print(f"dvc.lock files byte-identical to the serial run: {len(same)} of {len(LOCKS)}")
        return 0 if len(same) == len(LOCKS) else 1
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
