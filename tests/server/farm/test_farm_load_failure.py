"""A model that cannot load on the replicas: the farm reports why after a bounded number of tries."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.core.errors import ModelLoadError
from app.core.resources import demo_model_dir
from app.server.catalog import ServerCatalog
from app.server.farm.launch import FarmPlan, deploy
from app.server.farm.scale import FarmScale
from app.server.limits import ServerSettings
from tests.server.farm.conftest import FP32, TOKEN

pytestmark = pytest.mark.farm


def test_a_model_that_does_not_load_fails_the_farm_with_its_reason(farm, tmp_path: Path):
    """Damaged weights: deploy raises ModelLoadError naming the file's problem, not a hang or endless restarts."""
    from ray import serve

    broken = tmp_path / "broken-model"
    shutil.copytree(demo_model_dir(), broken)
    for weights in (broken / "transformer").glob("*.safetensors"):
        weights.write_bytes(b"not safetensors")
    plan = FarmPlan(
        ServerCatalog.build([str(broken)]),
        "broken-model",
        FP32,
        ServerSettings(token=TOKEN),
        FarmScale(replicas=1),
        port=0,
        app_name="broken-farm",
        route_prefix="/broken",
    )
    try:
        with pytest.raises(ModelLoadError, match="the farm did not start: deployment renderer") as failure:
            deploy(plan)
        assert "transformer" in str(failure.value)
    finally:
        serve.delete("broken-farm")
