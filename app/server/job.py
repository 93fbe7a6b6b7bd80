"""A job on the server: its state, its event history, its finished PNGs, and the streams watching it."""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core.engine_options import EngineOptions
from app.core.remote_api import FINAL_EVENTS, EventType, JobState
from app.core.request import GenerationRequest


@dataclass(frozen=True)
class JobSpec:
    """What a client asked for: the request, the engine options it runs with, and whether to send previews."""

    client: str
    request: GenerationRequest
    model_path: Path  # from the server's catalog, never from the client
    options: EngineOptions
    previews: bool = True


@dataclass(frozen=True)
class FinishedImage:
    """One image of a job: its PNG (metadata embedded) and the metadata as JSON."""

    png: bytes
    metadata: dict[str, Any]


@dataclass(eq=False)
class ServerJob:
    """Thread-safe: the renderer's thread publishes, the event loop's streams read."""

    spec: JobSpec
    id: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    cancel_event: threading.Event = field(default_factory=threading.Event)
    created_at: float = field(default_factory=time.monotonic)
    state: JobState = JobState.QUEUED
    message: str = ""
    finished_at: float | None = None
    images: list[FinishedImage] = field(default_factory=list)
    _history: list[dict[str, Any]] = field(default_factory=list)
    _last_progress: dict[str, Any] | None = None
    _watchers: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def publish(self, event: dict[str, Any]) -> None:
        """Record an event and hand it to every stream; progress is kept only as the latest one."""
        kind = EventType(event["type"])
        with self._lock:
            if kind is EventType.PROGRESS:
                self._last_progress = event
            else:
                self._history.append(event)
            if kind is EventType.STATE:
                self.state = JobState(event["state"])
            elif kind in FINAL_EVENTS:
                self.state = JobState(kind.value)
                self.message = event.get("message", "")
                self.finished_at = time.monotonic()
            watchers = list(self._watchers)
        for loop, queue in watchers:
            loop.call_soon_threadsafe(queue.put_nowait, event)

    def add_image(self, image: FinishedImage) -> None:
        """Keep a finished image and announce it."""
        with self._lock:
            self.images.append(image)
            index = len(self.images) - 1
        self.publish({"type": EventType.IMAGE.value, "index": index, "metadata": image.metadata})

    def snapshot(self) -> dict[str, Any]:
        """The job's status as the API returns it."""
        with self._lock:
            return {
                "id": self.id,
                "state": self.state.value,
                "message": self.message,
                "images": len(self.images),
                "request": self.spec.request.to_dict(),
                "progress": self._last_progress,
            }

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """Everything so far (the latest progress only), then live events, until the job's final event."""
        queue: asyncio.Queue = asyncio.Queue()
        loop = asyncio.get_running_loop()
        with self._lock:
            past = list(self._history) + ([self._last_progress] if self._last_progress else [])
            self._watchers.append((loop, queue))
        try:
            for event in past:
                yield event
                if EventType(event["type"]) in FINAL_EVENTS:
                    return
            while True:
                event = await queue.get()
                yield event
                if EventType(event["type"]) in FINAL_EVENTS:
                    return
        finally:
            with self._lock:
                self._watchers.remove((loop, queue))
