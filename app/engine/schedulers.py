"""Build diffusers schedulers for the sampler names a user picks, from the model folder's scheduler config."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from diffusers import (
    DDIMScheduler,
    DPMSolverMultistepScheduler,
    EulerDiscreteScheduler,
    SASolverScheduler,
)
from diffusers.schedulers.scheduling_utils import SchedulerMixin

from app.core.schedulers import SchedulerName


def _sa_solver_tau(t: float) -> float:
    """PixArt-Σ's SA-Solver stochasticity: SDE in the middle of the schedule, ODE at both ends."""
    return 1.0 if 200 <= t <= 800 else 0.0


def make_scheduler(name: SchedulerName, config: Mapping[str, Any]) -> SchedulerMixin:
    """A fresh scheduler (they are stateful, so one per image) for `name`, built from a model's scheduler config."""
    config = dict(config)
    if name is SchedulerName.DPM_SOLVER:
        return DPMSolverMultistepScheduler.from_config(config, algorithm_type="dpmsolver++", solver_order=2)
    if name is SchedulerName.DPM_SOLVER_KARRAS:
        return DPMSolverMultistepScheduler.from_config(
            config, algorithm_type="dpmsolver++", solver_order=2, use_karras_sigmas=True
        )
    if name is SchedulerName.SA_SOLVER:
        # The settings of PixArt-Σ's own demo app (PixArt-alpha/PixArt-sigma, app.py).
        return SASolverScheduler.from_config(
            config, algorithm_type="data_prediction", tau_func=_sa_solver_tau, predictor_order=2, corrector_order=2
        )
    if name is SchedulerName.EULER:
        return EulerDiscreteScheduler.from_config(config)
    if name is SchedulerName.DDIM:
        # DDIM's default clips x0 to [-1, 1], which is right for pixels and wrong for latents.
        return DDIMScheduler.from_config(config, clip_sample=False)
    raise ValueError(f"scheduler {name!r} has no diffusers mapping")


def img2img_timesteps(
    scheduler: SchedulerMixin, steps: int, strength: float, device: torch.device | None = None
) -> torch.Tensor:
    """Set `steps` timesteps and keep the last `strength` part of them, as diffusers' img2img pipelines do.

    At least one step always runs, so a tiny strength still refines rather than returning the input unchanged.
    """
    scheduler.set_timesteps(steps, device=device)
    init_steps = max(1, min(int(steps * strength), steps))
    start = steps - init_steps
    order = getattr(scheduler, "order", 1)
    if hasattr(scheduler, "set_begin_index"):
        scheduler.set_begin_index(start * order)
    return scheduler.timesteps[start * order :]


def predicted_clean_latent(
    scheduler: SchedulerMixin, scaled_sample: torch.Tensor, noise_pred: torch.Tensor, timestep: torch.Tensor
) -> torch.Tensor:
    """x0 from an epsilon prediction at `timestep`, using the variance-preserving form of the (scaled) model input.

    Every scheduler here shares `alphas_cumprod`; Euler's input is brought to that form by `scale_model_input`.
    """
    alphas_cumprod = scheduler.alphas_cumprod
    index = int(torch.as_tensor(timestep).round().clamp(0, len(alphas_cumprod) - 1).item())
    alpha_bar = alphas_cumprod[index].to(scaled_sample.device, torch.float32)
    sample = scaled_sample.float()
    return (sample - (1 - alpha_bar).sqrt() * noise_pred.float()) / alpha_bar.sqrt()
