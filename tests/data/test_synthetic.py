from __future__ import annotations

import numpy as np

from pipeline.config import SyntheticParams
from pipeline.data.synthetic import generate


def test_shapes_dtypes_and_balance() -> None:
    cfg = SyntheticParams(num_classes=3, image_size=12, channels=3, train_size=60, test_size=30)
    data = generate(cfg)
    assert data.train.images.shape == (60, 3, 12, 12) and data.train.images.dtype == np.uint8
    assert data.test.labels.dtype == np.int64
    assert np.bincount(data.train.labels).tolist() == [20, 20, 20]
    assert data.class_names == ("class_0", "class_1", "class_2")


def test_deterministic() -> None:
    a, b = generate(SyntheticParams()), generate(SyntheticParams())
    np.testing.assert_array_equal(a.train.images, b.train.images)
    np.testing.assert_array_equal(a.test.labels, b.test.labels)


def test_learnable_by_nearest_class_mean() -> None:
    """The classes are separable: nearest class mean (fit on train) is right on most test images."""
    data = generate(SyntheticParams())
    x = data.train.images.reshape(len(data.train), -1).astype(float)
    means = np.stack([x[data.train.labels == k].mean(0) for k in range(4)])
    t = data.test.images.reshape(len(data.test), -1).astype(float)
    pred = ((t[:, None, :] - means[None]) ** 2).sum(-1).argmin(1)
    assert (pred == data.test.labels).mean() > 0.9
