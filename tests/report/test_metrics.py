"""Each config's numbers (results.json), its headline (the metrics files) and the log lines
(pipeline/report/metrics.py)."""

from __future__ import annotations

import pytest

from pipeline.report.metrics import (
    BEYOND_KEYS,
    HEADLINE,
    HEADLINE_NAMES,
    STATS_KEYS,
    beyond_accuracy,
    config_metrics,
    headline,
    log_line,
    rounded,
    size_metrics,
    spread,
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
    predict = {"members": [{"size_ratio": 1.0, "sparsity": 0.0}]}
    assert config_metrics(predict, stats, None)["pie_fraction"] == 0.0


def test_beyond_accuracy_takes_each_number_and_its_reference() -> None:
    saliency = {"mad": 0.06, "noise_floor": {"mad": 0.14}, "per_seed": [{"mad": 0.05}, {"mad": 0.07}]}
    robustness = {"mce": 1.02, "relative_mce": 0.97, "mean_top1": 0.7, "mean_pie_rate": 0.02}
    representations = {"cka_last": 0.98, "layers": [{"floor_linear_cka": 0.5}, {"floor_linear_cka": 0.9}]}
    m = beyond_accuracy(saliency, robustness, representations)
    assert m == {
        "saliency_mad": 0.06,
        "saliency_mad_std": pytest.approx(0.0141421356),
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


def test_log_line_formats_counts_numbers_and_missing_values() -> None:
    entry = {"top1": 0.91234, "top1_drop": 0.0, "impacted_classes": 3, "impacted_classes_fdr": 1}
    entry |= {"pie_fraction": 0.015, "churn": 0.02, "size_ratio": 0.5}
    entry |= {"saliency_mad": None, "mce": float("nan"), "cka_last": 0.99}
    assert log_line("magnitude_50", entry) == (
        "magnitude_50               top-1 0.9123  drop 0.0000  impacted 3/1  PIEs 0.0150  churn 0.0200  "
        "size 0.5000  saliency MAD n/a  mCE n/a  CKA 0.9900"
    )


def test_spread_is_the_sample_standard_deviation_of_two_or_more() -> None:
    assert spread([0.05, None, 0.07]) == pytest.approx(0.0141421356)
    assert spread([0.05]) is None and spread([]) is None


def test_headline_keeps_the_headline_keys_in_order_and_leaves_out_missing_ones() -> None:
    # The three short headline names read their full results.json keys (HEADLINE_NAMES).
    full = [HEADLINE_NAMES.get(k, k) for k in HEADLINE]
    results = {"dense": dict.fromkeys(full, 0.5) | {"top1_std": 0.1, "mce": None}}
    assert headline(results) == {"dense": {k: 0.5 for k in HEADLINE if k != "mce"}}
    assert list(headline(results)["dense"]) == [k for k in HEADLINE if k != "mce"]


def test_headline_fits_dvc_metrics_show_in_170_columns() -> None:
    """DVC prints each column as wide as its name or values (five significant digits) plus 2 spaces, after
    the path column; the longest config name of the default study is magnitude_70+int8_static."""
    path = len("reports/metrics/magnitude_70+int8_static.json") + 2
    assert path + sum(max(len(key), len("0.12345")) + 2 for key in HEADLINE) <= 170


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.9126 - 0.9126 + 1.1102e-16, 0.0), (-3e-9, 0.0), (0.07521999999999995, 0.07522), (5, 5), (None, None)],
)
def test_numbers_are_rounded_so_that_noise_is_no_value(value: object, expected: object) -> None:
    out = rounded(value)
    assert out == expected and type(out) is type(expected)
    assert str(out) != "-0.0"
