"""The samplers a user can pick, with the defaults PixArt-Σ was released with."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class SchedulerName(str, Enum):
    """Sampler names as they appear in the UI, the CLI and image metadata."""

    DPM_SOLVER = "dpm-solver++"
    DPM_SOLVER_KARRAS = "dpm-solver++-karras"
    SA_SOLVER = "sa-solver"
    EULER = "euler"
    DDIM = "ddim"

    @classmethod
    def parse(cls, text: str) -> SchedulerName:
        """Return the scheduler named `text`, or raise a ValueError listing the valid names."""
        try:
            return cls(text.strip().lower())
        except ValueError:
            valid = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown scheduler {text!r}; choose one of: {valid}") from None


@dataclass(frozen=True)
class SchedulerDefaults:
    """Steps and guidance that suit a sampler."""

    steps: int
    guidance_scale: float


SCHEDULER_DEFAULTS: dict[SchedulerName, SchedulerDefaults] = {
    SchedulerName.DPM_SOLVER: SchedulerDefaults(steps=20, guidance_scale=4.5),
    SchedulerName.DPM_SOLVER_KARRAS: SchedulerDefaults(steps=20, guidance_scale=4.5),
    SchedulerName.SA_SOLVER: SchedulerDefaults(steps=25, guidance_scale=3.0),
    SchedulerName.EULER: SchedulerDefaults(steps=30, guidance_scale=4.5),
    SchedulerName.DDIM: SchedulerDefaults(steps=50, guidance_scale=4.5),
}

DEFAULT_SCHEDULER = SchedulerName.DPM_SOLVER


def default_guidance(scheduler: SchedulerName, recommended: float | None) -> float:
    """The guidance a job gets unless the user sets one: the model's recommendation, else the sampler's default."""
    return recommended if recommended is not None else SCHEDULER_DEFAULTS[scheduler].guidance_scale
