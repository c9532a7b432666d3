from __future__ import annotations

import pytest

from pipeline.config import CompressionConfig, ConfigError, Params, QuantSpec
from pipeline.stages.compress import check_against_data, config_of


def test_calibration_larger_than_the_training_split_is_refused() -> None:
    cfg = CompressionConfig(quantize=QuantSpec(method="int8_static", calibration_size=600))
    with pytest.raises(
        ConfigError, match=r"compress\.configs\.q8\.quantize\.calibration_size: 600 is larger"
    ):
        check_against_data(cfg, "q8", 512)
    check_against_data(cfg, "q8", 600)


def test_unknown_config_name_lists_the_defined_ones() -> None:
    with pytest.raises(ConfigError, match="no config named 'nope'; defined: dense, magnitude_30"):
        config_of(Params(), "nope")
