"""Architectures: the project's own (``small_cnn``, ``lenet5``, ``squeezenet``) and any timm model.

The registry (``model.arch`` name -> builder) is :mod:`pipeline.models.registry`.  Only its names, and the
check that validates ``model.arch``, are kept here, free of the project's imports, so that validating
params.yaml makes no stage depend on every architecture (and costs no torch import).
"""

from __future__ import annotations

# The registry's names, in its order (``registry.ARCHS`` holds exactly these; a test checks it).
ARCH_NAMES = ("small_cnn", "lenet5", "squeezenet")


def is_timm_model(name: str) -> bool:
    import timm

    return bool(timm.is_model(name))


class ArchNames:
    """The set of valid ``model.arch`` names: the registry plus every timm architecture."""

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (name in ARCH_NAMES or is_timm_model(name))

    def describe(self) -> str:
        return f"{', '.join(ARCH_NAMES)}, or any timm model name (timm.list_models())"
