"""A batch split per image (seed, seed+1, ...) across renderer replicas and put back together in order."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ray.exceptions import RayActorError, RayTaskError
from ray.serve.exceptions import ReplicaUnavailableError

from app.core.engine_options import EngineOptions
from app.core.errors import GenerationCancelledError, GenerationFailedError, InvalidRequestError, StudioError
from app.core.request import MAX_SEED, GenerationRequest, GenerationResult
from app.engine.progress import StepProgress
from app.server.farm.events import ImageDone, ImageStep, ReplicaStarted

CANCEL_POLL_S = 0.05  # how often the batch looks at the job's cancel event (a step of the demo model is ~30 ms)
ATTEMPTS = 2  # an image whose replica dies is rendered once more elsewhere, never more
_REPLICA_LOST = (RayActorError, ReplicaUnavailableError)


class BatchSplitter:
    """`Pipeline.generate` for a farm: each image of a batch is one renderer call, on whichever replica is free."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle.options(stream=True)

    def generate(
        self,
        request: GenerationRequest,
        model: str,
        options: EngineOptions,
        on_step: Callable[[StepProgress], None] | None = None,
        cancel_event: threading.Event | None = None,
        on_result: Callable[[GenerationResult], None] | None = None,
    ) -> list[GenerationResult]:
        """Render `request.batch_size` images of `model` in parallel; results come in seed order, as locally.

        Blocks the calling thread. Raises GenerationCancelledError within a step of `cancel_event` (every replica's
        image stops), a replica's own StudioError (a model that cannot load, a bad request) as it is, and
        GenerationFailedError when an image lost its replica twice.
        """
        if request.seed + request.batch_size - 1 > MAX_SEED:  # as Pipeline.generate says it
            raise InvalidRequestError(f"seed {request.seed} + batch {request.batch_size} goes past {MAX_SEED}")
        batch = _Batch(self._handle, request, model, options.to_dict(), on_step, on_result)
        return asyncio.run(batch.run(cancel_event))


class _Batch:
    """One call of `BatchSplitter.generate`: its images' tasks, progress and in-order delivery."""

    def __init__(self, handle, request, model, options, on_step, on_result) -> None:
        self.handle, self.request, self.model, self.options = handle, request, model, options
        self.on_step, self.on_result = on_step, on_result
        self.count = request.batch_size
        self.started = time.perf_counter()
        self.steps_done = [0.0] * self.count  # per image, in units of its steps (for the whole batch's ETA)
        self.results: list[GenerationResult | None] = [None] * self.count
        self.delivered = 0

    async def run(self, cancel_event: threading.Event | None) -> list[GenerationResult]:
        tasks = [asyncio.create_task(self._image(index)) for index in range(self.count)]
        waiter = asyncio.gather(*tasks)
        try:
            while not waiter.done():
                if cancel_event is not None and cancel_event.is_set():
                    raise GenerationCancelledError("the job was cancelled")
                await asyncio.wait([waiter], timeout=CANCEL_POLL_S)
            waiter.result()  # the first image's failure, if any
        except BaseException:
            for task in tasks:
                task.cancel()  # cancels each image's renderer call: every replica stops within a step
            await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.wait([waiter])
            if not waiter.cancelled():
                waiter.exception()  # retrieved, so asyncio does not report it as lost
            self._deliver_ready(partial=True)  # images finished before the failure are never lost
            raise
        return [r for r in self.results if r is not None]

    async def _image(self, index: int) -> None:
        single = self.request.with_seed(self.request.seed + index)
        lost: list[str] = []
        last: BaseException | None = None
        for _attempt in range(ATTEMPTS):
            stream = self.handle.render.remote(single.to_dict(), self.model, self.options)
            replica = "?"
            try:
                async for event in stream:
                    if isinstance(event, ReplicaStarted):
                        replica = event.replica
                    elif isinstance(event, ImageStep):
                        self._progress(index, event.progress)
                    elif isinstance(event, ImageDone):
                        self._finished(index, event.result, lost)
                        return
            except asyncio.CancelledError:
                stream.cancel()
                raise
            except RayTaskError as error:
                # The replica's own error (a model that does not load, memory): its message, not Ray's traceback.
                if isinstance(error.cause, StudioError):
                    raise type(error.cause)(str(error.cause)) from None
                raise
            except _REPLICA_LOST as error:
                lost.append(f"replica {replica} stopped while rendering image {index + 1} (seed {single.seed})")
                last = error
                self.steps_done[index] = 0.0
        raise GenerationFailedError(
            f"image {index + 1} (seed {single.seed}) lost its renderer replica {ATTEMPTS} times; "
            f"check the farm's replicas (`ray status`, `serve status`): {last}"
        )

    def _progress(self, index: int, progress: StepProgress) -> None:
        if progress.total:
            self.steps_done[index] = progress.step / progress.total
        if self.on_step is None:
            return
        elapsed = time.perf_counter() - self.started
        done = sum(self.steps_done)
        eta = elapsed / done * (self.count - done) if done > 0 else 0.0
        self.on_step(replace(progress, elapsed_s=elapsed, eta_s=eta, image_index=index, image_count=self.count))

    def _finished(self, index: int, result: GenerationResult, lost: list[str]) -> None:
        if lost:
            retried = f"{'; '.join(lost)}; it was rendered again on another replica"
            result = replace(result, warnings=(*result.warnings, retried))
        self.steps_done[index] = 1.0
        self.results[index] = result
        self._deliver_ready()

    def _deliver_ready(self, partial: bool = False) -> None:
        """Hand finished images to `on_result` in seed order; after a failure, the finished ones past a gap too."""
        while self.delivered < self.count:
            result = self.results[self.delivered]
            self.delivered += 1
            if result is None:
                if not partial:
                    self.delivered -= 1
                    return
                continue
            if self.on_result is not None:
                self.on_result(result)
