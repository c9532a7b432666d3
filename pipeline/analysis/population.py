"""A population's predictions on one test view as index-aligned arrays (members x examples)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.config import DENSE
from pipeline.errors import PredictionsMismatch
from pipeline.io.predictions import PredictFolder, read_logits, read_predictions
from pipeline.robustness import CLEAN_VIEW


@dataclass(frozen=True)
class Population:
    """Members' predictions, row ``m`` from the member of ``seeds[m]``.

    labels: (N,) int64; pred: (M, N) int64 predicted class; p_pred: (M, N) float64 max softmax;
    top5_hit: (M, N) bool, the label among the five best classes; example_ids: (N,) int64 test-split
    indices of the examples, increasing (0..N-1 on the clean split, a sample of it on a corrupted view).
    """

    name: str
    seeds: tuple[int, ...]
    labels: np.ndarray
    pred: np.ndarray
    p_pred: np.ndarray
    top5_hit: np.ndarray
    example_ids: np.ndarray

    @property
    def members(self) -> int:
        return int(self.pred.shape[0])

    @property
    def examples(self) -> int:
        return int(self.labels.shape[0])

    @property
    def correct(self) -> np.ndarray:
        """(M, N) bool: member m predicts example n's label."""
        return self.pred == self.labels[None, :]

    def top1(self) -> np.ndarray:
        """(M,) each member's top-1 accuracy."""
        return self.correct.mean(axis=1)

    def top5(self) -> np.ndarray:
        return self.top5_hit.mean(axis=1)

    def subset(self, example_ids: np.ndarray) -> Population:
        """The same members on the examples ``example_ids`` (increasing test-split indices it holds)."""
        rows = np.searchsorted(self.example_ids, example_ids)
        if np.any(rows >= self.examples) or not np.array_equal(self.example_ids[rows], example_ids):
            raise PredictionsMismatch(f"{self.name}: predicts none of some requested test examples")
        return dataclasses.replace(
            self,
            labels=self.labels[rows],
            pred=self.pred[:, rows],
            p_pred=self.p_pred[:, rows],
            top5_hit=self.top5_hit[:, rows],
            example_ids=np.asarray(example_ids, dtype=np.int64),
        )


def from_members(name: str, seeds: Sequence[int], tables: Sequence[Mapping[str, np.ndarray]]) -> Population:
    """Stack members' prediction tables (:func:`pipeline.io.predictions.read_predictions`), checking they
    cover the same examples with the same labels, in order."""
    if not tables:
        raise PredictionsMismatch(f"{name}: a population needs at least one member")
    first = tables[0]
    ids = first["example_id"].astype(np.int64)
    if ids.size and (ids[0] < 0 or np.any(np.diff(ids) <= 0)):
        raise PredictionsMismatch(f"{name} seed {seeds[0]}: example_id is not increasing from 0 or more")
    for seed, table in zip(seeds, tables, strict=True):
        if not np.array_equal(table["example_id"], first["example_id"]) or not np.array_equal(
            table["label"], first["label"]
        ):
            raise PredictionsMismatch(f"{name} seed {seed}: examples or labels differ from seed {seeds[0]}")
    labels = first["label"].astype(np.int64)
    pred = np.stack([t["pred"] for t in tables]).astype(np.int64)
    top5_hit = np.stack([(t["top5"] == labels[:, None]).any(axis=1) for t in tables])
    return Population(
        name=name,
        seeds=tuple(int(s) for s in seeds),
        labels=labels,
        pred=pred,
        p_pred=np.stack([t["p_pred"] for t in tables]).astype(np.float64),
        top5_hit=top5_hit,
        example_ids=ids,
    )


def load_population(
    folder: PredictFolder, name: str, seeds: Sequence[int], view: str = CLEAN_VIEW
) -> Population:
    """The population of config ``name`` on ``view``, read from the predict stage's ``folder``; a missing
    or damaged table is an InputCorrupt naming it."""
    out = folder.config(name)
    return from_members(name, seeds, [read_predictions(out.table(seed, view)) for seed in seeds])


def load_views(
    folder: PredictFolder, name: str, seeds: Sequence[int], views: Sequence[str]
) -> dict[str, Population]:
    """View -> the population of config ``name`` on it, for the clean view and every one of ``views``."""
    return {view: load_population(folder, name, seeds, view) for view in (CLEAN_VIEW, *views)}


def check_comparable(reference: Population, other: Population, num_classes: int) -> None:
    """Raise PredictionsMismatch unless ``other`` predicts the reference's examples and known classes."""
    if not np.array_equal(reference.example_ids, other.example_ids):
        raise PredictionsMismatch(
            f"{other.name}: predicts other test examples than {reference.name}; were both predicted on the "
            "same view?"
        )
    if not np.array_equal(reference.labels, other.labels):
        raise PredictionsMismatch(
            f"{other.name}: test labels differ from {reference.name}'s; were both predicted on the same data?"
        )
    for pop in (reference, other):
        low, high = int(pop.pred.min(initial=0)), int(pop.pred.max(initial=0))
        top = max(high, int(pop.labels.max(initial=0)))
        if low < 0 or top >= num_classes:
            raise PredictionsMismatch(
                f"{pop.name}: class ids up to {top}, but the dataset has {num_classes} classes"
            )


def load_reference(
    folder: PredictFolder, seeds: Sequence[int], labels: np.ndarray, num_classes: int
) -> Population:
    """The dense population on the clean view, checked against the prepared test split's ``labels`` and
    class count."""
    dense = load_population(folder, DENSE, seeds)
    check_comparable(dense, dense, num_classes)
    if not np.array_equal(dense.labels, labels):
        raise PredictionsMismatch(
            "dense: test labels differ from the prepared test split's; rerun `dvc repro predict`"
        )
    return dense


def reference_logits(folder: PredictFolder, seeds: Sequence[int]) -> Iterator[np.ndarray]:
    """The dense members' (N, K) clean logits, one member at a time, checked against their tables."""
    out = folder.config(DENSE)
    for seed in seeds:
        yield read_logits(out.table(seed, CLEAN_VIEW))
