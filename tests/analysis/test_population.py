from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.analysis.population import (
    PredictionsMismatch,
    check_comparable,
    from_members,
    load_population,
    load_reference,
    load_views,
)
from pipeline.errors import InputCorrupt
from pipeline.io.predictions import PredictFolder, write_predictions


def table(labels: np.ndarray, pred: np.ndarray, k: int = 3) -> dict[str, np.ndarray]:
    n = labels.size
    top5 = np.stack([pred] + [(pred + i) % k for i in range(1, k)], axis=1)
    return {
        "example_id": np.arange(n, dtype=np.int32),
        "label": labels.astype(np.int16),
        "pred": pred.astype(np.int16),
        "p_pred": np.full(n, 0.9, np.float32),
        "p_label": np.full(n, 0.5, np.float32),
        "top5": top5.astype(np.int16),
    }


def test_load_population_reads_members_in_seed_order(tmp_path: Path) -> None:
    labels = np.array([0, 1, 2, 2])
    preds = {3: np.array([0, 1, 2, 0]), 7: np.array([1, 1, 2, 2])}
    folder = PredictFolder(tmp_path)
    for seed, pred in preds.items():
        write_predictions(folder.config("cfg").table(seed), table(labels, pred), np.zeros((4, 3)))
    pop = load_population(folder, "cfg", [7, 3])
    assert pop.seeds == (7, 3) and pop.members == 2 and pop.examples == 4
    np.testing.assert_array_equal(pop.pred, [preds[7], preds[3]])
    np.testing.assert_allclose(pop.top1(), [0.75, 0.75])
    np.testing.assert_allclose(pop.top5(), [1.0, 1.0])  # all 3 classes are in the top 5


def test_missing_table_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(InputCorrupt, match=r"clean/cfg.d/seed_0.parquet: missing; run `dvc repro predict`"):
        load_population(PredictFolder(tmp_path), "cfg", [0])


def test_load_views_reads_the_clean_and_every_corrupted_view(tmp_path: Path) -> None:
    folder = PredictFolder(tmp_path)
    labels = np.array([0, 1, 2, 2])
    sample = table(labels[[1, 3]], np.array([1, 0]))
    sample["example_id"] = np.array([1, 3], dtype=np.int32)
    write_predictions(folder.config("cfg").table(0), table(labels, labels), np.zeros((4, 3)))
    write_predictions(folder.config("cfg").table(0, "rotate-1"), sample, np.zeros((2, 3)))
    assert folder.config("cfg").table(0, "rotate-1") == tmp_path / "corrupted/cfg.d/rotate-1/seed_0.parquet"
    pops = load_views(folder, "cfg", [0], ["rotate-1"])
    assert list(pops) == ["clean", "rotate-1"]
    np.testing.assert_array_equal(pops["rotate-1"].example_ids, [1, 3])
    np.testing.assert_array_equal(pops["rotate-1"].pred, [[1, 0]])
    assert pops["clean"].pred.dtype == np.int64 and pops["clean"].p_pred.dtype == np.float64


def test_members_with_different_labels_are_refused() -> None:
    a = table(np.array([0, 1]), np.array([0, 1]))
    b = table(np.array([1, 1]), np.array([0, 1]))
    with pytest.raises(PredictionsMismatch, match=r"cfg seed 5: examples or labels differ from seed 4"):
        from_members("cfg", [4, 5], [a, b])


def test_class_ids_beyond_the_dataset_are_refused() -> None:
    pop = from_members("cfg", [0], [table(np.array([0, 1]), np.array([0, 2]))])
    check_comparable(pop, pop, 3)
    with pytest.raises(PredictionsMismatch, match=r"class ids up to 2, but the dataset has 2 classes"):
        check_comparable(pop, pop, 2)


def test_reference_must_match_the_prepared_labels(tmp_path: Path) -> None:
    labels = np.array([0, 1, 2])
    folder = PredictFolder(tmp_path)
    write_predictions(folder.config("dense").table(0), table(labels, labels), np.zeros((3, 3)))
    assert load_reference(folder, [0], labels, 3).members == 1
    with pytest.raises(
        PredictionsMismatch, match=r"dense: test labels differ from the prepared test split's"
    ):
        load_reference(folder, [0], np.array([0, 1, 1]), 3)


def test_a_sampled_view_keeps_its_test_split_ids() -> None:
    t = table(np.array([2, 0, 1]), np.array([2, 0, 0]))
    t["example_id"] = np.array([3, 10, 42], dtype=np.int32)
    pop = from_members("cfg", [0], [t])
    np.testing.assert_array_equal(pop.example_ids, [3, 10, 42])


def test_example_ids_must_increase() -> None:
    t = table(np.array([0, 1]), np.array([0, 1]))
    t["example_id"] = np.array([5, 5], dtype=np.int32)
    with pytest.raises(PredictionsMismatch, match=r"cfg seed 0: example_id is not increasing"):
        from_members("cfg", [0], [t])


def test_populations_over_other_examples_are_not_comparable() -> None:
    a = table(np.array([0, 1]), np.array([0, 1]))
    b = dict(a, example_id=np.array([0, 2], dtype=np.int32))
    with pytest.raises(PredictionsMismatch, match=r"other: predicts other test examples than ref"):
        check_comparable(from_members("ref", [0], [a]), from_members("other", [0], [b]), 2)
