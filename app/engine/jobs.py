"""The immutable messages the engine's controller sends to the GUI: jobs, progress, results and model status."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from app.core.memory_estimate import MemoryProfile
from app.core.request import GenerationRequest, GenerationResult
from app.core.sizes import HighResMethod

if TYPE_CHECKING:
    from PySide6.QtGui import QImage


@dataclass(frozen=True)
class JobInfo:
    """A submitted generation: its id and the request, stamped with the model that runs it."""

    job_id: int
    request: GenerationRequest


@dataclass(frozen=True)
class JobProgress:
    """One sampling step of a job; `preview` is a small QImage of the predicted image, on some steps only."""

    job_id: int
    step: int
    total: int
    elapsed_s: float
    eta_s: float
    phase: str
    preview: QImage | None
    image_index: int
    image_count: int

    @property
    def fraction(self) -> float:
        """Progress of the whole job (all images of a batch) from 0 to 1."""
        per_image = self.step / self.total if self.total else 0.0
        return min(1.0, (self.image_index + per_image) / max(1, self.image_count))


@dataclass(frozen=True)
class JobResult:
    """One finished image of a job (a batch sends one per image)."""

    job_id: int
    result: GenerationResult


class ModelState(Enum):
    """Where the engine's model is: not in memory, loading, ready for jobs, or failed to load."""

    UNLOADED = "unloaded"
    LOADING = "loading"
    READY = "ready"
    FAILED = "failed"


@dataclass(frozen=True)
class ModelStatus:
    """The model's state for the status bar; `fraction` is the loading progress, `message` what is happening."""

    state: ModelState
    model: str
    message: str = ""
    fraction: float = 0.0
    native_resolution: int | None = None
    is_demo: bool = False
    name: str = ""
    guidance_scale: float | None = None  # the model's recommended guidance; None: the sampler's default
    above_native: HighResMethod = HighResMethod.AUTO  # what `auto` does above native size for this model
    memory_profile: MemoryProfile | None = None  # what the window's estimate needs; set once ready
