from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from pipeline.data.prepare import SPLITS, Prepared
from pipeline.io.prepared import META, array_file, load_prepared, load_test_split, save_prepared


def test_prepared_round_trip(tmp_path: Path, tiny_data: Prepared) -> None:
    save_prepared(tmp_path / "prepared", tiny_data)
    back = load_prepared(tmp_path / "prepared")
    assert back.sha256 == tiny_data.sha256
    assert back.class_names == tiny_data.class_names
    for name in ("train", "val", "test"):
        np.testing.assert_array_equal(back.split(name).images, tiny_data.split(name).images)
        np.testing.assert_array_equal(back.split(name).labels, tiny_data.split(name).labels)
    meta = json.loads((tmp_path / "prepared" / "meta.json").read_text())
    assert meta["sizes"] == {"train": 448, "val": 64, "test": 256}
    assert oct(os.stat(tmp_path / "prepared" / "meta.json").st_mode & 0o777) != oct(0o600)


def test_the_layout_is_the_owners(tmp_path: Path, tiny_data: Prepared) -> None:
    """Every file written is named by array_file (or is META), and load_test_split reads the same folder."""
    save_prepared(tmp_path, tiny_data)
    expected = {array_file(split, array) for split in SPLITS for array in ("images", "labels")}
    assert {p.name for p in tmp_path.iterdir()} == expected | {META}
    test = load_test_split(tmp_path)
    np.testing.assert_array_equal(test.labels, tiny_data.test.labels)
    np.testing.assert_array_equal(test.images, tiny_data.test.images)
    assert test.class_names == tiny_data.class_names and test.num_classes == tiny_data.num_classes
