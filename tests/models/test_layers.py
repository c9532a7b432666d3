"""pipeline/models/layers.py: the conv/linear layers of a model, found one way."""

from __future__ import annotations

import pytest
from torch import nn

from pipeline.models.layers import last_conv, weight_layers


class Conv2dSubclass(nn.Conv2d):
    pass


def model() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 2, 3), nn.ReLU(), Conv2dSubclass(2, 2, 1), nn.Flatten(), nn.Linear(8, 3)
    )


def test_weight_layers_in_module_order_with_names() -> None:
    net = model()
    assert [name for name, _ in weight_layers(net)] == ["0", "2", "4"]
    assert [name for name, _ in weight_layers(net, exact=True)] == ["0", "4"]  # no subclass


def test_last_conv_and_a_model_without_one() -> None:
    net = model()
    assert last_conv(net) is net[2]
    with pytest.raises(ValueError, match="no convolutional layer"):
        last_conv(nn.Sequential(nn.Linear(2, 2)))
