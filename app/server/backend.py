"""The interface between the HTTP API and whatever renders its jobs (this process's engine, or a Ray cluster)."""

from __future__ import annotations

from typing import Any, Protocol

from app.core.engine_options import EngineOptions
from app.core.request import GenerationRequest
from app.server.fair_queue import QueueFullError
from app.server.job import ServerJob

__all__ = ["QueueFullError", "Renderer", "UnknownModelError"]


class UnknownModelError(LookupError):
    """A request names a model that is not in the server's catalog."""


class Renderer(Protocol):
    """Runs jobs for the API: one fair queue, cancel within one step, events published on each ServerJob.

    Every method is called from the API's event loop and must return quickly; rendering happens elsewhere.
    """

    defaults: EngineOptions  # the server's engine options; a job's own choices are applied on top

    def models(self) -> list[dict[str, Any]]:
        """The catalog offered to clients: JSON objects with an "id" and no server paths."""
        ...

    def submit(self, client: str, request: GenerationRequest, options: EngineOptions, previews: bool) -> ServerJob:
        """Queue a job; UnknownModelError for a model id not in models(), QueueFullError when the client's line is
        full, InvalidRequestError for engine options this server cannot run."""
        ...

    def job(self, job_id: str) -> ServerJob | None:
        """A job still known (queued, running, or finished and not yet forgotten)."""
        ...

    def cancel(self, job_id: str) -> bool:
        """Cancel a waiting job at once or a running one within a step; False when unknown or already final."""
        ...

    def forget(self, job_id: str) -> None:
        """Cancel the job if it has not ended and drop it with its images."""
        ...

    def close(self) -> None:
        """Cancel everything and stop rendering; waits for the running step to end."""
        ...
