"""Per-step progress messages, and the clock that turns finished steps into an estimate of the time left."""

from __future__ import annotations

import time
from dataclasses import dataclass

from PIL.Image import Image

PHASES = ("encoding", "sampling", "refining", "decoding")


@dataclass(frozen=True)
class StepProgress:
    """Where a job is: step of the current pass, time so far and left (whole job), and maybe a preview."""

    step: int
    total: int
    elapsed_s: float
    eta_s: float
    phase: str  # "encoding" | "sampling" | "refining" | "decoding"
    preview: Image | None
    image_index: int  # 0-based image of the batch
    image_count: int


class ProgressClock:
    """Estimates the time left from the cost of the steps done so far.

    Work is counted in step units weighted by each pass's token count, so a refine pass at 4× the pixels
    counts about 4× a base step.
    """

    def __init__(self, units_per_image: float, image_count: int) -> None:
        self.started = time.perf_counter()
        self.total_units = units_per_image * image_count
        self.done_units = 0.0

    @property
    def elapsed(self) -> float:
        """Seconds since the job started."""
        return time.perf_counter() - self.started

    def advance(self, units: float) -> None:
        """Record finished work."""
        self.done_units += units

    def eta(self) -> float:
        """Seconds left for the whole job at the rate seen so far (0 before the first step)."""
        if self.done_units <= 0:
            return 0.0
        remaining = max(0.0, self.total_units - self.done_units)
        return self.elapsed / self.done_units * remaining
