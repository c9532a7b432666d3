import numpy as np
import pytest

from pipeline.errors import ConfigError
from pipeline.sampling import sample_indices


def test_sample_is_fixed_sorted_and_without_repeats() -> None:
    a = sample_indices(10_000, 64, seed=0)
    assert np.array_equal(a, sample_indices(10_000, 64, seed=0))
    assert a.size == 64 and np.all(np.diff(a) > 0) and a.dtype == np.int64
    assert not np.array_equal(a, sample_indices(10_000, 64, seed=1))


def test_zero_or_the_total_means_everything() -> None:
    assert sample_indices(10, 10, seed=0).tolist() == list(range(10))
    assert sample_indices(10, 0, seed=0).tolist() == list(range(10))


def test_more_than_the_total_is_a_config_error_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"^saliency\.sample_size: 64 is more than the 10 test images"):
        sample_indices(10, 64, seed=0, key="saliency.sample_size")


def test_negative_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="must be >= 0"):
        sample_indices(10, -1, seed=0)
