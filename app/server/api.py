"""The HTTP API under /v1 (FastAPI): health, models, jobs, their event stream, cancel and finished PNGs."""

from __future__ import annotations

import logging
import re
from dataclasses import fields
from typing import Any

from fastapi import Depends, FastAPI, Request, Response, WebSocket, WebSocketDisconnect, status
from fastapi.exceptions import HTTPException
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from app import __version__
from app.core.engine_options import EngineOptions, Precision, TextEncoderPlacement, VaeTiling, parse_device
from app.core.errors import InvalidRequestError
from app.core.remote_api import API_PREFIX, CLIENT_HEADER, MAX_CLIENT_ID_CHARS
from app.core.request import GenerationRequest
from app.server.backend import QueueFullError, Renderer, UnknownModelError
from app.server.job import ServerJob
from app.server.limits import ServerSettings
from app.server.security import BodyLimitMiddleware, token_matches

log = logging.getLogger(__name__)
API_VERSION = 1
_CLIENT_ID = re.compile(rf"[A-Za-z0-9_.-]{{1,{MAX_CLIENT_ID_CHARS}}}")
_REQUEST_FIELDS = {f.name for f in fields(GenerationRequest)}
_bearer = HTTPBearer(auto_error=False, description="the token from the server's --token-file")


class EngineChoice(BaseModel):
    """Engine options for the job; each one left out takes the server's own setting."""

    model_config = ConfigDict(extra="forbid")
    device: str | None = Field(None, description="auto, cpu, cuda, cuda:N or mps")
    precision: Precision | None = None
    text_encoder: TextEncoderPlacement | None = None
    vae_tiling: VaeTiling | None = None


class JobSubmission(BaseModel):
    """A job: a GenerationRequest in its to_dict() form, engine options, and whether to stream previews."""

    model_config = ConfigDict(extra="forbid")
    request: dict[str, Any] = Field(description="GenerationRequest.to_dict(); model is an id from /v1/models")
    engine: EngineChoice = Field(default_factory=EngineChoice)
    previews: bool = True


def create_app(backend: Renderer, settings: ServerSettings) -> FastAPI:
    """The ASGI app serving `backend` with the token and limits in `settings`."""
    app = FastAPI(
        title="PixArt Studio server",
        version=__version__,
        description="Render PixArt-Σ images on this machine for PixArt Studio clients. See docs/remote.md.",
    )
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)

    def authorized(credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> None:  # noqa: B008
        header = f"{credentials.scheme} {credentials.credentials}" if credentials else None
        if not token_matches(header, settings.token):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "missing or wrong token: send Authorization: Bearer <token>",
                headers={"WWW-Authenticate": "Bearer"},
            )

    guarded = [Depends(authorized)]

    def known_job(job_id: str) -> ServerJob:
        job = backend.job(job_id)
        if job is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no job {job_id!r} on this server (finished jobs expire)")
        return job

    @app.get(f"{API_PREFIX}/health", tags=["server"])
    def health() -> dict[str, Any]:
        """Whether the server is up, and its version; needs no token."""
        return {"status": "ok", "version": __version__, "api": API_VERSION}

    @app.get(f"{API_PREFIX}/models", dependencies=guarded, tags=["models"])
    def models() -> dict[str, Any]:
        """The models this server offers; a job names one by its id."""
        return {"models": backend.models()}

    @app.post(f"{API_PREFIX}/jobs", dependencies=guarded, status_code=status.HTTP_201_CREATED, tags=["jobs"])
    def submit(submission: JobSubmission, request: Request) -> dict[str, Any]:
        """Queue a job; 422 names a bad field, 429 when this client has too many jobs waiting."""
        generation = _generation_request(submission.request, settings)
        options = _engine_options(submission.engine, backend)
        try:
            job = backend.submit(_client_id(request), generation, options, submission.previews)
        except UnknownModelError as error:
            raise _unprocessable(["body", "request", "model"], str(error)) from None
        except QueueFullError as error:
            raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, f"{error}; wait for one to finish") from None
        return job.snapshot()

    @app.get(f"{API_PREFIX}/jobs/{{job_id}}", dependencies=guarded, tags=["jobs"])
    def job_status(job_id: str) -> dict[str, Any]:
        """A job's state, its number of finished images, and its latest progress."""
        return known_job(job_id).snapshot()

    @app.post(f"{API_PREFIX}/jobs/{{job_id}}/cancel", dependencies=guarded, tags=["jobs"])
    def cancel(job_id: str) -> dict[str, Any]:
        """Stop a job: at once when it waits, within one step when it runs."""
        job = known_job(job_id)
        return {"cancelled": backend.cancel(job.id), "state": job.state.value}

    @app.delete(f"{API_PREFIX}/jobs/{{job_id}}", dependencies=guarded, status_code=204, tags=["jobs"])
    def forget(job_id: str) -> Response:
        """Cancel a job if it has not ended and drop its images from the server."""
        backend.forget(known_job(job_id).id)
        return Response(status_code=204)

    @app.get(
        f"{API_PREFIX}/jobs/{{job_id}}/images/{{index}}",
        dependencies=guarded,
        tags=["jobs"],
        response_class=Response,
        responses={200: {"content": {"image/png": {}}}},
    )
    def image(job_id: str, index: int) -> Response:
        """A finished image as PNG, with the same metadata chunks a local run writes."""
        job = known_job(job_id)
        if not 0 <= index < len(job.images):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"job {job_id} has {len(job.images)} images so far")
        return Response(job.images[index].png, media_type="image/png")

    @app.get(f"{API_PREFIX}/jobs/{{job_id}}/images/{{index}}/metadata", dependencies=guarded, tags=["jobs"])
    def image_metadata(job_id: str, index: int) -> dict[str, Any]:
        """A finished image's settings JSON (what its PNG embeds)."""
        job = known_job(job_id)
        if not 0 <= index < len(job.images):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"job {job_id} has {len(job.images)} images so far")
        return job.images[index].metadata

    @app.websocket(f"{API_PREFIX}/jobs/{{job_id}}/events")
    async def events(websocket: WebSocket, job_id: str) -> None:
        """The job's events as JSON messages until its final one; closing the socket before then cancels it."""
        if not token_matches(websocket.headers.get("authorization"), settings.token):
            await websocket.close(code=4401, reason="missing or wrong token")
            return
        job = backend.job(job_id)
        if job is None:
            await websocket.close(code=4404, reason=f"no job {job_id!r} on this server")
            return
        await websocket.accept()
        ended = False
        try:
            async for event in job.events():
                await websocket.send_json(event)
            ended = True
            await websocket.close()
        except WebSocketDisconnect:
            pass
        except RuntimeError:  # sending on a socket the client already closed
            pass
        finally:
            if not ended and not job.state.is_final:
                log.info("a client left job %s before it ended; cancelling it", job.id)
                backend.cancel(job.id)

    @app.exception_handler(InvalidRequestError)
    async def invalid(_request: Request, error: InvalidRequestError) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status.HTTP_422_UNPROCESSABLE_CONTENT)

    return app


def _client_id(request: Request) -> str:
    """The client's own id when it sends a well-formed one, else its address (fairness between machines)."""
    given = request.headers.get(CLIENT_HEADER, "")
    if _CLIENT_ID.fullmatch(given):
        return given
    return request.client.host if request.client else "unknown"


def _unprocessable(loc: list[str], message: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [{"loc": loc, "msg": message, "type": "value_error"}])


def _generation_request(data: dict[str, Any], settings: ServerSettings) -> GenerationRequest:
    """The request checked by GenerationRequest itself and by this server's limits; 422 naming the field."""
    if "prompt" not in data:
        raise _unprocessable(["body", "request", "prompt"], "prompt is required")
    unknown = sorted(set(data) - _REQUEST_FIELDS)
    if unknown:
        raise _unprocessable(["body", "request", unknown[0]], f"{unknown[0]} is not a field of a generation request")
    try:
        request = GenerationRequest.from_dict(data)
        settings.check(request)
    except (InvalidRequestError, TypeError) as error:
        message = str(error)
        named = [name for name in _REQUEST_FIELDS if message.startswith(name)]
        field = max(named, key=len) if named else None
        field = field or next((name for name in ("width", "height") if name in message), "request")
        raise _unprocessable(["body", "request", field], message) from None
    return request


def _engine_options(choice: EngineChoice, backend: Renderer) -> EngineOptions:
    """The server's engine options with the job's choices applied."""
    defaults = backend.defaults
    chosen = choice.model_dump(exclude_none=True, mode="json")
    if "device" in chosen:
        try:
            device, index = parse_device(chosen.pop("device"))
        except ValueError as error:
            raise _unprocessable(["body", "engine", "device"], str(error)) from None
        chosen |= {"device": device.value, "device_index": index}
    return EngineOptions.from_dict(defaults.to_dict() | chosen)
