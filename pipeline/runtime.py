"""How every torch stage sets torch up: deterministic kernels, threads, device; and the library versions.

``torch.use_deterministic_algorithms(True)`` also switches on Inductor's deterministic mode, and to do so
imports ``torch._inductor`` and ``torch._dynamo``: 2.3 s of a 5 s stage process on this machine. No stage
compiles, so ``set_deterministic_debug_mode("error")`` is used instead: it sets the same kernel flag
(``torch.are_deterministic_algorithms_enabled()`` is then True, and a nondeterministic kernel raises) and
imports nothing.

Deterministic mode also fills every new uninitialized tensor with NaN
(``torch.utils.deterministic.fill_uninitialized_memory``), a guard against kernels that read memory they
never wrote. On this project's CPU training loop that is 80 ``fill_`` calls a step and a quarter of the
time; no kernel the stages use reads such memory (tests/test_runtime.py trains, compresses and predicts
with the fill on and off and gets the same bytes), so the fill is switched off.
"""

from __future__ import annotations

import os
import platform
from importlib import metadata
from typing import Any

from pipeline.config import ConfigError, RuntimeParams


def library_versions() -> dict[str, str]:
    """Versions that decide the checkpoint's bytes (read from package metadata: no imports)."""
    names = ("torch", "torchvision", "timm", "numpy", "safetensors")
    return {"python": platform.python_version()} | {name: metadata.version(name) for name in names}


def configure_torch(cfg: RuntimeParams) -> Any:
    """Deterministic kernels, the thread count, and the device (an error if CUDA is asked for but absent)."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS
    import torch

    torch.set_deterministic_debug_mode("error")
    torch.utils.deterministic.fill_uninitialized_memory = False  # type: ignore[attr-defined]
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    if cfg.device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("runtime.device: cuda requested but no CUDA device is available; use cpu")
    return torch.device(cfg.device)
