from __future__ import annotations

import pytest

from pipeline.stages.report import (
    BEYOND_KEYS,
    STATS_KEYS,
    beyond_accuracy,
    build_parser,
    config_metrics,
    size_metrics,
)

BEYOND_INPUTS = ("mce", "relative_mce", "mean_top1", "mean_pie_rate")


def test_size_metrics_are_member_means() -> None:
    m = size_metrics([{"size_ratio": 0.2, "sparsity": 0.9}, {"size_ratio": 0.3, "sparsity": 0.8}])
    assert m["size_ratio"] == pytest.approx(0.25) and m["compression_ratio"] == pytest.approx(4.0)
    assert m["sparsity"] == pytest.approx(0.85)


def test_config_metrics_merge_stats_pie_and_size() -> None:
    stats = {key: float(i) for i, key in enumerate(STATS_KEYS)}
    predict = {"members": [{"size_ratio": 0.5, "sparsity": 0.0}]}
    m = config_metrics(predict, stats, {"pie_fraction": 0.03})
    assert m["pie_fraction"] == 0.03 and m["top1_drop"] == stats["top1_drop"] and m["size_ratio"] == 0.5
    assert list(m)[: len(STATS_KEYS)] == list(STATS_KEYS)


def test_dense_has_no_pies() -> None:
    stats = {key: 0.0 for key in STATS_KEYS}
    assert (
        config_metrics({"members": [{"size_ratio": 1.0, "sparsity": 0.0}]}, stats, None)["pie_fraction"]
        == 0.0
    )


def test_beyond_accuracy_takes_each_number_and_its_reference() -> None:
    saliency = {"mad": 0.06, "noise_floor": {"mad": 0.14}}
    robustness = {"mce": 1.02, "relative_mce": 0.97, "mean_top1": 0.7, "mean_pie_rate": 0.02}
    representations = {"cka_last": 0.98, "layers": [{"floor_linear_cka": 0.5}, {"floor_linear_cka": 0.9}]}
    m = beyond_accuracy(saliency, robustness, representations)
    assert m == {
        "saliency_mad": 0.06,
        "saliency_mad_floor": 0.14,
        "mce": 1.02,
        "relative_mce": 0.97,
        "corrupted_top1": 0.7,
        "corrupted_pie_rate": 0.02,
        "cka_last": 0.98,
        "cka_last_floor": 0.9,
    }


def test_beyond_keys_are_the_keys_beyond_accuracy_adds() -> None:
    saliency = {"mad": 0.0, "noise_floor": {"mad": 0.0}}
    m = beyond_accuracy(saliency, dict.fromkeys(BEYOND_INPUTS), {"layers": [], "cka_last": 1.0})
    assert tuple(m) == BEYOND_KEYS


def test_cli_takes_the_stage_folders_and_the_four_outputs() -> None:
    folders = ["--stats", "data/stats", "--pie", "data/pie"]
    folders += [
        a
        for n in ("predict", "saliency", "robustness", "representations")
        for a in (f"--{n}", f"data/{n}/{{config}}.d")
    ]
    outputs = ["--metrics", "m.json", "--html", "i.html", "--figures", "f", "--plots", "p"]
    args = build_parser().parse_args(folders + outputs)
    assert (args.predict, args.figures, args.params) == ("data/predict/{config}.d", "f", "params.yaml")
    with pytest.raises(SystemExit):  # every stage's folder is required
        build_parser().parse_args(folders[2:] + outputs)
