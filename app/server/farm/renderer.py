"""The renderer deployment: each replica holds one loaded model on one device and renders one image at a time."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncIterator
from typing import Any

from ray import serve

from app.core.engine_options import EngineOptions
from app.core.errors import InvalidRequestError
from app.core.request import GenerationRequest
from app.server.farm.events import ImageDone, ImageStep, RenderEvent, ReplicaStarted

_FINISHED = object()


class Renderer:
    """One replica: a warm `Pipeline` on its device (the GPU Ray gave it, else `threads` CPU threads)."""

    def __init__(self, model: str, options: dict[str, Any], threads: int = 1) -> None:
        import torch  # in the replica's process only: the ingress and the CLI never need torch for a farm

        from app.engine.pipeline import Pipeline

        if not torch.cuda.is_available():
            torch.set_num_threads(max(1, threads))
        self._pipeline_type = Pipeline
        self._options = EngineOptions.from_dict(options)
        self._model = model
        # Loaded in the constructor, so a model that cannot load fails the deployment (reported by `serve`) instead
        # of failing every image later.
        self._pipeline = Pipeline.load(model, options=self._options)
        self._busy = threading.Lock()
        context = serve.get_replica_context()
        self._name = context.replica_id.unique_id if context is not None else f"pid-{os.getpid()}"

    def identity(self) -> dict[str, Any]:
        """Which replica this is, its process and device (for logs and tests)."""
        return {"replica": self._name, "pid": os.getpid(), "device": str(self._pipeline.device), "model": self._model}

    async def render(self, request: dict[str, Any], model: str) -> AsyncIterator[RenderEvent]:
        """Render one image of `request` (batch size 1), streaming its steps; a cancelled call stops within a step."""
        single = GenerationRequest.from_dict(request)
        if single.batch_size != 1:
            raise InvalidRequestError(f"a renderer makes one image per call, got batch_size {single.batch_size}")
        loop = asyncio.get_running_loop()
        events: asyncio.Queue[Any] = asyncio.Queue()
        cancel = threading.Event()

        def emit(item: Any) -> None:
            loop.call_soon_threadsafe(events.put_nowait, item)

        def work() -> None:
            with self._busy:  # a cancelled image's thread finishes its step before the next image starts
                try:
                    pipeline = self._pipeline_for(model)
                    results = pipeline.generate(single, on_step=lambda p: emit(ImageStep(p)), cancel_event=cancel)
                    emit(ImageDone(results[0]))
                except BaseException as error:  # handed to the stream, which raises it to the caller
                    emit(error)
                finally:
                    emit(_FINISHED)

        yield ReplicaStarted(self._name, os.getpid(), str(self._pipeline.device))
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

    def _pipeline_for(self, model: str):
        """The warm pipeline, reloaded when a request asks for another model of the server's catalog."""
        if model != self._model:
            self._pipeline.close()
            self._model = ""  # until the new one is loaded: a failed load is retried by the next request
            self._pipeline = self._pipeline_type.load(model, options=self._options)
            self._model = model
        return self._pipeline
