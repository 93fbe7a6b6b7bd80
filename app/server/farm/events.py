"""The messages a renderer replica streams back for one image: who renders it, its steps, and the finished image."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.request import GenerationResult
from app.engine.progress import StepProgress


@dataclass(frozen=True)
class ReplicaStarted:
    """The image was taken by a replica (its Serve replica id, as in its log lines and in a retry's warning)."""

    replica: str


@dataclass(frozen=True)
class ImageStep:
    """One step of the image, as the engine reported it (its own single-image clock)."""

    progress: StepProgress


@dataclass(frozen=True)
class ImageDone:
    """The finished image with its metadata."""

    result: GenerationResult


RenderEvent = ReplicaStarted | ImageStep | ImageDone
