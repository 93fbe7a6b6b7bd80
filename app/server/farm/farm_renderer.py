"""The server's Renderer for a farm: the plain server's queue and events, several jobs at once, images on Ray."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.core.engine_options import EngineOptions
from app.core.request import GenerationRequest, GenerationResult
from app.engine.progress import StepProgress
from app.server.catalog import ServerCatalog
from app.server.farm.batch import BatchSplitter
from app.server.farm.renderer import replica_options
from app.server.job import ServerJob
from app.server.local_renderer import LocalRenderer


class FarmPipeline:
    """Stands where the plain server keeps its loaded `Pipeline`: same `generate`, the images made by replicas."""

    def __init__(self, splitter: BatchSplitter, model_path: Path, options: EngineOptions) -> None:
        self._splitter = splitter
        self._model = str(model_path)
        self.options = options  # set per job by the renderer (previews, tiling), as on a local pipeline

    def generate(
        self,
        request: GenerationRequest,
        on_step: Callable[[StepProgress], None] | None = None,
        cancel_event: threading.Event | None = None,
        on_result: Callable[[GenerationResult], None] | None = None,
    ) -> list[GenerationResult]:
        """The batch, one image per replica call; see `BatchSplitter.generate`."""
        return self._splitter.generate(request, self._model, self.options, on_step, cancel_event, on_result)

    def close(self) -> None:
        """Nothing to free here: the models live in the replicas, which stay warm for the next job."""


class FarmRenderer(LocalRenderer):
    """`LocalRenderer`'s fair queue and job events, with `concurrent_jobs` jobs running at once through `handle`.

    Jobs side by side keep every replica busy when clients send single images; their images share the replicas
    in the order they were sent.
    """

    def __init__(
        self,
        handle: Any,
        catalog: ServerCatalog,
        defaults: EngineOptions,
        max_queue: int = 4,
        concurrent_jobs: int = 1,
    ) -> None:
        self._splitter = BatchSplitter(handle)
        super().__init__(catalog, replica_options(defaults), max_queue=max_queue)
        self._more_threads = [
            threading.Thread(target=self._loop, name=f"pixart-farm-jobs-{n}", daemon=True)
            for n in range(1, max(1, concurrent_jobs))
        ]
        for thread in self._more_threads:
            thread.start()

    def submit(self, client: str, request: GenerationRequest, options: EngineOptions, previews: bool) -> ServerJob:
        """Queue a job; its device is each replica's own (the GPU Ray gave it), whatever the client chose."""
        return super().submit(client, request, replica_options(options), previews)

    def close(self) -> None:
        """Cancel every job and stop taking new ones; the replicas stay up until the application is deleted."""
        super().close()
        for thread in self._more_threads:
            thread.join(timeout=30)

    def _ensure_loaded(self, path: Path, options: EngineOptions) -> FarmPipeline:
        # A fresh stand-in per job (it costs nothing): jobs on different threads never share its options.
        return FarmPipeline(self._splitter, path, options)
