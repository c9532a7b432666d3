from __future__ import annotations

import pytest

from pipeline.data import DATASET_NAMES
from pipeline.data.registry import DATASETS, get_loader


def test_registry_holds_exactly_the_names_params_validate_against() -> None:
    assert tuple(DATASETS) == DATASET_NAMES


def test_unknown_dataset_lists_the_valid_names() -> None:
    assert get_loader("synthetic") is DATASETS["synthetic"]
    with pytest.raises(KeyError, match="allowed: celeba, cifar10, fashion_mnist"):
        get_loader("mnist")
