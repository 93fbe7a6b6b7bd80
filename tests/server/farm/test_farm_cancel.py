"""Cancel reaches every replica working on the job: each stops its image, none finishes one."""

from __future__ import annotations

import pytest

from app.remote.client import RemoteClient
from tests.server.farm.conftest import TOKEN, request

pytestmark = pytest.mark.farm

SEED, STEPS = 5200, 200  # long images, so the cancel lands mid-image on both replicas


def test_cancel_stops_the_images_on_every_replica(farm):
    """Once both replicas are mid-image, a cancel ends the job as cancelled and both replicas log the stop."""
    client = RemoteClient(farm.url, TOKEN)
    job = client.submit(request(SEED, STEPS))
    working: set[int] = set()
    events = []
    for event in client.events(job, should_cancel=lambda: len(working) >= 2):
        events.append(event)
        if event["type"] == "progress" and event["step"] >= 1:
            working.add(event["image_index"])
    assert events[-1]["type"] == "cancelled"
    assert client.status(job)["images"] == 0
    seeds = range(SEED, SEED + 4)
    started = farm.replicas("started", seeds)
    assert len(set(started.values())) == 2, "both replicas were working on the job"
    farm.wait_for_log(*(f"cancelled seed {seed}" for seed in started))
    assert farm.replicas("cancelled", seeds) == started
    assert farm.replicas("finished", seeds) == {}
