"""The batch splitter against a stand-in handle (no Ray started): order, retry once, errors in the replica's words."""

from __future__ import annotations

import asyncio
import threading

import pytest
from PIL import Image
from ray.exceptions import ActorDiedError, RayTaskError

from app.core.errors import GenerationCancelledError, GenerationFailedError, ModelLoadError
from app.core.request import GenerationResult
from app.engine.progress import StepProgress
from app.server.farm.batch import BatchSplitter
from app.server.farm.events import ImageDone, ImageStep, ReplicaStarted
from tests.server.farm.conftest import FP32, request


class _Stream:
    """One renderer call: its events, a delay per event, and maybe a failure after them."""

    def __init__(self, events, delay: float, error: BaseException | None) -> None:
        self.events, self.delay, self.error, self.cancelled = events, delay, error, False

    def __aiter__(self):
        return self._run()

    async def _run(self):
        for event in self.events:
            await asyncio.sleep(self.delay)
            yield event
        if self.error is not None:
            raise self.error

    def cancel(self) -> None:
        self.cancelled = True


class _Handle:
    """Answers `render.remote` like a DeploymentHandle; `plan(seed, attempt)` says what each call does."""

    def __init__(self, plan) -> None:
        self.plan, self.calls, self.streams = plan, [], []
        self.render = self

    def options(self, **_kwargs):
        return self

    def remote(self, request: dict, _model: str, _options: dict) -> _Stream:
        seed = request["seed"]
        attempt = sum(1 for s in self.calls if s == seed)
        self.calls.append(seed)
        delay, error = self.plan(seed, attempt)
        single = request | {"batch_size": 1}
        result = GenerationResult(Image.new("RGB", (8, 8)), type(REQUEST).from_dict(single))
        step = StepProgress(1, 2, 0.0, 0.0, "sampling", None, 0, 1)
        events = [ReplicaStarted(f"r{seed}-{attempt}"), ImageStep(step)]
        stream = _Stream(events + ([] if error else [ImageDone(result)]), delay, error)
        self.streams.append(stream)
        return stream


REQUEST = request(100, 2)


def _run(handle: _Handle, cancel: threading.Event | None = None):
    delivered, steps = [], []
    results = BatchSplitter(handle).generate(REQUEST, "demo", FP32, steps.append, cancel, delivered.append)
    return results, delivered, steps


def test_images_finishing_out_of_order_are_delivered_in_seed_order():
    """Image 1 is the slowest: on_result still gets seeds 100, 101, 102, 103 in that order."""
    handle = _Handle(lambda seed, _attempt: (0.05 if seed == 100 else 0.001, None))
    results, delivered, steps = _run(handle)
    assert [r.request.seed for r in delivered] == [100, 101, 102, 103] == [r.request.seed for r in results]
    assert {s.image_index for s in steps} == {0, 1, 2, 3} and {s.image_count for s in steps} == {4}


def test_a_lost_replica_is_retried_once_with_a_warning():
    """Image 2's first replica dies: it is asked again, succeeds, and carries a warning naming the replica."""
    handle = _Handle(lambda seed, attempt: (0.001, ActorDiedError() if (seed, attempt) == (101, 0) else None))
    results, _, _ = _run(handle)
    assert handle.calls.count(101) == 2
    assert "replica r101-0 stopped while rendering image 2 (seed 101)" in results[1].warnings[0]
    assert not results[0].warnings and not results[2].warnings


def test_an_image_that_loses_two_replicas_fails_the_job():
    """No third try: GenerationFailedError names the image, and the images already done are delivered."""
    handle = _Handle(lambda seed, _attempt: (0.001, ActorDiedError() if seed == 103 else None))
    delivered: list = []
    with pytest.raises(GenerationFailedError, match=r"image 4 \(seed 103\) lost its renderer replica 2 times"):
        BatchSplitter(handle).generate(REQUEST, "demo", FP32, None, None, delivered.append)
    assert handle.calls.count(103) == 2
    assert [r.request.seed for r in delivered] == [100, 101, 102]


def test_a_replicas_own_error_reaches_the_job_in_its_words_without_a_retry():
    """A model that does not load: ModelLoadError with the replica's message, not Ray's traceback; not retried."""
    cause = ModelLoadError("cannot read transformer/x.safetensors")
    error = RayTaskError("render", "Traceback ... ray::ServeReplica", cause).as_instanceof_cause()
    handle = _Handle(lambda seed, _attempt: (0.001, error if seed == 100 else None))
    with pytest.raises(ModelLoadError) as failure:
        _run(handle)
    assert str(failure.value) == "cannot read transformer/x.safetensors"
    assert handle.calls.count(100) == 1


def test_cancel_cancels_every_images_call():
    """The cancel event set mid-batch: GenerationCancelledError, and every unfinished renderer call is cancelled."""
    cancel = threading.Event()
    handle = _Handle(lambda _seed, _attempt: (0.5, None))
    threading.Timer(0.2, cancel.set).start()
    with pytest.raises(GenerationCancelledError):
        _run(handle, cancel)
    assert len(handle.streams) == 4 and all(stream.cancelled for stream in handle.streams)
