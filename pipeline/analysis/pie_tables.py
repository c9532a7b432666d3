"""What the ``pie`` stage writes, as plain rows, numbers and gallery pages (SPEC section 8; the rule and
the vote arithmetic: :mod:`pipeline.analysis.pie`; the files: :mod:`pipeline.io.pie`).

The dense config is the reference and has no PIEs of its own.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.analysis import pie, power
from pipeline.analysis.gallery import RIGHT, TEXT, WRONG, Caption
from pipeline.analysis.pie_traits import Traits, contrast
from pipeline.analysis.population import Population, check_comparable
from pipeline.config import PieParams
from pipeline.numbers import clean, fmt

if TYPE_CHECKING:
    from PIL.Image import Image

log = logging.getLogger("pipeline.pie")


@dataclass(frozen=True)
class Votes:
    """A population with its (N, K) vote counts, modal labels and each example's modal label when one
    vote for it is left out (:func:`pipeline.analysis.pie.modal_without_one`)."""

    population: Population
    votes: np.ndarray
    modal: pie.Modal
    without_one: np.ndarray

    @classmethod
    def of(cls, population: Population, num_classes: int) -> Votes:
        votes = pie.vote_counts(population.pred, num_classes)
        modal = pie.modal_labels(votes)
        return cls(population, votes, modal, pie.modal_without_one(votes, modal, population.members))

    def leave_out(self, member: int) -> np.ndarray:
        """(N,) the modal labels without member ``member`` (row of ``population.pred``)."""
        return pie.leave_one_out_modal(self.population.pred, self.modal, self.without_one, member)


@dataclass(frozen=True)
class ConfigPies:
    """One config's PIEs: ``mask`` (N,) bool, ``summary`` its summary.json entry, ``class_rows`` its
    per_class.csv rows, ``rows`` its pies.csv rows (most disputed first) and ``ids`` their example ids."""

    name: str
    mask: np.ndarray
    result: pie.PieSummary
    summary: dict[str, Any]
    class_rows: list[dict[str, Any]]
    rows: list[dict[str, Any]]
    ids: np.ndarray


@dataclass(frozen=True)
class Stability:
    """Leave-one-member-out (one seed dropped from both populations): each example's frequency as a PIE
    (N,), and the Jaccard index of each resample's PIE set with the full one (mean, min)."""

    frequency: np.ndarray
    jaccard_mean: float | None
    jaccard_min: float | None

    def summary(self, mask: np.ndarray) -> dict[str, Any]:
        return {
            "pie_jaccard_loo_mean": self.jaccard_mean,
            "pie_jaccard_loo_min": self.jaccard_min,
            "pies_stable": int((mask & (self.frequency >= 1.0)).sum())
            if np.isfinite(self.frequency).all()
            else None,
        }


def stability(dense: Votes, comp: Votes, mask: np.ndarray) -> Stability:
    """:class:`Stability` of the PIE set (NaN and None with fewer than 3 members or unpaired seeds). Each
    resample's modal labels come from the full vote counts (:meth:`Votes.leave_out`), never recounted."""
    paired = tuple(comp.population.seeds) == tuple(dense.population.seeds)
    resamples = power.leave_one_out(comp.population.members) if paired else []
    if not resamples:
        return Stability(np.full(mask.shape, np.nan), None, None)
    counts = np.zeros(mask.shape, np.int64)
    jac = []
    for member in range(len(resamples)):  # resample i leaves out member i
        found = comp.leave_out(member) != dense.leave_out(member)
        counts += found
        jac.append(power.jaccard(mask, found))
    return Stability(counts / len(resamples), float(np.mean(jac)), float(np.min(jac)))


def config_pies(
    dense: Votes, comp: Population, class_names: Sequence[str], traits: Traits | None = None
) -> ConfigPies:
    """The PIEs of ``comp`` against the dense population, everything the stage writes of them: with
    ``traits``, how PIEs differ from the rest in them; always, how stable the PIE set is."""
    k = len(class_names)
    check_comparable(dense.population, comp, k)
    own = Votes.of(comp, k)
    mask = pie.pies(dense.modal, own.modal)
    d = dense.population
    result = pie.summarize(mask, d.labels, d.correct, comp.correct, dense.modal, own.modal)
    score = pie.graded_score(dense.votes, own.votes, d.members, comp.members)
    stable = stability(dense, own, mask)
    summary = result.as_dict() | {"mean_score": float(score.mean())} | stable.summary(mask)
    summary |= contrast(traits, mask) if traits is not None else {}
    summary = {key: clean(v) for key, v in summary.items()}
    ids = np.flatnonzero(mask)
    ids = ids[np.lexsort((ids, -score[ids]))]  # most disputed first: graded score descending, then id
    rows = [pie_row(int(n), dense, own, score, class_names) | traits_row(int(n), traits, stable) for n in ids]
    out = ConfigPies(
        comp.name, mask, result, summary, class_rows(comp.name, mask, d.labels, class_names), rows, ids
    )
    log.info("%s", log_line(out))
    return out


def pie_row(n: int, dense: Votes, comp: Votes, score: np.ndarray, names: Sequence[str]) -> dict[str, Any]:
    """Example ``n``'s pies.csv row: its label, both modal labels with their votes, all votes of both
    populations and the graded score."""
    label = int(dense.population.labels[n])
    return {
        "example_id": n,
        "label": label,
        "label_name": names[label],
        "dense_modal": int(dense.modal.label[n]),
        "dense_modal_name": names[dense.modal.label[n]],
        "dense_modal_votes": int(dense.modal.votes[n]),
        "compressed_modal": int(comp.modal.label[n]),
        "compressed_modal_name": names[comp.modal.label[n]],
        "compressed_modal_votes": int(comp.modal.votes[n]),
        "members": comp.population.members,
        "dense_votes": pie.vote_string(dense.votes[n]),
        "compressed_votes": pie.vote_string(comp.votes[n]),
        "score": float(score[n]),
    }


def traits_row(n: int, traits: Traits | None, stable: Stability) -> dict[str, Any]:
    """Example ``n``'s traits under the dense population (empty without them) and its leave-one-out
    frequency as a PIE."""
    row = traits.row(n) if traits is not None else dict.fromkeys(TRAIT_COLUMNS)
    return {key: clean(v) for key, v in row.items()} | {"loo_frequency": clean(stable.frequency[n])}


TRAIT_COLUMNS = ("label_issue", "label_quality", *Traits.SCORES)
# The gallery's orders (pie.gallery_order): key of a row, ascending, ties by example id.
ORDERS = {
    "disputed": lambda r: -r["score"],
    "mislabelled": lambda r: r["label_quality"] if r["label_quality"] is not None else np.inf,
    "atypical": lambda r: -r["atypicality"] if r["atypicality"] is not None else np.inf,
    "uncertain": lambda r: r["agreement"] if r["agreement"] is not None else np.inf,
}


def class_rows(
    config: str, mask: np.ndarray, labels: np.ndarray, names: Sequence[str]
) -> list[dict[str, Any]]:
    """Per true class: test examples, PIEs, PIE rate and the class's share of the config's PIEs."""
    k = len(names)
    sizes = np.bincount(labels, minlength=k)
    counts = np.bincount(labels[mask], minlength=k)
    total = int(mask.sum())
    return [
        {
            "config": config,
            "class": c,
            "class_name": names[c],
            "examples": int(sizes[c]),
            "pies": int(counts[c]),
            "pie_rate": clean(counts[c] / sizes[c]) if sizes[c] else None,
            "pie_share": clean(counts[c] / total) if total else None,
        }
        for c in range(k)
    ]


def overlap_rows(configs: Sequence[ConfigPies]) -> list[dict[str, Any]]:
    """Every ordered pair of configs: both PIE set sizes, their intersection and Jaccard index."""
    inter, jac = pie.jaccard(np.stack([c.mask for c in configs]) if configs else np.zeros((0, 0), bool))
    return [
        {
            "config_a": a.name,
            "config_b": b.name,
            "pies_a": int(inter[i, i]),
            "pies_b": int(inter[j, j]),
            "intersection": int(inter[i, j]),
            "jaccard": clean(jac[i, j]),
        }
        for i, a in enumerate(configs)
        for j, b in enumerate(configs)
    ]


def study_summary(dense: Votes, configs: Sequence[ConfigPies]) -> dict[str, Any]:
    """summary.json: the population size, the dense modal-label ties and each config's entry."""
    return {
        "members": dense.population.members,
        "dense_ties": int(dense.modal.tie.sum()),
        "configs": {c.name: c.summary for c in configs},
    }


def caption(row: dict[str, Any], members: int) -> Caption:
    """Three lines: id and true label; dense and compressed modal labels with their votes, green when
    right, red when wrong."""

    def colour(label: int) -> tuple[int, int, int]:
        return RIGHT if label == row["label"] else WRONG

    return Caption(
        (
            (f"#{row['example_id']} {row['label_name']}", TEXT),
            (f"D {row['dense_modal_name']} {row['dense_modal_votes']}/{members}", colour(row["dense_modal"])),
            (
                f"C {row['compressed_modal_name']} {row['compressed_modal_votes']}/{members}",
                colour(row["compressed_modal"]),
            ),
        )
    )


def gallery(result: ConfigPies, images: np.ndarray, members: int, cfg: PieParams) -> list[Image]:
    """The config's gallery pages: its most disputed PIEs (up to ``cfg.gallery_max``; 0: all) of the test
    split's ``images`` (N, C, H, W), captioned with the votes of the dense population's ``members``;
    none without PIEs."""
    from pipeline.analysis.gallery import render_pages

    order = sorted(result.rows, key=lambda r: (ORDERS[cfg.gallery_order](r), r["example_id"]))
    shown = order if cfg.gallery_max == 0 else order[: cfg.gallery_max]
    if not shown:
        return []
    title = (
        f"{result.name}: {result.result.pies} PIEs, the {len(shown)} most {cfg.gallery_order} first. "
        f"D: dense modal label, C: compressed modal label (votes of {shown[0]['members']}); "
        "green right, red wrong"
    )
    return render_pages(
        np.asarray(images[[r["example_id"] for r in shown]]),
        [caption(r, members) for r in shown],
        per_page=cfg.gallery_columns * cfg.gallery_rows,
        columns=cfg.gallery_columns,
        cell=cfg.gallery_cell,
        title=title,
    )


def log_line(config: ConfigPies) -> str:
    r = config.result
    return (
        f"{config.name:<26} PIEs {r.pies:5d} ({fmt(r.fraction)})  top-1 on PIEs: dense "
        f"{fmt(r.dense_top1_pie, 3)}, compressed {fmt(r.compressed_top1_pie, 3)}; without PIEs: "
        f"{fmt(r.dense_top1_non_pie)}, {fmt(r.compressed_top1_non_pie)}"
    )
