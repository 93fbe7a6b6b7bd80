"""The ingress deployment: the plain server's FastAPI app (same routes, token and limits) on a farm's backend."""

from __future__ import annotations

from typing import Any

from ray import serve
from ray.serve.handle import DeploymentHandle

from app.core.engine_options import EngineOptions
from app.server.api import create_app
from app.server.catalog import ServerCatalog
from app.server.farm.farm_renderer import FarmRenderer
from app.server.limits import ServerSettings


@serve.ingress()
class FarmIngress:
    """One replica (it holds the jobs and their streams); Serve's HTTP proxy hands it every /v1 request."""

    def __init__(
        self,
        renderer: DeploymentHandle,
        catalog: ServerCatalog,
        defaults: dict[str, Any],
        settings: ServerSettings,
        max_queue: int,
        concurrent_jobs: int,
    ) -> None:
        options = EngineOptions.from_dict(defaults)
        self._backend = FarmRenderer(renderer, catalog, options, max_queue, concurrent_jobs)
        self._settings = settings

    def __serve_build_asgi_app__(self):
        """The API, built by the same factory as `pixart-studio serve` (called by Serve once the replica exists)."""
        return create_app(self._backend, self._settings)

    def active_jobs(self) -> int:
        """Jobs queued or running (what a leak would show)."""
        return self._backend.active_jobs()

    def __del__(self) -> None:
        self._backend.close()
