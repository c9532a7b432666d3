"""A config's representations summary and the noise floor's means, from per-layer rows."""

from __future__ import annotations

import math

import pytest

from pipeline.representations.summary import FLATTEN, build_summary, config_line, floor_means, mean_of


def row(seed: int, layer: str, cka: float) -> dict[str, object]:
    return {"seed": seed, "layer": layer, "units": 8, "linear_cka": cka, "debiased_cka": cka, "svcca": cka}


def test_mean_of_is_none_for_no_rows_or_a_nan() -> None:
    assert mean_of([row(0, "a", 0.5), row(1, "a", 1.0)], "svcca") == 0.75
    assert mean_of([], "svcca") is None
    assert mean_of([row(0, "a", math.nan), row(1, "a", 1.0)], "svcca") is None


def test_floor_means_per_layer_in_order_none_without_pairs() -> None:
    floor = [{"seed_a": 0, "seed_b": 1} | row(0, "b", 0.4), {"seed_a": 0, "seed_b": 1} | row(0, "a", 0.8)]
    means = floor_means(["a", "b", "logits"], floor)
    assert list(means) == ["a", "b", "logits"]
    assert means["a"] == {"floor_linear_cka": 0.8, "floor_debiased_cka": 0.8, "floor_svcca": 0.8}
    assert means["logits"] == dict.fromkeys(("floor_linear_cka", "floor_debiased_cka", "floor_svcca"))


def test_summary_means_over_seeds_with_the_floor_beside() -> None:
    dims = {"svcca_dims_dense": 3, "svcca_dims_compressed": 2}
    rows = [row(s, layer, c) | dims for s, c in ((0, 0.6), (1, 0.8)) for layer in ("a", "logits")]
    floor = floor_means(["a", "logits"], [{"seed_a": 0, "seed_b": 1} | row(0, "logits", 0.9)])
    summary = build_summary("fp16", 48, rows, floor, None)
    assert (summary["members"], summary["flatten"], summary["activation_max"]) == (2, FLATTEN, None)
    last = summary["layers"][-1]
    assert last["linear_cka"] == pytest.approx(0.7) and last["svcca_dims_dense"] == 3.0
    assert last["floor_linear_cka"] == 0.9 and summary["cka_last"] == last["linear_cka"]
    assert (
        config_line("fp16", summary)
        == "fp16: 2 seeds, 48 images, logits linear CKA 0.7000 (dense floor 0.9000)"
    )
