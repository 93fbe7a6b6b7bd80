"""Known-latent blending for inpaint, as diffusers' SDXL inpaint pipeline does for a model without mask inputs."""

from __future__ import annotations

import torch
from diffusers.schedulers.scheduling_utils import SchedulerMixin
from PIL import Image
from torch.nn.functional import adaptive_max_pool2d

from app.engine.modes.pixels import mask_array


def latent_mask(mask: Image.Image, latent_height: int, latent_width: int) -> torch.Tensor:
    """(1, 1, h, w) float32 in [0, 1]: a latent cell is repainted as much as the most-repainted pixel in it.

    The maximum, not the mean, so a thin brush stroke still repaints its cells; grey (partial) stays partial.
    """
    pixels = torch.from_numpy(mask_array(mask))[None, None]
    return adaptive_max_pool2d(pixels, (latent_height, latent_width))


class KnownLatents:
    """After each step, the source latents noised to the next timestep replace the latents where the mask keeps."""

    def __init__(
        self,
        scheduler: SchedulerMixin,
        source: torch.Tensor,
        noise: torch.Tensor,
        mask: torch.Tensor,
        timesteps: torch.Tensor,
    ) -> None:
        self.scheduler = scheduler
        self.source = source
        self.noise = noise
        self.mask = mask.to(source.device, source.dtype)
        self.timesteps = timesteps

    def __call__(self, index: int, latents: torch.Tensor) -> torch.Tensor:
        """Latents after step `index` with the kept area put back at the next step's noise level (clean at the end)."""
        known = self.source
        if index < len(self.timesteps) - 1:
            known = self.scheduler.add_noise(self.source, self.noise, self.timesteps[index + 1 : index + 2])
        return (1 - self.mask) * known + self.mask * latents
