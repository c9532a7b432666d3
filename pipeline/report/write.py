"""The report's files: figures drawn from the inputs, the stages' own images copied beside them, the plot
tables, the page, results.json and the per-config metrics files, written through the report's layout
owner (pipeline/io/report.py).
The figures and plots folders are each built in a scratch folder and swapped in whole (see
pipeline/io/folders.py); the page and the numbers follow only once both are complete.

Figure keys (what :mod:`pipeline.report.page` looks up): accuracy, per_class, confusion, pie_overlap,
robustness, cka, and per compressed config ``gallery:<config>``, ``saliency:<config>``,
``activation_max:<config>``.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.io import report as layout
from pipeline.io.folders import replaced_folder
from pipeline.numbers import finite
from pipeline.report import metrics, page, plots
from pipeline.report.load import CONTROL, DENSE, Inputs, member_mean


def write_report(out: layout.ReportFolder, inputs: Inputs, results: Mapping[str, Mapping[str, Any]]) -> int:
    """Every output of the report into ``out`` (``results``: config -> every number, rounded); returns the
    number of images in the figures folder. A failure leaves the previous outputs as they were."""
    with replaced_folder(out.figures()) as figures, replaced_folder(out.plots()) as tables:
        images = write_figures(inputs, figures)
        write_plots(inputs, tables)
        html = page.render(inputs, {key: layout.figure_src(name) for key, name in images.items()})
    layout.write_page(out, html)
    layout.write_results(out, results)
    layout.write_metrics(out, metrics.headline(results))
    return len(images)


def write_figures(inputs: Inputs, folder: Path) -> dict[str, str]:
    """Draw every figure and copy every image into ``folder``; return figure key -> file name."""
    from pipeline.report import figures

    study = inputs.study
    written: dict[str, str] = {}
    colours = figures.config_colours(study.configs)

    def save(key: str, fig: Any) -> None:
        written[key] = layout.figure_name(key)
        figures.save_png(fig, folder / written[key])

    save("accuracy", figures.accuracy_figure(points(inputs)))
    if study.compressed:
        change, impacted, fdr = per_class_arrays(inputs)
        limit = per_class_limit(change, [study.kinds[name] for name in study.compressed])
        save(
            "per_class",
            figures.per_class_figure(change, impacted, fdr, study.compressed, inputs.class_names, limit),
        )
        diffs = {name: inputs.confusion[name] for name in study.compressed}
        save("confusion", figures.confusion_figure(diffs, inputs.class_names))
        configs, jaccard = jaccard_matrix(inputs)
        if configs:
            save("pie_overlap", figures.overlap_figure(jaccard, configs))
        pies, rest = pie_traits(inputs)
        if pies:
            save("pie_traits", figures.pie_traits_figure(study.compressed, pies, rest))
    severities, curves = robustness_curves(inputs)
    if curves:
        save("robustness", figures.robustness_figure(severities, curves, colours))
    layers, cka, floor = cka_curves(inputs)
    if cka:
        save("cka", figures.cka_figure(layers, cka, floor, colours))
    written |= copy_images(inputs, folder)
    return written


def copy_images(inputs: Inputs, folder: Path) -> dict[str, str]:
    """The first gallery page, the saliency examples and the activation-maximization images of each
    compressed config, copied (the page refers to nothing outside the figures folder)."""
    sources: dict[str, Path | None] = {}
    for name in inputs.study.compressed:
        pages = inputs.galleries.get(name) or []
        sources[f"gallery:{name}"] = pages[0] if pages else None
        sources[f"saliency:{name}"] = inputs.saliency_images.get(name)
        sources[f"activation_max:{name}"] = inputs.activation_images.get(name)
    copied = {}
    for key, source in sources.items():
        if source is not None:
            target = layout.figure_name(key)
            shutil.copyfile(source, folder / target)
            copied[key] = target
    return copied


def write_plots(inputs: Inputs, folder: Path) -> None:
    """The compression, robustness (dense included) and CKA tables into ``folder``."""
    layout.write_compression(folder, plots.compression_rows(inputs))
    layout.write_robustness(folder, plots.all_robustness_rows(inputs))
    layout.write_cka(folder, plots.all_cka_rows(inputs))


# ------------------------------------------------------------------------------------ figure data


def points(inputs: Inputs) -> list[Any]:
    """Each config on the compression axis, from its predict summary (size) and stats (top-1)."""
    from pipeline.report.figures import Point

    out = []
    for name in inputs.study.configs:
        stats = inputs.stats_of(name)
        pie = inputs.pie_of(name) or {}
        out.append(
            Point(
                config=name,
                kind=inputs.study.kinds[name],
                size_ratio=member_mean(inputs.predict[name]["members"], "size_ratio"),
                top1=finite(stats.get("top1")),
                top1_low=finite(stats.get("top1_low")),
                top1_high=finite(stats.get("top1_high")),
                members=[finite(v) for v in stats.get("top1_members") or []],
                pie_fraction=0.0 if name == DENSE else finite(pie.get("pie_fraction")),
            )
        )
    return out


def per_class_arrays(inputs: Inputs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(change, impacted, impacted_fdr), each (compressed configs, classes), classes in the dense order."""
    column = {row["class"]: i for i, row in enumerate(inputs.per_class[DENSE])}
    shape = (len(inputs.study.compressed), len(column))
    change = np.full(shape, np.nan)
    impacted = np.zeros(shape, dtype=bool)
    fdr = np.zeros(shape, dtype=bool)
    for r, name in enumerate(inputs.study.compressed):
        for row in inputs.per_class[name]:
            c = column[row["class"]]
            value = finite(row.get("change"))
            change[r, c] = np.nan if value is None else value
            impacted[r, c] = row.get("impacted") is True
            fdr[r, c] = row.get("impacted_fdr") is True
    return change, impacted, fdr


# The traits the "what are PIEs?" figure shows: label -> the pie summary's key stem.
TRAITS = {
    "label issues (share)": "label_issue_rate",
    "dense vote agreement": "agreement",
    "atypicality (1: typical)": "atypicality",
}


def pie_traits(inputs: Inputs) -> tuple[dict[str, list[float | None]], dict[str, list[float | None]]]:
    """Trait label -> per compressed config, its mean over the PIEs and over the rest; empty when the pie
    summaries carry no traits (a study from before them)."""
    summaries = [inputs.pie_of(name) or {} for name in inputs.study.compressed]
    if not any("agreement_rest" in s for s in summaries):
        return {}, {}
    pies = {label: [finite(s.get(f"{key}_pies")) for s in summaries] for label, key in TRAITS.items()}
    rest = {label: [finite(s.get(f"{key}_rest")) for s in summaries] for label, key in TRAITS.items()}
    return pies, rest


def per_class_limit(change: np.ndarray, kinds: Sequence[str]) -> float | None:
    """The colour limit of the per-class heatmap: the largest |change| of the configs other than the random
    control, whose far larger losses would otherwise wash out every other row; None (the overall largest)
    when there is no other config with a change."""
    others = change[[kind != CONTROL for kind in kinds]]
    known = np.abs(others[np.isfinite(others)])
    return float(known.max()) if known.size and known.max() > 0 else None


def jaccard_matrix(inputs: Inputs) -> tuple[list[str], np.ndarray]:
    """The compressed configs found in overlap.csv, in the study's order, and their Jaccard matrix."""
    found = {row["config_a"] for row in inputs.pie_overlap}
    configs = [name for name in inputs.study.compressed if name in found]
    index = {name: i for i, name in enumerate(configs)}
    matrix = np.full((len(configs), len(configs)), np.nan)
    for row in inputs.pie_overlap:
        if row["config_a"] in index and row["config_b"] in index:
            value = finite(row.get("jaccard"))
            matrix[index[row["config_a"]], index[row["config_b"]]] = np.nan if value is None else value
    return configs, matrix


def robustness_curves(inputs: Inputs) -> tuple[list[int], dict[str, dict[str, list[float | None]]]]:
    """Severities (0 = clean) and config -> corruption -> top-1; dense from the dense_top1 entries."""
    dense = inputs.dense_robustness()
    if dense is None:
        return [], {}
    severities = plots.severities_of(dense)
    curves = {DENSE: _aligned(dense, "dense_top1", severities)}
    for name in inputs.study.compressed:
        summary = inputs.robustness.get(name)
        if summary is not None:
            curves[name] = _aligned(summary, "top1", severities)
    return severities, curves


def _aligned(
    summary: Mapping[str, Any], key: str, severities: Sequence[int]
) -> dict[str, list[float | None]]:
    own = plots.severities_of(summary)
    return {
        corruption: [dict(zip(own, values, strict=True)).get(s) for s in severities]
        for corruption, values in plots.curves(summary, key).items()
    }


def cka_curves(inputs: Inputs) -> tuple[list[str], dict[str, list[float | None]], list[float | None]]:
    """Layer names, config -> linear CKA per layer, and the dense-vs-dense floor per layer."""
    summaries = {n: inputs.representations.get(n) for n in inputs.study.compressed}
    present = {n: s for n, s in summaries.items() if s is not None and s.get("layers")}
    if not present:
        return [], {}, []
    first = next(iter(present.values()))["layers"]
    layers = [str(layer["layer"]) for layer in first]
    floor = [finite(layer.get("floor_linear_cka")) for layer in first]
    cka = {}
    for name, summary in present.items():
        by_layer = {layer["layer"]: finite(layer.get("linear_cka")) for layer in summary["layers"]}
        cka[name] = [by_layer.get(layer) for layer in layers]
    return layers, cka, floor
