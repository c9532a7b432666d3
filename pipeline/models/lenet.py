"""LeNet-5 (LeCun et al. 1998) in its common modern form: ReLU and max-pooling instead of the
original scaled tanh and trainable subsampling; 28x28 inputs are zero-padded by 2 to the original 32x32.
"""

from __future__ import annotations

import torch
from torch import nn


class LeNet5(nn.Module):
    """(N, C, S, S) -> (N, num_classes); conv 6@5x5, pool, conv 16@5x5, pool, FC 120, 84, classifier."""

    def __init__(self, in_channels: int, num_classes: int, image_size: int) -> None:
        super().__init__()
        pad = 2 if image_size == 28 else 0
        side = ((image_size + 2 * pad - 4) // 2 - 4) // 2
        if side < 1:
            raise ValueError(f"LeNet-5 needs images of at least 28 pixels, got {image_size}")
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=pad),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
        )
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * side * side, 120),
            nn.ReLU(inplace=True),
            nn.Linear(120, 84),
            nn.ReLU(inplace=True),
        )
        self.classifier = nn.Linear(84, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.head(self.features(x)))  # (N, K)
