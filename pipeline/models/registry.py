"""Model registry: a params name (``model.arch``) to a builder ``(in_channels, num_classes, image_size)``.

The project's own architectures are listed in :data:`ARCHS`; any other name is looked up in timm
(``timm.create_model(name, pretrained=False)``), so ``resnet18`` or ``vit_tiny_patch16_224`` work too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pipeline.models import ArchNames, is_timm_model

if TYPE_CHECKING:
    from torch import nn

Builder = Callable[[int, int, int], "nn.Module"]


def _small_cnn(in_channels: int, num_classes: int, image_size: int) -> nn.Module:
    from pipeline.models.small_cnn import SmallCNN

    return SmallCNN(in_channels, num_classes, image_size)


def _lenet5(in_channels: int, num_classes: int, image_size: int) -> nn.Module:
    from pipeline.models.lenet import LeNet5

    return LeNet5(in_channels, num_classes, image_size)


def _squeezenet(in_channels: int, num_classes: int, image_size: int) -> nn.Module:
    from pipeline.models.squeezenet import squeezenet

    return squeezenet(in_channels, num_classes)


ARCHS: dict[str, Builder] = {"small_cnn": _small_cnn, "lenet5": _lenet5, "squeezenet": _squeezenet}


def build_model(arch: str, in_channels: int, num_classes: int, image_size: int) -> nn.Module:
    """A freshly initialised network for (N, in_channels, image_size, image_size) inputs.

    Initialisation draws from torch's global generator: seed it first for a reproducible member.
    """
    if arch in ARCHS:
        return ARCHS[arch](in_channels, num_classes, image_size)
    if not is_timm_model(arch):
        raise KeyError(f"unknown architecture {arch!r}; allowed: {ArchNames().describe()}")
    import timm

    return timm.create_model(arch, pretrained=False, num_classes=num_classes, in_chans=in_channels)
