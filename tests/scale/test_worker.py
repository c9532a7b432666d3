"""The worker's pure parts: reading DVC's output, the workspace's DVC config, the lock's outputs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

from pipeline.scale.graph import Remote
from pipeline.scale.worker import (
    TaskResult,
    TaskSpec,
    config_local,
    environment,
    exit_status,
    lock_outs,
    ran_stages,
    restored_stages,
    run_task,
)

OUT = """Stage 'code' didn't change, skipping
Stage 'families/compress/dvc.yaml:compress@dense-0' is cached - skipping run, checking out outputs
Running stage 'families/predict/dvc.yaml:predict@dense':
> python -m pipeline.stages.predict
ERROR: failed to reproduce 'families/predict/dvc.yaml:predict@dense': failed to run: x, exited with 2
"""


def test_dvc_output_is_read_by_stage_name() -> None:
    assert ran_stages(OUT) == {"predict@dense"}
    assert restored_stages(OUT) == {"compress@dense-0"}
    assert exit_status(OUT) == 2
    assert exit_status("Stage 'code' didn't change, skipping") is None


def test_the_workspace_config_names_the_remote_as_default_and_the_cache() -> None:
    remote = Remote("team", (("endpointurl", "http://127.0.0.1:9000"), ("url", "s3://b/study")))
    text = config_local(remote, "/shared/cache")
    assert text.splitlines() == [
        "[core]",
        "    remote = team",
        "['remote \"team\"']",
        "    endpointurl = http://127.0.0.1:9000",
        "    url = s3://b/study",
        "[cache]",
        "    dir = /shared/cache",
    ]
    import configobj  # DVC's own config reader parses it back

    parsed = configobj.ConfigObj(text.splitlines())
    assert parsed['remote "team"']["url"] == "s3://b/study" and parsed["core"]["remote"] == "team"


def test_lock_outs_reads_the_lock_beside_the_stage_file(tmp_path: Path) -> None:
    (tmp_path / "families/compress").mkdir(parents=True)
    lock = {"schema": "2.0", "stages": {"compress@dense-0": {"outs": [{"path": "a", "md5": "1", "size": 3}]}}}
    (tmp_path / "families/compress/dvc.lock").write_text(yaml.safe_dump(lock))
    assert lock_outs(tmp_path, "families/compress/dvc.yaml:compress@dense-0", "compress@dense-0") == (
        ("a", "1"),
    )
    assert lock_outs(tmp_path, "prepare", "prepare") == ()  # no dvc.lock at the root yet


def test_a_task_after_a_failed_upstream_is_skipped_without_a_workspace() -> None:
    spec = TaskSpec("predict@dense", "x", "/nonexistent", "0" * 40, Remote("r", ()), None)
    result = run_task(spec, TaskResult("compress@dense-0", "config-error"))
    assert result.status == "skipped" and not result.ok
    assert "compress@dense-0" in result.message


def test_the_stage_commands_get_the_integrating_process_environment_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # what a Dask nanny sets
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    restored = (("OMP_NUM_THREADS", None), ("MALLOC_TRIM_THRESHOLD_", "9"))
    env = environment(tmp_path / "t", tmp_path / "sh", restored)
    assert "OMP_NUM_THREADS" not in env and env["MALLOC_TRIM_THRESHOLD_"] == "9"
    assert env["SHELL"] == str(tmp_path / "sh") and env["PATH"].startswith(str(Path(sys.executable).parent))


def test_a_remote_never_shows_its_credentials_in_logs() -> None:
    remote = Remote("team", (("access_key_id", "AKIA"), ("secret_access_key", "s3cr3t"), ("url", "s3://b")))
    text = repr(TaskSpec("x", "x", "/r", "0" * 40, remote, None))
    assert "s3cr3t" not in text and "AKIA" not in text and "s3://b" in text


def test_a_failed_clone_raises_a_retryable_error_and_leaves_no_folder(tmp_path: Path) -> None:
    from pipeline.scale.worker import StageFailed, Workspace

    spec = TaskSpec("x", "x", str(tmp_path / "no-repo"), "0" * 40, Remote("r", ()), None, str(tmp_path / "w"))
    with pytest.raises(StageFailed, match="git clone"), Workspace(spec):
        pass
    assert list((tmp_path / "w").iterdir()) == []
