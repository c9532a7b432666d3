"""Resume state on disk: a run's state after its last completed epoch, kept in the scratch area
(pipeline/io/scratch.py) so that a killed ``train@seed``, or a fine-tuning of more than an epoch, continues
where it stopped instead of from its first epoch.

One safetensors file per output and key, ``<area>/resume/<output>.<key>.safetensors``: the tensors and, as
sorted JSON under one metadata key, the plain values (no pickle: loading it runs no code).  The key is the
SHA-256 of everything the run's result depends on (:func:`inputs_key`): its params, seed and input
digests, and the source of every loaded ``pipeline`` module, so a changed param, input or line of code
never resumes stale state.  The file is replaced atomically after each epoch and removed by the stage once
its outputs are written; loading removes the states of other keys for the same output (a run with other
inputs, which this run replaces).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.io.checkpoints import DIGEST_KEY, tensors_sha256
from pipeline.io.scratch import (
    RESUME,
    SCRATCH,
    clean,
    project_scratch,
    remove_if_empty,
    scratch_dir,
    temporary,
)

if TYPE_CHECKING:
    import torch

log = logging.getLogger("pipeline")

FORMAT = 1
METADATA_KEY = "pipeline.resume"
PACKAGE = Path(__file__).resolve().parents[1]  # the pipeline package's folder


def pipeline_sources() -> dict[str, str]:
    """SHA-256 of the file of every loaded module of the ``pipeline`` package, ``__main__`` (a stage run
    with ``python -m``) included, by its path from the package's parent folder."""
    digests = {}
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if not file:
            continue
        path = Path(file).resolve()
        if PACKAGE in path.parents:
            name = path.relative_to(PACKAGE.parent).as_posix()
            digests[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return dict(sorted(digests.items()))


def inputs_key(inputs: Mapping[str, Any]) -> str:
    """SHA-256 of ``inputs`` (JSON: params sections, seed, digests of input files), of the library versions
    and of the loaded ``pipeline`` sources; compute it once the run has imported what it runs."""
    from pipeline.runtime import library_versions

    everything = {"inputs": inputs, "versions": library_versions(), "sources": pipeline_sources()}
    text = json.dumps(everything, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _label(output: Path) -> str:
    """``output``'s path from its project (or its folder), as one file-name-safe word."""
    output = Path(os.path.abspath(output))
    root = project_scratch(output).parent
    relative = output.relative_to(root) if root in output.parents else Path(output.name)
    return re.sub(r"[^A-Za-z0-9_.+-]", "_", relative.as_posix())


class ResumeFile:
    """The resume state of the run that writes ``output``, under ``key`` (see :func:`inputs_key`)."""

    def __init__(self, output: Path, key: str) -> None:
        if not re.fullmatch(r"[0-9a-f]{64}", key):
            raise ValueError(f"a resume key is a SHA-256 in hex, got {key!r}")
        self.label = _label(output)
        self.path = scratch_dir(output) / RESUME / f"{self.label}.{key}.safetensors"

    def _others(self) -> list[Path]:
        pattern = re.compile(re.escape(self.label) + r"\.[0-9a-f]{64}\.safetensors")
        if not self.path.parent.is_dir():
            return []
        return [p for p in self.path.parent.iterdir() if pattern.fullmatch(p.name) and p != self.path]

    def load(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]] | None:
        """(tensors, values) saved under this key, or None. Called as the run starts, it also removes the
        temporaries of dead processes from the scratch area, the states of other keys for the same output,
        and an unreadable state (then None: the run starts over)."""
        from safetensors import safe_open

        clean(self.path.parent.parent)
        for stale in self._others():
            stale.unlink(missing_ok=True)
        try:
            with safe_open(str(self.path), framework="pt") as handle:
                values = json.loads((handle.metadata() or {})[METADATA_KEY])
                tensors = {k: handle.get_tensor(k) for k in handle.keys()}  # noqa: SIM118 (safe_open API)
            if values.pop("format", None) != FORMAT:
                raise ValueError(f"not format {FORMAT}")
            if values.pop(DIGEST_KEY, None) != tensors_sha256(tensors):
                raise ValueError("tensor digest mismatch (altered or damaged)")
        except FileNotFoundError:
            return None
        except Exception as err:  # any damage costs an epoch or two, never the stage
            log.warning("ignoring the unreadable resume state %s (%s)", self.path, err)
            self.remove()
            return None
        return tensors, values

    def save(self, tensors: Mapping[str, torch.Tensor], values: Mapping[str, Any]) -> None:
        """Replace the state atomically: ``tensors`` (contiguous, on the CPU) and JSON ``values``."""
        from safetensors.torch import save_file

        digest = tensors_sha256({k: v.contiguous() for k, v in tensors.items()})
        text = json.dumps({"format": FORMAT, DIGEST_KEY: digest, **values}, sort_keys=True)
        metadata = {METADATA_KEY: text}
        with temporary(self.path) as tmp:
            save_file(dict(tensors), str(tmp), metadata=metadata)
            for attempt in range(3):  # another process may remove an empty resume/ folder meanwhile
                self.path.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.replace(tmp, self.path)
                    break
                except FileNotFoundError:
                    if attempt == 2:
                        raise

    def remove(self) -> None:
        """Remove the state (the run's outputs are written) and the folders it leaves empty."""
        self.path.unlink(missing_ok=True)
        if self.path.parent.parent.name == SCRATCH:
            remove_if_empty(self.path.parent)
