"""Scheduler names and addresses; a real LocalCluster runs a task on a single-threaded worker."""

from __future__ import annotations

import pytest

from pipeline.errors import ConfigError
from pipeline.scale.cluster import ClusterOptions, client, is_address


def test_addresses_are_told_from_names() -> None:
    assert is_address("tcp://10.0.0.1:8786") and is_address("10.0.0.1:8786")
    assert not is_address("local") and not is_address("slurm")


def test_an_unknown_scheduler_is_a_config_error() -> None:
    with (
        pytest.raises(ConfigError, match="'pbs' is neither local nor slurm nor an address"),
        client("pbs", ClusterOptions(1)),
    ):
        pass


def threads() -> int:
    from distributed import get_worker

    return int(get_worker().state.nthreads)


def test_a_local_cluster_of_single_threaded_workers() -> None:
    with client("local", ClusterOptions(2)) as c:
        assert len(c.scheduler_info()["workers"]) == 2
        assert c.submit(threads).result() == 1
