"""A blocking client of the server's /v1 API (httpx and websockets); every call has a timeout."""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from websockets.exceptions import ConnectionClosed, InvalidStatus, InvalidURI
from websockets.sync.client import ClientConnection, connect

from app.core.remote_api import API_PREFIX, CLIENT_HEADER, FINAL_EVENTS, EventType
from app.core.request import GenerationRequest
from app.remote.errors import ConnectionLostError, RemoteError, ServerRefusedError, TokenRefusedError

CALL_TIMEOUT_S = 10.0  # any single HTTP call; a job's length is not bounded, its stream is kept alive by pings
PING_INTERVAL_S = 2.0
PING_TIMEOUT_S = 5.0  # a server that stops answering pings is reported lost within about this long
_POLL_S = 0.2  # how often a waiting stream checks whether the caller asked to cancel
REFUSED_TOKEN = "the server refused the token; check --token, PIXART_STUDIO_TOKEN or the server's --token-file"


@dataclass(frozen=True)
class RemoteImage:
    """One finished image fetched from the server: its PNG bytes (metadata embedded) and metadata."""

    png: bytes
    metadata: dict[str, Any]


class RemoteClient:
    """One server, one token; thread-safe for calls from different threads."""

    def __init__(self, url: str, token: str, timeout_s: float = CALL_TIMEOUT_S, client_id: str | None = None) -> None:
        url = url.strip().rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise RemoteError(f"server address {url!r} must start with http:// or https://")
        self.url = url
        self._token = token
        self._timeout = timeout_s
        self.client_id = client_id or secrets.token_hex(8)
        self._http = httpx.Client(
            base_url=url + API_PREFIX,
            headers=self._headers(),
            timeout=httpx.Timeout(timeout_s),
            trust_env=False,  # a server is addressed directly, never through the user's web proxy
        )

    def __repr__(self) -> str:
        return f"RemoteClient({self.url!r}, token=<hidden>)"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}", CLIENT_HEADER: self.client_id}

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def health(self) -> dict[str, Any]:
        """The server's status and version (no token needed)."""
        return self._call("GET", "/health").json()

    def models(self) -> list[dict[str, Any]]:
        """The models the server offers."""
        return self._call("GET", "/models").json()["models"]

    def submit(self, request: GenerationRequest, engine: dict[str, Any] | None = None, previews: bool = True) -> str:
        """Queue a job on the server; its id."""
        body = {"request": request.to_dict(), "engine": engine or {}, "previews": previews}
        return self._call("POST", "/jobs", json=body).json()["id"]

    def status(self, job_id: str) -> dict[str, Any]:
        """A job's state and latest progress."""
        return self._call("GET", f"/jobs/{job_id}").json()

    def cancel(self, job_id: str) -> None:
        """Ask the server to stop a job (within one step)."""
        self._call("POST", f"/jobs/{job_id}/cancel")

    def forget(self, job_id: str) -> None:
        """Drop a job and its images from the server."""
        self._call("DELETE", f"/jobs/{job_id}")

    def image(self, job_id: str, index: int) -> bytes:
        """A finished image's PNG."""
        return self._call("GET", f"/jobs/{job_id}/images/{index}").content

    def events(self, job_id: str, should_cancel: Callable[[], bool] = lambda: False) -> Iterator[dict[str, Any]]:
        """The job's events until its final one; when should_cancel() turns true the job is cancelled and the
        stream goes on to its cancelled (or finished) event."""
        with self._open_stream(job_id) as socket:
            cancel_sent = False
            while True:
                if not cancel_sent and should_cancel():
                    self.cancel(job_id)
                    cancel_sent = True
                try:
                    message = socket.recv(timeout=_POLL_S)
                except TimeoutError:
                    continue
                except ConnectionClosed as error:
                    raise ConnectionLostError(f"lost the connection to {self.url} during the job ({error})") from None
                event = json.loads(message)
                yield event
                if EventType(event["type"]) in FINAL_EVENTS:
                    return

    def run(
        self,
        request: GenerationRequest,
        engine: dict[str, Any] | None = None,
        previews: bool = True,
        on_event: Callable[[dict[str, Any]], None] | None = None,
        on_image: Callable[[RemoteImage], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> tuple[EventType, list[RemoteImage], str]:
        """Submit, follow and collect a job: (final event type, images fetched, failure message).

        Each image is fetched as soon as it is announced, so a cancel later in a batch keeps it.
        """
        job_id = self.submit(request, engine, previews)
        images: list[RemoteImage] = []
        final, message = EventType.FAILED, "the job's stream ended without a result"
        try:
            for event in self.events(job_id, should_cancel=cancel.is_set if cancel else lambda: False):
                kind = EventType(event["type"])
                if kind is EventType.IMAGE:
                    image = RemoteImage(self.image(job_id, int(event["index"])), event["metadata"])
                    images.append(image)
                    if on_image is not None:
                        on_image(image)
                elif on_event is not None:
                    on_event(event)
                if kind in FINAL_EVENTS:
                    final, message = kind, event.get("message", "")
        finally:
            self._forget_quietly(job_id)
        return final, images, message

    def _forget_quietly(self, job_id: str) -> None:
        with contextlib.suppress(RemoteError):  # the server is gone or dropped the job: nothing is left to free
            self.forget(job_id)

    def _open_stream(self, job_id: str) -> ClientConnection:
        ws_url = "ws" + self.url.removeprefix("http") + f"{API_PREFIX}/jobs/{job_id}/events"
        try:
            return connect(
                ws_url,
                additional_headers=self._headers(),
                open_timeout=self._timeout,
                ping_interval=PING_INTERVAL_S,
                ping_timeout=PING_TIMEOUT_S,
                close_timeout=2.0,
                proxy=None,
                max_size=4 * 1024 * 1024,
            )
        except InvalidStatus as error:
            if error.response.status_code in (401, 403):
                raise TokenRefusedError(REFUSED_TOKEN) from None
            raise ServerRefusedError(
                error.response.status_code, f"the server refused the event stream: {error}"
            ) from None
        except (OSError, TimeoutError, InvalidURI) as error:
            raise ConnectionLostError(f"cannot reach {self.url}: {error}") from None

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise ConnectionLostError(f"{self.url} did not answer within {self._timeout:g} s") from None
        except httpx.HTTPError as error:
            raise ConnectionLostError(f"cannot reach {self.url}: {error}") from None
        if response.status_code == 401:
            raise TokenRefusedError(REFUSED_TOKEN)
        if response.status_code >= 400:
            raise ServerRefusedError(response.status_code, _detail(response))
        return response


def _detail(response: httpx.Response) -> str:
    """The server's own message for a refused call, one line."""
    try:
        detail = response.json().get("detail", response.text)
    except ValueError:
        detail = response.text
    if isinstance(detail, list):  # FastAPI's validation errors: [{"loc": [...], "msg": ...}]
        detail = "; ".join(
            f"{'.'.join(str(p) for p in item.get('loc', [])[1:])}: {item.get('msg', '')}" for item in detail
        )
    return f"the server refused the request ({response.status_code}): {detail}"
