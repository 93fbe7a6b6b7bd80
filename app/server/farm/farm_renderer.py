"""The server's Renderer for a farm: the plain server's queue and events, with each job's images sent to Ray."""

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


class FarmRenderer:
    """The API's backend on a farm: `LocalRenderer`'s fair queue and job events, rendering through `handle`."""

    def __init__(self, handle: Any, catalog: ServerCatalog, defaults: EngineOptions, max_queue: int = 4) -> None:
        splitter = BatchSplitter(handle)
        self.defaults = replica_options(defaults)
        self._local = LocalRenderer(
            catalog,
            self.defaults,
            max_queue=max_queue,
            loader=lambda path, options: FarmPipeline(splitter, path, options),
        )

    def models(self) -> list[dict[str, Any]]:
        """The catalog offered to clients."""
        return self._local.models()

    def submit(self, client: str, request: GenerationRequest, options: EngineOptions, previews: bool) -> ServerJob:
        """Queue a job; its device is each replica's own (the GPU Ray gave it), whatever the client chose."""
        return self._local.submit(client, request, replica_options(options), previews)

    def job(self, job_id: str) -> ServerJob | None:
        """A job still known."""
        return self._local.job(job_id)

    def cancel(self, job_id: str) -> bool:
        """Cancel a waiting job at once, or a running one on every replica within a step."""
        return self._local.cancel(job_id)

    def forget(self, job_id: str) -> None:
        """Cancel (if needed) and drop a job and its images."""
        self._local.forget(job_id)

    def active_jobs(self) -> int:
        """Jobs queued or running."""
        return self._local.active_jobs()

    def close(self) -> None:
        """Cancel every job and stop taking new ones; the replicas stay up until the application is deleted."""
        self._local.close()
