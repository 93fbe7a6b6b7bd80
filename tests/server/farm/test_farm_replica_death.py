"""A replica that dies mid-image: the image is rendered again on another replica, the job finishes with a warning."""

from __future__ import annotations

import numpy as np
import pytest
import ray

from app.core.remote_api import EventType
from app.remote.client import RemoteClient
from tests.server.farm.conftest import FP32, TOKEN, pixels, request

pytestmark = pytest.mark.farm

SEED, STEPS = 6300, 40


def _kill_replica(name: str) -> None:
    """Kill a renderer replica's actor the way a crash or a lost node would (Serve starts a new one)."""
    for actor in ray.util.list_named_actors(all_namespaces=True):
        if actor["name"].endswith(f"#renderer#{name}"):
            ray.kill(ray.get_actor(actor["name"], namespace=actor["namespace"]))
            return
    raise AssertionError(f"no renderer replica {name} among the named actors")


def test_a_replica_killed_mid_batch_and_the_batch_still_completes(farm):
    """Image 1's replica is killed at its step 2: four images still come, in order, pixel-equal to a local run."""
    import torch

    from app.engine.pipeline import Pipeline

    client = RemoteClient(farm.url, TOKEN)
    killed: list[str] = []

    def on_event(event) -> None:
        if not killed and event["type"] == "progress" and event["image_index"] == 0 and event["step"] >= 2:
            farm.wait_for_log(f"started seed {SEED}")
            killed.append(farm.replicas("started", range(SEED, SEED + 1))[SEED])
            _kill_replica(killed[0])

    final, images, message = client.run(request(SEED, STEPS), on_event=on_event)
    assert killed, "the test never saw image 1 running"
    assert final is EventType.FINISHED, message
    assert [image.metadata["request"]["seed"] for image in images] == [SEED + i for i in range(4)]
    warnings = images[0].metadata["warnings"]
    assert any(f"replica {killed[0]} stopped while rendering image 1" in w for w in warnings), warnings
    assert any("rendered again on another replica" in w for w in warnings)
    assert all(not image.metadata["warnings"] for image in images[1:])

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as on each replica: fp32 on a CPU is bit-exact at the same thread count
    pipeline = Pipeline.load("demo", options=FP32)
    try:
        local = pipeline.generate(request(SEED, STEPS))
    finally:
        pipeline.close()
        torch.set_num_threads(threads)
    for remote, expected in zip(images, local, strict=True):
        np.testing.assert_array_equal(pixels(remote.png), np.asarray(expected.image.convert("RGB")))
