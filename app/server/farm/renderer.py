"""The renderer deployment: each replica holds one loaded model on one device and renders one image at a time."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

from ray import serve

from app.core.engine_options import DeviceChoice, EngineOptions
from app.core.errors import GenerationCancelledError, InvalidRequestError
from app.core.request import GenerationRequest
from app.server.farm.events import ImageDone, ImageStep, RenderEvent, ReplicaStarted

log = logging.getLogger("ray.serve")  # Serve writes this logger to the replica's log file with its id
_FINISHED = object()


def replica_options(options: EngineOptions) -> EngineOptions:
    """The job's options on a replica: its device is the one Ray gave it (its GPU, else the CPU), never a choice."""
    return replace(options, device=DeviceChoice.AUTO, device_index=None)


def _load_key(model: str, options: EngineOptions) -> tuple[str, EngineOptions]:
    """What needs a reload when it changes; previews and tiling are read at each generation."""
    return model, replace(options, preview_every=0, vae_tiling=EngineOptions().vae_tiling)


class Renderer:
    """One replica: a warm `Pipeline` on its device (the GPU Ray gave it, else `threads` CPU threads)."""

    def __init__(self, model: str, options: dict[str, Any], threads: int = 1) -> None:
        import torch  # in the replica's process only: the ingress and the CLI never load a model for a farm

        from app.engine.pipeline import Pipeline
        from app.engine.quiet import quiet_libraries

        quiet_libraries()  # a replica's log is the server's; the libraries' bars would break it up
        if not torch.cuda.is_available():
            torch.set_num_threads(max(1, threads))
        self._pipeline_type = Pipeline
        chosen = replica_options(EngineOptions.from_dict(options))
        # Loaded in the constructor, so a model that cannot load fails the deployment (reported by `serve`) instead
        # of failing every image later.
        self._pipeline = Pipeline.load(model, options=chosen)
        self._key = _load_key(model, chosen)
        self._busy = threading.Lock()
        context = serve.get_replica_context()
        self._name = context.replica_id.unique_id if context is not None else f"pid-{os.getpid()}"
        log.info("renderer %s ready: %s on %s (%s)", self._name, model, self._pipeline.device, self._pipeline.dtype)

    async def render(self, request: dict[str, Any], model: str, options: dict[str, Any]) -> AsyncIterator[RenderEvent]:
        """Render one image of `request` (batch size 1), streaming its steps; a cancelled call stops within a step."""
        single = GenerationRequest.from_dict(request)
        if single.batch_size != 1:
            raise InvalidRequestError(f"a renderer makes one image per call, got batch_size {single.batch_size}")
        chosen = replica_options(EngineOptions.from_dict(options))
        loop = asyncio.get_running_loop()
        events: asyncio.Queue[Any] = asyncio.Queue()
        cancel = threading.Event()

        def emit(item: Any) -> None:
            loop.call_soon_threadsafe(events.put_nowait, item)

        def work() -> None:
            with self._busy:  # a cancelled image's thread finishes its step before the next image starts
                try:
                    pipeline = self._pipeline_for(model, chosen)
                    results = pipeline.generate(single, on_step=lambda p: emit(ImageStep(p)), cancel_event=cancel)
                    log.info("renderer %s finished seed %d", self._name, single.seed)
                    emit(ImageDone(results[0]))
                except GenerationCancelledError as error:
                    log.info("renderer %s cancelled seed %d", self._name, single.seed)
                    emit(error)
                except BaseException as error:  # handed to the stream, which raises it to the caller
                    log.warning("renderer %s failed seed %d: %s", self._name, single.seed, error)
                    emit(error)
                finally:
                    emit(_FINISHED)

        log.info("renderer %s started seed %d", self._name, single.seed)
        yield ReplicaStarted(self._name)
        worker = loop.run_in_executor(None, work)
        try:
            while (item := await events.get()) is not _FINISHED:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            # Reached on a cancel too (Serve cancels this coroutine): the engine sees the event within one step.
            cancel.set()
            await asyncio.shield(worker)

    def _pipeline_for(self, model: str, options: EngineOptions):
        """The warm pipeline, with the job's previews and tiling; loaded again for another model or precision."""
        key = _load_key(model, options)
        if key != self._key:
            self._pipeline.close()
            self._key = ("", options)  # until the new one is loaded: a failed load is tried again by the next image
            log.info("renderer %s loading %s", self._name, model)
            self._pipeline = self._pipeline_type.load(model, options=options)
            self._key = key
        self._pipeline.options = options
        return self._pipeline
