"""The denoising loop of diffusers' PixArt-Σ pipeline, with a cancel check, previews and a non-finite check."""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from diffusers.schedulers.scheduling_utils import SchedulerMixin
from torch import nn

from app.core.errors import GenerationCancelledError, GenerationFailedError
from app.engine.prompt_encoding import EncodedText
from app.engine.schedulers import predicted_clean_latent

# Called after every step with (step, total, predicted clean latent on preview steps else None).
StepCallback = Callable[[int, int, "torch.Tensor | None"], None]
# Called after the scheduler's step i with the new latents; returns the latents the next step starts from.
AfterStep = Callable[[int, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Conditioning:
    """Text conditioning of one image: [negative, positive] when guidance is on, as diffusers concatenates it."""

    embeds: torch.Tensor
    mask: torch.Tensor
    guidance_scale: float

    @property
    def guided(self) -> bool:
        """Classifier-free guidance runs for scales above 1, as in diffusers."""
        return self.guidance_scale > 1.0

    @classmethod
    def build(cls, positive: EncodedText, negative: EncodedText, guidance_scale: float) -> Conditioning:
        """Stack the negative and positive encodings when guidance is on."""
        if guidance_scale > 1.0:
            return cls(
                torch.cat([negative.embeds, positive.embeds]), torch.cat([negative.mask, positive.mask]), guidance_scale
            )
        return cls(positive.embeds, positive.mask, guidance_scale)


def step_kwargs(scheduler: SchedulerMixin, generator: torch.Generator, eta: float = 0.0) -> dict[str, Any]:
    """`eta` and `generator` for schedulers whose step takes them (DDIM, SA-Solver), as diffusers passes them."""
    accepted = set(inspect.signature(scheduler.step).parameters)
    kwargs: dict[str, Any] = {}
    if "eta" in accepted:
        kwargs["eta"] = eta
    if "generator" in accepted:
        kwargs["generator"] = generator
    return kwargs


def check_finite(tensor: torch.Tensor, what: str) -> None:
    """Raise GenerationFailedError when `tensor` holds NaN or inf, instead of letting it become a black image."""
    if not bool(torch.isfinite(tensor).all()):
        raise GenerationFailedError(
            f"the {what} contain NaN or infinite values; the model's weights or the chosen precision are broken "
            "for this request (try fp32 or bf16, another seed, or fewer steps)"
        )


@torch.no_grad()
def denoise(
    transformer: nn.Module,
    scheduler: SchedulerMixin,
    latents: torch.Tensor,
    timesteps: torch.Tensor,
    cond: Conditioning,
    generator: torch.Generator,
    on_step: StepCallback | None = None,
    cancel_event: threading.Event | None = None,
    preview_every: int = 0,
    after_step: AfterStep | None = None,
) -> torch.Tensor:
    """Run the steps of `timesteps` from `latents`; raises GenerationCancelledError before a step once cancelled.

    `after_step` lets inpainting put the known latents back after every step, as diffusers' inpaint pipelines do.
    """
    latent_channels = transformer.config.in_channels
    learned_sigma = transformer.config.out_channels // 2 == latent_channels
    extra = step_kwargs(scheduler, generator)
    added_cond_kwargs = {"resolution": None, "aspect_ratio": None}
    total = len(timesteps)
    for i, t in enumerate(timesteps):
        if cancel_event is not None and cancel_event.is_set():
            raise GenerationCancelledError("generation cancelled")
        model_input = torch.cat([latents] * 2) if cond.guided else latents
        model_input = scheduler.scale_model_input(model_input, t)
        timestep = t[None] if t.ndim == 0 else t
        timestep = timestep.to(model_input.device).expand(model_input.shape[0])

        noise_pred = transformer(
            model_input,
            encoder_hidden_states=cond.embeds,
            encoder_attention_mask=cond.mask,
            timestep=timestep,
            added_cond_kwargs=added_cond_kwargs,
            return_dict=False,
        )[0]
        if cond.guided:
            uncond, text = noise_pred.chunk(2)
            noise_pred = uncond + cond.guidance_scale * (text - uncond)
        if learned_sigma:
            noise_pred = noise_pred.chunk(2, dim=1)[0]  # the first half is epsilon, the rest the learned variance

        preview = None
        if preview_every > 0 and (i + 1) % preview_every == 0:
            preview = predicted_clean_latent(scheduler, model_input[: latents.shape[0]], noise_pred, t)
            check_finite(preview, "predicted latents")
        latents = scheduler.step(noise_pred, t, latents, **extra, return_dict=False)[0]
        if after_step is not None:
            latents = after_step(i, latents)
        if on_step is not None:
            on_step(i + 1, total, preview)
    return latents
