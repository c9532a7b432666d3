"""Pruning (compression) identified exemplars (SPEC section 8, Hooker et al. 2019).

For every test example each population's **modal label** is its most frequent prediction across members,
ties going to the largest class id (the released code's ``Series.mode().max()``).  An example is a PIE of
a config when the compressed population's modal label differs from the dense population's; the true label
plays no part.  Everything is computed on (N, K) vote matrices: no per-example groupby.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def vote_counts(pred: np.ndarray, num_classes: int) -> np.ndarray:
    """(N, K) how many members predict each class for each example; uint8 below 256 members."""
    members, n = pred.shape
    dtype = np.uint8 if members < 256 else np.uint16
    votes = np.zeros((n, num_classes), dtype=dtype)
    rows = np.arange(n)
    for row in pred:  # one scatter per member; an example gets one vote per member, so no collisions
        votes[rows, row] += 1
    return votes


@dataclass(frozen=True)
class Modal:
    """Modal label (N,), its vote count (N,), and whether the top count was shared (N,) bool."""

    label: np.ndarray
    votes: np.ndarray
    tie: np.ndarray


def modal_labels(votes: np.ndarray) -> Modal:
    """The most voted class per row; a tie goes to the largest class id."""
    k = votes.shape[1]
    label = (k - 1) - np.argmax(
        votes[:, ::-1], axis=1
    )  # argmax takes the first max: reversed, the largest id
    top = votes.max(axis=1)
    tie = (votes == top[:, None]).sum(axis=1) > 1
    return Modal(label=label.astype(np.int64), votes=top.astype(np.int64), tie=tie)


def modal_without_one(votes: np.ndarray, modal: Modal, members: int) -> np.ndarray:
    """(N,) the modal label each example gets when one vote for its modal label is taken away (by
    leaving out a member that voted for it; leaving out any other member never changes it).

    Exact, from the full vote counts: with a tie at the top the modal label (the largest id tied)
    drops out of it, so the next largest id tied wins; without one, the modal label joins the classes
    one vote behind, and the largest id among them wins. Only examples without a clear majority can
    change (a modal count at least two above everything the other members could give another class);
    the rest keep their label without their vote rows being read. ``members``: the votes per example."""
    out = modal.label.copy()
    rows = np.flatnonzero(2 * modal.votes < members + 2)
    k = votes.shape[1]
    for tie in (True, False):
        sub = rows[modal.tie[rows] == tie]
        if not sub.size:
            continue
        label, top = modal.label[sub], modal.votes[sub].astype(votes.dtype)
        # tied: the other classes at the top count; else the modal label, one vote down, with the classes
        # one behind (top >= 1: every example has a vote)
        pick = votes[sub] == (top if tie else top - 1)[:, None]
        pick[np.arange(sub.size), label] = not tie
        out[sub] = (k - 1) - np.argmax(pick[:, ::-1], axis=1)
    return out


def leave_one_out_modal(pred: np.ndarray, modal: Modal, without_one: np.ndarray, member: int) -> np.ndarray:
    """(N,) the modal labels of the population (M, N) ``pred`` without member ``member``
    (:func:`modal_without_one` gives ``without_one``)."""
    return np.where(pred[member] == modal.label, without_one, modal.label)


def modal_of(pred: np.ndarray, num_classes: int) -> Modal:
    """The modal labels of a population's (M, N) predictions."""
    return modal_labels(vote_counts(pred, num_classes))


def pies(dense: Modal, comp: Modal) -> np.ndarray:
    """THE PIE rule: (N,) bool, the compressed population's modal label differs from the dense one's."""
    return np.asarray(comp.label != dense.label)


def graded_score(
    dense_votes: np.ndarray, comp_votes: np.ndarray, dense_members: int, comp_members: int
) -> np.ndarray:
    """(N,) L1 distance between the two populations' label-vote distributions, in [0, 2] (the follow-up
    paper's graded PIE score): 0 when both vote alike, 2 when they share no label."""
    out = np.zeros(dense_votes.shape[0])
    for start in range(0, dense_votes.shape[0], 8192):  # bounded float temporaries at 1,000 classes
        d = dense_votes[start : start + 8192] / dense_members
        c = comp_votes[start : start + 8192] / comp_members
        out[start : start + 8192] = np.abs(d - c).sum(axis=1)
    return out


@dataclass(frozen=True)
class PieSummary:
    """What a config's PIEs say; accuracies are member means of top-1 on the subset."""

    pies: int
    examples: int
    dense_ties: int
    compressed_ties: int
    dense_top1_pie: float
    compressed_top1_pie: float
    dense_top1_non_pie: float
    compressed_top1_non_pie: float
    dense_top1_all: float
    compressed_top1_all: float
    dense_modal_correct_pie: int
    compressed_modal_correct_pie: int

    @property
    def fraction(self) -> float:
        return self.pies / self.examples if self.examples else float("nan")

    def as_dict(self) -> dict[str, float | int]:
        out: dict[str, float | int] = {
            "pies": self.pies,
            "pie_fraction": self.fraction,
            "examples": self.examples,
        }
        out |= {k: v for k, v in self.__dict__.items() if k not in out}
        return out


def _subset_top1(correct: np.ndarray, mask: np.ndarray) -> float:
    """Member-mean top-1 over the examples in ``mask`` (NaN for an empty subset)."""
    n = int(mask.sum())
    return float(correct[:, mask].sum() / (n * correct.shape[0])) if n else float("nan")


def summarize(
    pie: np.ndarray,
    labels: np.ndarray,
    dense_correct: np.ndarray,
    comp_correct: np.ndarray,
    dense_modal: Modal,
    comp_modal: Modal,
) -> PieSummary:
    """Count, ties, top-1 of both populations on PIEs and non-PIEs (top-1 after removing the PIEs), and
    how many PIEs each population's modal label gets right."""
    return PieSummary(
        pies=int(pie.sum()),
        examples=int(pie.size),
        dense_ties=int(dense_modal.tie.sum()),
        compressed_ties=int(comp_modal.tie.sum()),
        dense_top1_pie=_subset_top1(dense_correct, pie),
        compressed_top1_pie=_subset_top1(comp_correct, pie),
        dense_top1_non_pie=_subset_top1(dense_correct, ~pie),
        compressed_top1_non_pie=_subset_top1(comp_correct, ~pie),
        dense_top1_all=float(dense_correct.mean()),
        compressed_top1_all=float(comp_correct.mean()),
        dense_modal_correct_pie=int((dense_modal.label[pie] == labels[pie]).sum()),
        compressed_modal_correct_pie=int((comp_modal.label[pie] == labels[pie]).sum()),
    )


def jaccard(masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For (C, N) boolean sets: (C, C) intersection sizes and Jaccard index |A∩B| / |A∪B| (NaN when both
    sets are empty)."""
    as_int = masks.astype(np.int32)
    inter = as_int @ as_int.T
    sizes = np.diag(inter)
    union = sizes[:, None] + sizes[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return inter, np.where(union > 0, inter / np.maximum(union, 1), np.nan)


def vote_string(votes: np.ndarray) -> str:
    """One example's non-zero votes as ``class:count`` pairs, most votes first (ties: larger id first)."""
    nonzero = np.flatnonzero(votes)
    order = sorted(nonzero, key=lambda c: (-int(votes[c]), -int(c)))
    return " ".join(f"{int(c)}:{int(votes[c])}" for c in order)
