"""`serve --ray` flags: checked before anything starts; without Ray installed, exit 2 naming the farm extra."""

from __future__ import annotations

import importlib.util

import pytest

from app.cli import main
from app.cli.serve_farm import MISSING_EXTRA
from app.core.errors import InvalidRequestError
from app.server.farm.scale import FarmScale


def test_ray_without_the_extra_exits_2_naming_it(monkeypatch, capsys):
    """With ray not importable, --ray stops before any model or port is touched and says what to install."""
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name.startswith("ray") else real(name))
    assert main(["serve", "--ray", "--models", "demo"]) == 2
    err = capsys.readouterr().err
    assert MISSING_EXTRA in err and ".[farm]" in err


@pytest.mark.parametrize("flags", [["--replicas", "2"], ["--autoscale", "1,2"], ["--address", "auto"]])
def test_farm_flags_without_ray_exit_2(flags, capsys):
    """Farm flags on a plain server are a mistake worth saying, not something to ignore."""
    assert main(["serve", *flags]) == 2
    assert "only work with --ray" in capsys.readouterr().err


@pytest.mark.parametrize("text", ["3,1", "1", "a,b", "0,0", "1,2,3"])
def test_autoscale_needs_a_range(text):
    """MIN,MAX with 0 ≤ MIN ≤ MAX and MAX ≥ 1."""
    with pytest.raises(InvalidRequestError, match="--autoscale"):
        FarmScale.parse_autoscale(text)


def test_one_replica_per_gpu_each_holding_one_gpu():
    """On a cluster with 4 GPUs the default is 4 replicas of 1 GPU each; without GPUs, 1 replica of N threads."""
    on_gpus = FarmScale().deployment_options(4.0)
    assert on_gpus == {"ray_actor_options": {"num_gpus": 1, "num_cpus": 1}, "num_replicas": 4}
    on_cpus = FarmScale(threads=3).deployment_options(0.0)
    assert on_cpus == {"ray_actor_options": {"num_gpus": 0, "num_cpus": 3}, "num_replicas": 1}


def test_autoscaling_keeps_one_image_per_replica_as_its_target():
    """--autoscale 0,8 starts one replica (to prove the model loads) and scales by waiting images."""
    config = FarmScale.parse_autoscale("0,8").deployment_options(8.0)["autoscaling_config"]
    assert (config["min_replicas"], config["initial_replicas"], config["max_replicas"]) == (0, 1, 8)
    assert config["target_ongoing_requests"] == 1
