"""Run the worker's jobs on a server: the same progress, results and outcomes as a local pipeline gives."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QImage

from app.core.remote_api import EventType, above_native_of
from app.engine.jobs import ModelState, ModelStatus
from app.remote.client import RemoteClient
from app.remote.errors import ConnectionLostError, RemoteError, TokenRefusedError
from app.remote.results import result_from_remote
from app.remote.target import ServerTarget

log = logging.getLogger(__name__)


class RemoteJobError(Exception):
    """A remote job did not finish: cancelled, or failed with a message (and whether the connection is gone)."""

    def __init__(self, message: str, cancelled: bool = False, connection_lost: bool = False) -> None:
        super().__init__(message)
        self.cancelled = cancelled
        self.connection_lost = connection_lost


class RemoteRunner:
    """One client per server target, reused between jobs; every call is bounded in time."""

    def __init__(self) -> None:
        self._client: RemoteClient | None = None
        self._target: ServerTarget | None = None

    def client(self, target: ServerTarget) -> RemoteClient:
        """The client for a target (a new one when the address or token changed)."""
        if self._target != target or self._client is None:
            self.close()
            self._client, self._target = RemoteClient(target.url, target.token), target
        return self._client

    def models(self, target: ServerTarget) -> list[dict[str, Any]]:
        """The server's catalog; RemoteJobError when it cannot be reached or refuses the token."""
        try:
            return self.client(target).models()
        except ConnectionLostError as error:
            raise RemoteJobError(f"Cannot reach the server: {error}", connection_lost=True) from None
        except RemoteError as error:
            raise RemoteJobError(str(error)) from None

    def run(
        self,
        target: ServerTarget,
        job: Any,
        previews: bool,
        on_progress: Callable[[dict[str, Any], QImage | None], None],
        on_result: Callable[[Any], None],
    ) -> None:
        """Run a queued job on the server with the server's own engine options; RemoteJobError when it was
        cancelled or failed."""
        client = self.client(target)

        def on_event(event: dict[str, Any]) -> None:
            if event["type"] == EventType.PROGRESS.value:
                on_progress(event, _preview(event.get("preview")))

        try:
            final, _images, message = client.run(
                job.info.request,
                previews=previews,
                on_event=on_event,
                on_image=lambda image: on_result(result_from_remote(image, rendered_on=target.url)),
                cancel=job.cancel,
            )
        except TokenRefusedError as error:
            raise RemoteJobError(str(error)) from None
        except ConnectionLostError as error:
            raise RemoteJobError(f"Lost the connection to the server: {error}", connection_lost=True) from None
        except RemoteError as error:
            raise RemoteJobError(str(error)) from None
        if final is EventType.CANCELLED:
            raise RemoteJobError("cancelled", cancelled=True)
        if final is EventType.FAILED:
            raise RemoteJobError(f"The server could not make the image: {message}")

    def reachable(self, target: ServerTarget) -> bool:
        """True when the server answers its health check."""
        try:
            self.client(target).health()
        except RemoteError:
            return False
        return True

    def close(self) -> None:
        """Close the current client's connections."""
        if self._client is not None:
            self._client.close()
        self._client = self._target = None


def _preview(data: str | None) -> QImage | None:
    """A stream preview (base64 JPEG) as a QImage; None when absent or undecodable."""
    if not data:
        return None
    image = QImage.fromData(base64.b64decode(data))
    return None if image.isNull() else image


def model_status(model: str, url: str, models: list[dict[str, Any]]) -> ModelStatus:
    """The status bar's view of a server model: ready when the server offers it, else failed naming the choices."""
    for entry in models:
        if entry.get("id") == model:
            return ModelStatus(
                ModelState.READY,
                model,
                f"Ready on {url}",
                1.0,
                native_resolution=entry.get("native_resolution") or None,
                is_demo=bool(entry.get("is_demo")),
                name=str(entry["id"]),
                guidance_scale=entry.get("guidance_scale"),
                above_native=above_native_of(entry),
            )
    offered = ", ".join(str(e.get("id")) for e in models) or "none"
    message = f"The server does not offer the model {model!r}; choose one of its models ({offered}) under Models"
    return ModelStatus(ModelState.FAILED, model, message)
