"""A model that cannot load on the replicas: the farm reports why after a bounded number of tries."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from app.core.errors import ModelLoadError
from app.core.remote_api import EventType
from app.remote.client import RemoteClient
from app.server.catalog import ServerCatalog
from app.server.farm.launch import FarmPlan, deploy
from app.server.farm.scale import FarmScale
from app.server.limits import ServerSettings
from tests.server.farm.conftest import FP32, TOKEN, broken_model, request

pytestmark = pytest.mark.farm


def test_a_model_that_does_not_load_fails_the_farm_with_its_reason(farm, tmp_path: Path):
    """Damaged weights: deploy raises ModelLoadError naming the file's problem, not a hang or endless restarts."""
    from ray import serve

    broken = broken_model(tmp_path)
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


def test_a_job_for_a_model_that_does_not_load_fails_with_its_reason_and_the_farm_goes_on(farm):
    """The replica reports the load error once (no retry on another replica); the next demo job renders."""
    client = RemoteClient(farm.url, TOKEN)
    final, images, message = client.run(replace(request(7100, 2, batch=1), model="broken-model"))
    assert final is EventType.FAILED and not images
    assert "transformer" in message and "Traceback" not in message and "ray::" not in message, message
    assert len(farm.replicas("failed", range(7100, 7101))) == 1
    final, images, message = client.run(request(7200, 2, batch=2))
    assert final is EventType.FINISHED and len(images) == 2, message
