"""Shared by the report tests: a tiny fake study written in the formats of the real stage outputs, and a
strict HTML checker.

The study is the conftest's tiny params (dense, magnitude_50, int8_static; 2 seeds) with 4 classes, 2
corruptions (one noise, one geometric) at severities 1 and 5, and 2 layers.  Numbers are binary fractions
so the plot tables can be compared as text.  Hand-made cases: magnitude_50 is beyond its floor in churn
and last-layer CKA, int8_static in saliency MAD; int8_static has nulls (top1_std, its interval, ECE
change, one robustness value) and no PIEs; dense has no saliency, robustness or representations folder.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from PIL import Image

from pipeline.config import to_dict

from ..conftest import tiny_params

CONFIGS = ("dense", "magnitude_50", "int8_static")
CLASSES = ("circle", "square", "triangle", "cross")
PER_CONFIG = ("predict", "saliency", "robustness", "representations")  # one folder per config: <config>.d
FLOORS = {"churn": 0.05, "mad": 0.125, "cka": 0.875}


def write_params(path: Path) -> Path:
    path.write_text(yaml.safe_dump(to_dict(tiny_params()), sort_keys=False))
    return path


def argv(root: Path, out: Path) -> list[str]:
    """The stage's command line: inputs under ``root``, outputs under ``out``."""
    args = ["--params", str(root / "params.yaml")]
    args += ["--stats", str(root / "stats"), "--pie", str(root / "pie")]
    args += [arg for name in PER_CONFIG for arg in (f"--{name}", str(root / name / "{config}.d"))]
    args += ["--metrics", str(out / "metrics.json"), "--html", str(out / "index.html")]
    return [*args, "--figures", str(out / "figures"), "--plots", str(out / "plots")]


def write_study(root: Path) -> Path:
    """Every input of the report stage under ``root`` (and its params.yaml); returns ``root``."""
    write_params(root / "params.yaml")
    _predict(root / "predict")
    _stats(root / "stats")
    _pie(root / "pie")
    for name in CONFIGS[1:]:
        _saliency(root / "saliency" / f"{name}.d", name)
        _robustness(root / "robustness" / f"{name}.d", name)
        _representations(root / "representations" / f"{name}.d", name)
    return root


def _json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))


def _csv(path: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows([{k: "" if v is None else v for k, v in row.items()} for row in rows])


def _png(path: Path, shade: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("L", (8, 8), shade).save(path)


def _predict(folder: Path) -> None:
    sizes = {"dense": (1.0, 1.0, 0.0), "magnitude_50": (0.5, 0.75, 0.5), "int8_static": (0.25, 0.25, 0.0)}
    for name, (a, b, sparsity) in sizes.items():
        members = [
            {"seed": seed, "top1": 0.9, "size_ratio": size, "sparsity": sparsity}
            for seed, size in ((0, a), (1, b))
        ]
        _json(folder / f"{name}.d" / "summary.json", {"config": name, "members": members, "views": []})


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


def _stats(folder: Path) -> None:
    configs = {
        name: dict(zip(STATS_COLUMNS, values, strict=True))
        | {"members": 2, "seeds": [0, 1], "top5": 1.0, "tested_classes": 4, "ece": 0.02}
        | {"impacted_hurt_classes": values[5], "churn_noise_floor": FLOORS["churn"]}
        for name, values in STATS.items()
    }
    floor = {"churn": FLOORS["churn"], "churn_std": 0.0, "pairs": 1}
    summary = {"alpha": 0.05, "fdr": 0.05, "confidence": 0.95, "members": 2, "noise_floor": floor}
    _json(folder / "summary.json", summary | {"configs": configs})
    for name, (change, impacted, fdr) in CHANGES.items():
        rows = [
            {"config": name, "class": c, "class_name": CLASSES[c], "examples": 16, "dense_recall": 0.75}
            | {"compressed_recall": None, "change": change[c], "change_low": None, "change_high": None}
            | {"normalized_change": change[c], "t": 0.0, "p": 0.01 if impacted[c] else 0.5}
            | {"q": 0.02 if fdr[c] else 0.5, "impacted": impacted[c], "impacted_fdr": fdr[c]}
            for c in range(4)
        ]
        _csv(folder / "per_class" / f"{name}.csv", rows)
    diffs = {"dense": np.zeros((4, 4)), "magnitude_50": np.diag([-0.25, 0.0, 0.125, -0.5])}
    diffs["magnitude_50"][0, 1] = 0.25
    diffs["int8_static"] = 0.0625 * np.eye(4)[::-1]  # the anti-diagonal
    for name, diff in diffs.items():
        (folder / "confusion" / "diff").mkdir(parents=True, exist_ok=True)
        np.save(folder / "confusion" / "diff" / f"{name}.npy", diff)
    rows = [
        {"config": n, "true": t, "true_name": CLASSES[t], "predicted": p, "predicted_name": CLASSES[p]}
        | {"dense_rate": 0.125, "compressed_rate": 0.125 + d, "change": d}
        for n, t, p, d in CONFUSION_CHANGES
    ]
    _csv(folder / "confusion_changes.csv", rows)


def _pie(folder: Path) -> None:
    keys = ("pies", "pie_fraction", "dense_top1_pie", "compressed_top1_pie")
    configs = {
        "magnitude_50": dict(zip(keys, (3, 0.046875, 0.5, 0.25), strict=True)),
        "int8_static": dict(zip(keys, (0, 0.0, None, None), strict=True)),
    }
    _json(folder / "summary.json", {"members": 2, "dense_ties": 0, "configs": configs})
    columns = ("config_a", "config_b", "pies_a", "pies_b", "intersection", "jaccard")
    pairs = [
        ("magnitude_50", "magnitude_50", 3, 3, 3, 1.0),
        ("magnitude_50", "int8_static", 3, 0, 0, 0.0),
        ("int8_static", "magnitude_50", 0, 3, 0, 0.0),
        ("int8_static", "int8_static", 0, 0, 0, None),
    ]
    _csv(folder / "overlap.csv", [dict(zip(columns, p, strict=True)) for p in pairs])
    _csv(folder / "magnitude_50" / "pies.csv", [{"example_id": i, "label": 0} for i in range(3)])
    _png(folder / "magnitude_50" / "gallery_001.png", 10)
    _png(folder / "magnitude_50" / "gallery_002.png", 20)


SALIENCY = {"magnitude_50": (0.0625, False), "int8_static": (0.25, True)}  # MAD, straight-through
NOTES = {False: "exact gradients", True: "straight-through <estimator> & fake quantization"}


def _saliency(folder: Path, name: str) -> None:
    mad, straight = SALIENCY[name]
    floor = {"pairs": 1, "mad": FLOORS["mad"], "signed": 0.0, "spearman": 0.5, "top_overlap": 0.4}
    summary = {"config": name, "method": "gradient", "sample_size": 8, "members": 2}
    summary |= {"straight_through": straight, "note": NOTES[straight], "mad": mad, "signed": 0.0}
    summary |= {"spearman": 0.75, "top_overlap": 0.5, "per_seed": [], "noise_floor": floor}
    _json(folder / "summary.json", summary | {"mad_over_floor": mad / FLOORS["mad"]})
    _png(folder / "examples.png", 30)


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


def _robustness(folder: Path, name: str) -> None:
    per, (clean, dense_clean) = ROBUSTNESS[name]
    per_corruption = {
        c: {"family": FAMILY[c], "ce": 1.5, "relative_ce": 1.0, "severities": [1, 5], "top1": top1}
        | {"dense_top1": dense, "pie_rate": [0.0, 0.0], "churn": [0.0, 0.0]}
        for c, (top1, dense) in per.items()
    }
    summary: dict[str, Any] = {"config": name, "members": 2, "sample_size": 16, "severities": [1, 5]}
    summary |= {"corruptions": list(per), "mce": 1.25, "relative_mce": 1.0, "mean_top1": 0.5}
    summary |= {"dense_mean_top1": 0.6, "mean_pie_rate": 0.0625, "hurt_most": [{"corruption": "rotate"}]}
    summary["clean"] = {"top1": clean, "dense_top1": dense_clean, "pie_rate": 0.0, "churn": 0.0}
    _json(folder / "summary.json", summary | {"per_corruption": per_corruption})


CKA = {"magnitude_50": (0.9375, 0.75), "int8_static": (0.99, 0.96)}  # per layer; last-layer floor 0.875


def _representations(folder: Path, name: str) -> None:
    floors = (0.96875, FLOORS["cka"])
    layers = [
        {"layer": layer, "units": 8, "linear_cka": cka, "debiased_cka": cka, "svcca": cka}
        | {"svcca_dims_dense": 3.0, "svcca_dims_compressed": 3.0, "floor_linear_cka": floor}
        | {"floor_debiased_cka": floor, "floor_svcca": floor}
        for layer, cka, floor in zip(("conv1", "fc"), CKA[name], floors, strict=True)
    ]
    summary = {"config": name, "sample_size": 16, "members": 2, "flatten": "per example: C x H x W"}
    summary |= {"layers": layers, "cka_last": CKA[name][-1], "activation_max": None}
    _json(folder / "summary.json", summary)
    _png(folder / "activation_max.png", 40)


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
