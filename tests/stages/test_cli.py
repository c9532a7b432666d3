"""Every stage entry point fails before any work on bad params: exit 2, one line, nothing written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ..conftest import REPO
from ..test_config import with_change

STAGES = [
    *("prepare", "corrupt", "train", "compress", "predict", "atypicality", "traits", "stats", "pie"),
    *("saliency_reference", "saliency", "robustness", "representations_reference", "representations"),
    "report",
]


@pytest.mark.parametrize("stage", STAGES)
def test_stage_exits_with_one_line_and_writes_nothing(tmp_path: Path, stage: str) -> None:
    """A stage given bad params fails before any work: exit 2, one line on stderr, no output file."""
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(with_change("train", "epochs", -3)))
    out = tmp_path / "out"
    args = {
        "prepare": ["--raw", str(tmp_path / "raw"), "--out", str(out)],
        "corrupt": ["--prepare", str(tmp_path / "none"), "--out", str(out)],
        "train": [
            *("--seed", "0", "--prepare", str(tmp_path / "none")),
            *("--out", str(out), "--history", str(out / "history")),
        ],
        "report": [
            *(f"--{name}={tmp_path / name}" for name in ("predict", "stats", "pie", "saliency")),
            *(f"--{name}={tmp_path / name}" for name in ("robustness", "representations")),
            *("--out", str(out)),
        ],
        "stats": ["--prepare", str(tmp_path), "--predict", str(tmp_path / "predict"), "--out", str(out)],
        "pie": [
            *("--prepare", str(tmp_path), "--predict", str(tmp_path / "predict")),
            *("--traits", str(tmp_path / "traits"), "--out", str(out)),
        ],
        "atypicality": [
            "--prepare",
            str(tmp_path),
            "--compress",
            str(tmp_path / "compress"),
            "--out",
            str(out),
        ],
        "traits": [
            *("--prepare", str(tmp_path), "--predict", str(tmp_path / "predict")),
            *("--atypicality", str(tmp_path / "atypicality"), "--out", str(out)),
        ],
        "compress": [
            *("--config", "dense", "--seed", "0", "--prepare", str(tmp_path / "none")),
            *("--train", str(tmp_path / "train"), "--out", str(out)),
        ],
        "predict": [
            *("--config", "dense", "--prepare", str(tmp_path / "none")),
            *("--compress", str(tmp_path / "compress"), "--corrupt", str(tmp_path / "views")),
            *("--out", str(out)),
        ],
        "saliency_reference": reference_args(tmp_path, out),
        "saliency": members_args(tmp_path, out),
        "representations_reference": reference_args(tmp_path, out),
        "representations": members_args(tmp_path, out),
        "robustness": [
            *("--prepare", str(tmp_path), "--corrupt", str(tmp_path / "views")),
            *("--predict", str(tmp_path / "predict"), "--out", str(out)),
        ],
    }[stage]
    result = subprocess.run(
        [sys.executable, "-m", f"pipeline.stages.{stage}", "--params", str(params), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [f"error: {params}: train.epochs: must be >= 1 and <= 1000, got -3"]
    assert not out.exists() and not (tmp_path / "raw").exists()


def reference_args(tmp_path: Path, out: Path) -> list[str]:
    """The arguments of the stages that compute the dense reference once."""
    return ["--prepare", str(tmp_path / "none"), "--compress", str(tmp_path / "none"), "--out", str(out)]


def members_args(tmp_path: Path, out: Path) -> list[str]:
    """The arguments of the stages that compare the config's cells with the dense reference."""
    return [
        *("--config", "dense", "--prepare", str(tmp_path / "none"), "--compress", str(tmp_path / "none")),
        *("--reference", str(tmp_path / "none"), "--out", str(out)),
    ]
