"""Shared by the report tests: a tiny fake study written through the owners of the real stage outputs'
layouts (pipeline/io/: predictions, stats, pie, robustness; the saliency and representations stand-ins in
pipeline/report/load.py), and a strict HTML checker.

The study is the conftest's tiny params (dense, magnitude_50, int8_static; 2 seeds) with 4 classes, 2
corruptions (one noise, one geometric) at severities 1 and 5, and 2 layers.  Numbers are binary fractions
so the plot tables can be compared as text.  Hand-made cases: magnitude_50 is beyond its floor in churn
and last-layer CKA, int8_static in saliency MAD; int8_static has nulls (top1_std, its interval, ECE
change, one robustness value) and no PIEs; dense has no saliency, robustness or representations summary.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from PIL import Image

from pipeline.config import to_dict
from pipeline.io import pie as pie_io
from pipeline.io import robustness as robustness_io
from pipeline.io import stats as stats_io
from pipeline.io.files import write_json
from pipeline.io.predictions import PredictFolder, write_clean_summary
from pipeline.io.representations import RepresentationsFolder
from pipeline.io.saliency import SaliencyFolder

from ..conftest import tiny_params

CONFIGS = ("dense", "magnitude_50", "int8_static")
CLASSES = ("circle", "square", "triangle", "cross")
STAGES = ("predict", "stats", "pie", "saliency", "robustness", "representations")  # the folders read
FLOORS = {"churn": 0.05, "mad": 0.125, "cka": 0.875}


def write_params(path: Path) -> Path:
    path.write_text(yaml.safe_dump(to_dict(tiny_params()), sort_keys=False))
    return path


def argv(root: Path, out: Path) -> list[str]:
    """The stage's command line: the stages' folders under ``root``, the output folder ``out``."""
    args = ["--params", str(root / "params.yaml")]
    args += [arg for name in STAGES for arg in (f"--{name}", str(root / name))]
    return [*args, "--out", str(out)]


def write_study(root: Path) -> Path:
    """Every input of the report stage under ``root`` (and its params.yaml); returns ``root``."""
    write_params(root / "params.yaml")
    _predict(root / "predict")
    _stats(root / "stats")
    _pie(root / "pie")
    for name in CONFIGS[1:]:
        write_saliency(root / "saliency", name, name)
        write_robustness(root / "robustness", name, name)
        write_representations(root / "representations", name, name)
    return root


def _image(shade: int) -> Image.Image:
    return Image.new("L", (8, 8), shade)


def _png(path: Path, shade: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    _image(shade).save(path)


def _predict(folder: Path) -> None:
    sizes = {"dense": (1.0, 1.0, 0.0), "magnitude_50": (0.5, 0.75, 0.5), "int8_static": (0.25, 0.25, 0.0)}
    for name, (a, b, sparsity) in sizes.items():
        members = [
            {"seed": seed, "top1": 0.9, "size_ratio": size, "sparsity": sparsity}
            for seed, size in ((0, a), (1, b))
        ]
        write_clean_summary(PredictFolder(folder).config(name), name, members)


STATS_COLUMNS = (
    "top1",
    "top1_std",
    "top1_low",
    "top1_high",
    "top1_drop",
    "impacted_classes",
    "impacted_classes_fdr",
    "churn",
    "ece_change",
    "top1_members",
)
STATS = {
    "dense": (0.91, 0.01, 0.82, 1.0, 0.0, 0, 0, 0.0, 0.0, [0.9, 0.92]),
    "magnitude_50": (0.86, 0.01, 0.77, 0.95, 0.05, 2, 1, 0.08, 0.01, [0.85, 0.87]),
    "int8_static": (0.9, None, None, None, 0.01, 0, 0, 0.01, None, [0.9, 0.9]),
}
Flags = list[bool]
CHANGES: dict[str, tuple[list[float | None], Flags, Flags]] = {  # per class: change, impacted, after FDR
    "dense": ([0.0] * 4, [False] * 4, [False] * 4),
    "magnitude_50": ([-0.25, 0.0, 0.125, -0.5], [True, False, False, True], [False, False, False, True]),
    "int8_static": ([0.0, 0.0625, None, 0.0], [False] * 4, [False] * 4),
}
CONFUSION_CHANGES = [  # config, true, predicted, change
    ("magnitude_50", 0, 1, 0.25),
    ("magnitude_50", 3, 2, 0.5),
    ("magnitude_50", 1, 0, 0.125),
    ("magnitude_50", 2, 3, 0.0625),
    ("int8_static", 0, 3, 0.0625),
    ("int8_static", 1, 2, -0.01),
]


# magnitude_50's 2 impacted classes: 1 survives every leave-one-out resample, 1 does not.
CERTAINTY = {
    "magnitude_50": {"impacted_stable_classes": 1, "impacted_fragile_classes": 1}
    | {"detectable_change_median": 0.025, "detectable_change_worst": 0.074}
    | {"members_needed_median": 31, "members_needed_worst": 213},
}
TRAITS = {
    "magnitude_50": {"label_issue_rate_pies": 0.4, "label_issue_rate_rest": 0.05}
    | {"label_issue_enrichment": 8.0, "enrichment_low": 3.5, "enrichment_high": 16.0}
    | {"agreement_pies": 0.6, "agreement_rest": 0.97, "margin_pies": 0.2, "margin_rest": 0.9}
    | {"atypicality_pies": 2.5, "atypicality_rest": 1.1, "entropy_pies": 0.9, "entropy_rest": 0.1}
    | {"pie_jaccard_loo_mean": 0.75, "pie_jaccard_loo_min": 0.5, "pies_stable": 2},
}


def _stats_summary() -> dict[str, Any]:
    configs = {
        name: dict(zip(STATS_COLUMNS, values, strict=True))
        | {"members": 2, "seeds": [0, 1], "top5": 1.0, "top5_std": 0.0, "tested_classes": 4, "ece": 0.02}
        | {"churn_std": 0.01}
        | {"impacted_hurt_classes": values[5], "churn_noise_floor": FLOORS["churn"]}
        | CERTAINTY.get(name, {})
        for name, values in STATS.items()
    }
    floor = {"churn": FLOORS["churn"], "churn_std": 0.0, "pairs": 1}
    summary = {"alpha": 0.05, "fdr": 0.05, "confidence": 0.95, "members": 2, "noise_floor": floor}
    return summary | {"power": 0.8, "detect_change": 0.01, "configs": configs}


def _class_rows(name: str) -> list[dict[str, Any]]:
    change, impacted, fdr = CHANGES[name]
    return [
        {"config": name, "class": c, "class_name": CLASSES[c], "examples": 16, "dense_recall": 0.75}
        | {"compressed_recall": None, "change": change[c], "change_low": None, "change_high": None}
        | {"normalized_change": change[c], "t": 0.0, "p": 0.01 if impacted[c] else 0.5}
        | {"q": 0.02 if fdr[c] else 0.5, "impacted": impacted[c], "impacted_fdr": fdr[c]}
        | {"detectable_change": 0.0625, "impacted_frequency": 0.5 if impacted[c] and not fdr[c] else 1.0}
        | dict.fromkeys(("dense_confidence", "compressed_confidence", "dense_ece", "compressed_ece"), 0.5)
        for c in range(4)
    ]


def _stats(folder: Path) -> None:
    diffs = {"dense": np.zeros((4, 4)), "magnitude_50": np.diag([-0.25, 0.0, 0.125, -0.5])}
    diffs["magnitude_50"][0, 1] = 0.25
    diffs["int8_static"] = 0.0625 * np.eye(4)[::-1]  # the anti-diagonal
    changes = [
        {"config": n, "true": t, "true_name": CLASSES[t], "predicted": p, "predicted_name": CLASSES[p]}
        | {"dense_rate": 0.125, "compressed_rate": 0.125 + d, "change": d}
        for n, t, p, d in CONFUSION_CHANGES
    ]
    outputs = stats_io.StatsOutputs(
        summary=_stats_summary(),
        per_class={name: _class_rows(name) for name in CHANGES},
        confusion={name: (np.eye(4) / 4 + diff, diff) for name, diff in diffs.items()},
        churn=[],  # not read by the report
        confusion_changes=changes,
        subgroups=None,
    )
    stats_io.write_stats(folder, outputs)


def _pie(folder: Path) -> None:
    keys = ("pies", "pie_fraction", "dense_top1_pie", "compressed_top1_pie")
    configs = {
        "magnitude_50": dict(zip(keys, (3, 0.046875, 0.5, 0.25), strict=True)) | TRAITS["magnitude_50"],
        "int8_static": dict(zip(keys, (0, 0.0, None, None), strict=True)),
    }
    columns = pie_io.OVERLAP_COLUMNS
    pairs = [
        ("magnitude_50", "magnitude_50", 3, 3, 3, 1.0),
        ("magnitude_50", "int8_static", 3, 0, 0, 0.0),
        ("int8_static", "magnitude_50", 0, 3, 0, 0.0),
        ("int8_static", "int8_static", 0, 0, 0, None),
    ]
    summary = {"members": 2, "dense_ties": 0, "configs": configs}
    pie_io.write_study(folder, summary, [], [dict(zip(columns, p, strict=True)) for p in pairs])
    # The PIE rows are not read by the report: an empty table beside the two gallery pages.
    pie_io.write_config(folder, "magnitude_50", [], [_image(10), _image(20)])


SALIENCY = {"magnitude_50": (0.0625, False), "int8_static": (0.25, True)}  # MAD, straight-through
NOTES = {False: "exact gradients", True: "straight-through <estimator> & fake quantization"}


def write_saliency(root: Path, config: str, like: str) -> None:
    """saliency@config's summary and examples image, with the numbers of ``like``."""
    mad, straight = SALIENCY[like]
    floor = {"pairs": 1, "mad": FLOORS["mad"], "signed": 0.0, "spearman": 0.5, "top_overlap": 0.4}
    summary = {"config": config, "method": "gradient", "sample_size": 8, "members": 2}
    summary |= {"straight_through": straight, "note": NOTES[straight], "mad": mad, "signed": 0.0}
    summary |= {"spearman": 0.75, "top_overlap": 0.5, "per_seed": [], "noise_floor": floor}
    folder = SaliencyFolder(root)
    write_json(folder.summary(config), summary | {"mad_over_floor": mad / FLOORS["mad"]})
    _png(folder.examples(config), 30)


# corruption -> (top1, dense_top1) at severities 1 and 5; then clean (top1, dense_top1)
Curves = dict[str, tuple[list[float | None], list[float]]]
ROBUSTNESS: dict[str, tuple[Curves, tuple[float, float]]] = {
    "magnitude_50": (
        {"gaussian_noise": ([0.75, 0.5], [0.875, 0.625]), "rotate": ([0.625, 0.25], [0.75, 0.5])},
        (0.875, 0.9375),
    ),
    "int8_static": (
        {"gaussian_noise": ([0.875, 0.625], [0.875, 0.625]), "rotate": ([0.75, None], [0.75, 0.5])},
        (0.9375, 0.9375),
    ),
}
FAMILY = {"gaussian_noise": "noise", "rotate": "geometric"}


def write_robustness(root: Path, config: str, like: str) -> None:
    """robustness's folder of ``config`` (summary only; its view and class rows are not read), with the
    numbers of ``like``."""
    per, (clean, dense_clean) = ROBUSTNESS[like]
    per_corruption = {
        c: {"family": FAMILY[c], "ce": 1.5, "relative_ce": 1.0, "severities": [1, 5], "top1": top1}
        | {"dense_top1": dense, "pie_rate": [0.0, 0.0], "churn": [0.0, 0.0]}
        for c, (top1, dense) in per.items()
    }
    summary: dict[str, Any] = {"config": config, "members": 2, "sample_size": 16, "severities": [1, 5]}
    summary |= {"corruptions": list(per), "mce": 1.25, "relative_mce": 1.0, "mean_top1": 0.5}
    summary |= {"dense_mean_top1": 0.6, "mean_pie_rate": 0.0625, "hurt_most": [{"corruption": "rotate"}]}
    summary["clean"] = {"top1": clean, "dense_top1": dense_clean, "pie_rate": 0.0, "churn": 0.0}
    robustness_io.write_config(root, config, summary | {"per_corruption": per_corruption}, [], [])


CKA = {"magnitude_50": (0.9375, 0.75), "int8_static": (0.99, 0.96)}  # per layer; last-layer floor 0.875


def write_representations(root: Path, config: str, like: str) -> None:
    """representations@config's summary and activation-maximization image, with the numbers of ``like``."""
    floors = (0.96875, FLOORS["cka"])
    layers = [
        {"layer": layer, "units": 8, "linear_cka": cka, "debiased_cka": cka, "svcca": cka}
        | {"svcca_dims_dense": 3.0, "svcca_dims_compressed": 3.0, "floor_linear_cka": floor}
        | {"floor_debiased_cka": floor, "floor_svcca": floor}
        for layer, cka, floor in zip(("conv1", "fc"), CKA[like], floors, strict=True)
    ]
    summary = {"config": config, "sample_size": 16, "members": 2, "flatten": "per example: C x H x W"}
    summary |= {"layers": layers, "cka_last": CKA[like][-1], "activation_max": None}
    folder = RepresentationsFolder(root)
    write_json(folder.summary(config), summary)
    _png(folder.activation_max(config), 40)


# ------------------------------------------------------------------------------------------------ HTML

VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)


class StrictHTML(HTMLParser):
    """Records problems (an unclosed, stray or mismatched tag), every <img src> and the cells of every
    table as (classes, text) per row."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.images: list[str] = []
        self.tables: list[list[list[tuple[str, str]]]] = []
        self._cell: list[Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "img":
            self.images.append(attr.get("src") or "")
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = [attr.get("class") or "", ""]
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID:
            self.problems.append(f"self-closed <{tag}/>")
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            self.problems.append(f"end tag of void element </{tag}>")
        elif not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1] if self.stack else 'nothing'}>")
        else:
            self.stack.pop()
        if tag in ("td", "th") and self._cell is not None and self.tables and self.tables[-1]:
            self.tables[-1][-1].append((self._cell[0], self._cell[1].strip()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell[1] += data

    def close(self) -> None:
        super().close()
        if self.stack:
            self.problems.append(f"unclosed: {self.stack}")


def parse_html(text: str) -> StrictHTML:
    parser = StrictHTML()
    parser.feed(text)
    parser.close()
    return parser
