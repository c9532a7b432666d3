"""Stage ``pie``: pruning (compression) identified exemplars of every config (SPEC section 8).

Writes to the output folder:
  summary.json         per config: PIE count and fraction, modal-label ties, top-1 of both populations
                       on PIEs and on the rest (= top-1 after removing the PIEs), PIEs each modal label
                       gets right
  per_class.csv        per config and true class: test examples, PIEs, PIE rate, share of the config's PIEs
  overlap.csv          every pair of configs: PIE set sizes, intersection, Jaccard index
  <config>/pies.csv    every PIE: example id, true label, both modal labels, their vote counts, all
                       votes of both populations and the graded score (L1 distance of the vote distributions)
  <config>/gallery_NNN.png  the most disputed PIEs (up to pie.gallery_max) with those labels written on them
The dense config is the reference and has no PIEs of its own.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.config import load_params
from pipeline.stages._cli import parser, run

log = logging.getLogger("pipeline.pie")

PIE_COLUMNS = [
    "example_id",
    "label",
    "label_name",
    "dense_modal",
    "dense_modal_name",
    "dense_modal_votes",
    "compressed_modal",
    "compressed_modal_name",
    "compressed_modal_votes",
    "members",
    "dense_votes",
    "compressed_votes",
    "score",
]


def main(args: argparse.Namespace) -> None:
    from pipeline.analysis import pie
    from pipeline.analysis.compare import clean
    from pipeline.analysis.gallery import write_pages
    from pipeline.analysis.population import check_comparable, load_population, load_reference
    from pipeline.io.files import write_json
    from pipeline.io.folders import replaced_folder
    from pipeline.io.prepared import load_test_split
    from pipeline.io.tables import write_table

    params = load_params(args.params)
    cfg = params.pie
    test = load_test_split(Path(args.data))
    names = test.class_names
    k = test.num_classes
    seeds = params.population.seeds
    dense = load_reference(args.predictions, seeds, test.labels, k)
    dense_votes = pie.vote_counts(dense.pred, k)
    dense_modal = pie.modal_labels(dense_votes)
    labels = dense.labels
    class_sizes = np.bincount(labels, minlength=k)
    configs = [name for name in params.compress.configs if name != "dense"]

    summary: dict[str, Any] = {"members": len(seeds), "dense_ties": int(dense_modal.tie.sum()), "configs": {}}
    class_rows: list[dict[str, Any]] = []
    masks = np.zeros((len(configs), dense.examples), dtype=bool)
    with replaced_folder(Path(args.out)) as out:
        for i, name in enumerate(configs):
            comp = load_population(args.predictions, name, seeds)
            check_comparable(dense, comp, k)
            comp_votes = pie.vote_counts(comp.pred, k)
            comp_modal = pie.modal_labels(comp_votes)
            is_pie = comp_modal.label != dense_modal.label
            masks[i] = is_pie
            result = pie.summarize(is_pie, labels, dense.correct, comp.correct, dense_modal, comp_modal)
            score = pie.graded_score(dense_votes, comp_votes, dense.members, comp.members)
            summary["configs"][name] = {key: clean(v) for key, v in result.as_dict().items()} | {
                "mean_score": float(score.mean())
            }
            per_class = np.bincount(labels[is_pie], minlength=k)
            class_rows += [
                {
                    "config": name,
                    "class": c,
                    "class_name": names[c],
                    "examples": int(class_sizes[c]),
                    "pies": int(per_class[c]),
                    "pie_rate": clean(per_class[c] / class_sizes[c]) if class_sizes[c] else None,
                    "pie_share": clean(per_class[c] / result.pies) if result.pies else None,
                }
                for c in range(k)
            ]
            # Most disputed first: graded score descending, then example id.
            ids = np.flatnonzero(is_pie)
            ids = ids[np.lexsort((ids, -score[ids]))]
            rows = [
                {
                    "example_id": int(n),
                    "label": int(labels[n]),
                    "label_name": names[labels[n]],
                    "dense_modal": int(dense_modal.label[n]),
                    "dense_modal_name": names[dense_modal.label[n]],
                    "dense_modal_votes": int(dense_modal.votes[n]),
                    "compressed_modal": int(comp_modal.label[n]),
                    "compressed_modal_name": names[comp_modal.label[n]],
                    "compressed_modal_votes": int(comp_modal.votes[n]),
                    "members": comp.members,
                    "dense_votes": pie.vote_string(dense_votes[n]),
                    "compressed_votes": pie.vote_string(comp_votes[n]),
                    "score": float(score[n]),
                }
                for n in ids
            ]
            write_table(out / name / "pies.csv", rows, PIE_COLUMNS)
            shown = rows if cfg.gallery_max == 0 else rows[: cfg.gallery_max]
            if shown:
                write_pages(
                    out / name,
                    "gallery",
                    np.asarray(test.images[ids[: len(shown)]]),
                    [_caption(r, dense.members) for r in shown],
                    per_page=cfg.gallery_columns * cfg.gallery_rows,
                    columns=cfg.gallery_columns,
                    cell=cfg.gallery_cell,
                    title=(
                        f"{name}: {result.pies} PIEs, the {len(shown)} most disputed. D: dense modal label, "
                        f"C: compressed modal label (votes of {comp.members}); green right, red wrong"
                    ),
                )
            log.info(
                "%-26s PIEs %5d (%.4f)  top-1 on PIEs: dense %.3f, compressed %.3f; without PIEs: %.4f, %.4f",
                name,
                result.pies,
                result.fraction,
                result.dense_top1_pie,
                result.compressed_top1_pie,
                result.dense_top1_non_pie,
                result.compressed_top1_non_pie,
            )
        inter, jac = pie.jaccard(masks)
        overlap = [
            {
                "config_a": a,
                "config_b": b,
                "pies_a": int(inter[i, i]),
                "pies_b": int(inter[j, j]),
                "intersection": int(inter[i, j]),
                "jaccard": clean(jac[i, j]),
            }
            for i, a in enumerate(configs)
            for j, b in enumerate(configs)
        ]
        write_json(out / "summary.json", summary)
        write_table(out / "per_class.csv", class_rows, CLASS_COLUMNS)
        write_table(out / "overlap.csv", overlap, OVERLAP_COLUMNS)


CLASS_COLUMNS = ["config", "class", "class_name", "examples", "pies", "pie_rate", "pie_share"]
OVERLAP_COLUMNS = ["config_a", "config_b", "pies_a", "pies_b", "intersection", "jaccard"]


def _caption(row: dict[str, Any], members: int) -> Any:
    """Three lines: id and true label; dense and compressed modal labels with their votes, green when
    right, red when wrong."""
    from pipeline.analysis.gallery import RIGHT, TEXT, WRONG, Caption

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


if __name__ == "__main__":
    p = parser(__doc__ or "")
    p.add_argument("--predictions", required=True, help="prediction table path with {config} and {seed}")
    p.add_argument("--data", required=True, help="folder of the prepared dataset (test images and labels)")
    p.add_argument("--out", required=True, help="output folder (replaced as a whole on success)")
    run(main, p.parse_args())
