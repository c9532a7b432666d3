"""A real S3-compatible server on 127.0.0.1 for the tests that share a study through a DVC remote:
``rclone serve s3``, started and stopped by its own handle."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .e2e_study import BIN, sh

KEY, SECRET = "team-key", "team-secret"  # the server's only credentials; DVC's go to .dvc/config.local


@dataclass(frozen=True)
class S3:
    endpoint: str
    root: Path  # the folder the server stores to: one sub-folder per bucket


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve_s3(tmp_path: Path) -> Iterator[S3]:
    """The server, storing under ``tmp_path/s3`` with one bucket, ``team-bucket``; stopped on exit."""
    root = tmp_path / "s3"
    (root / "team-bucket").mkdir(parents=True)
    port = free_port()
    server = subprocess.Popen(
        [
            str(BIN / "rclone"),
            "serve",
            "s3",
            "--addr",
            f"127.0.0.1:{port}",
            "--auth-key",
            f"{KEY},{SECRET}",
            str(root),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert server.poll() is None, f"rclone serve s3 exited: {server.stderr.read()!r}"  # type: ignore[union-attr]
                assert time.monotonic() < deadline, "rclone serve s3 did not open its port in 20 s"
                time.sleep(0.1)
        yield S3(f"http://127.0.0.1:{port}", root)
    finally:
        server.terminate()
        server.wait(timeout=10)


def use_remote(repo: Path, s3: S3) -> None:
    """What each teammate does once: the team's remote with their own credentials, kept out of git."""
    sh(repo, "dvc", "remote", "add", "--local", "-d", "-f", "team", "s3://team-bucket/study")
    sh(repo, "dvc", "remote", "modify", "--local", "team", "endpointurl", s3.endpoint)
    sh(repo, "dvc", "remote", "modify", "--local", "team", "access_key_id", KEY)
    sh(repo, "dvc", "remote", "modify", "--local", "team", "secret_access_key", SECRET)
