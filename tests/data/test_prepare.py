from __future__ import annotations

import numpy as np

from pipeline.data.base import RawDataset, Split
from pipeline.data.prepare import prepare, val_indices


def raw(n: int = 100) -> RawDataset:
    images = np.zeros((n, 1, 2, 2), dtype=np.uint8)
    images[:, 0, 0, 0] = np.arange(n)  # the first pixel identifies the example
    labels = np.arange(n, dtype=np.int64) % 4
    test = Split(images[:10].copy(), labels[:10].copy())
    return RawDataset("toy", ("a", "b", "c", "d"), Split(images, labels), test)


def test_validation_is_stratified_disjoint_and_seeded() -> None:
    data = prepare(raw(), 0.2, 7)
    assert len(data.val) == 20 and len(data.train) == 80
    assert np.bincount(data.val.labels).tolist() == [5, 5, 5, 5]
    train_ids = set(data.train.images[:, 0, 0, 0].tolist())
    val_ids = set(data.val.images[:, 0, 0, 0].tolist())
    assert not train_ids & val_ids
    np.testing.assert_array_equal(
        val_indices(raw().train.labels, 0.2, 7), val_indices(raw().train.labels, 0.2, 7)
    )
    assert not np.array_equal(
        val_indices(raw().train.labels, 0.2, 7), val_indices(raw().train.labels, 0.2, 8)
    )


def test_test_split_is_untouched_and_zero_fraction_keeps_everything() -> None:
    data = prepare(raw(), 0.0, 0)
    assert len(data.val) == 0 and len(data.train) == 100
    np.testing.assert_array_equal(data.test.images, raw().test.images)


def test_checksum_tracks_content() -> None:
    a = prepare(raw(), 0.2, 0)
    assert a.sha256 == prepare(raw(), 0.2, 0).sha256
    assert a.sha256 != prepare(raw(), 0.2, 1).sha256
    changed = raw()
    changed.train.images[0, 0, 0, 0] ^= 1
    assert prepare(changed, 0.2, 0).sha256 != a.sha256
