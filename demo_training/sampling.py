"""A batched DPM-Solver++ sampler on precomputed prompt embeddings, for fast evaluation during training.

It runs the engine's own denoising loop on a batch (per-image CPU noise from the seed, the negative prompt's
embeddings stacked before the prompts' as the engine stacks them), so its images are the app's.
"""

from __future__ import annotations

import torch
from diffusers import AutoencoderKL, PixArtTransformer2DModel

from app.engine.denoise import Conditioning, denoise
from demo_training.architecture import VAE_SCALE, sampling_scheduler


@torch.no_grad()
def sample_images(
    transformer: PixArtTransformer2DModel,
    vae: AutoencoderKL,
    embeddings: torch.Tensor,
    masks: torch.Tensor,
    uncond: tuple[torch.Tensor, torch.Tensor],
    seeds: list[int],
    width: int,
    height: int,
    steps: int = 20,
    guidance_scale: float = 4.5,
) -> torch.Tensor:
    """Images (N, 3, H, W) in [-1, 1] for N prompt embeddings (N, L, d) with masks (N, L)."""
    count = len(seeds)
    noise_shape = (1, 4, height // VAE_SCALE, width // VAE_SCALE)
    latents = torch.cat([torch.randn(noise_shape, generator=torch.Generator("cpu").manual_seed(s)) for s in seeds])
    scheduler = sampling_scheduler()
    scheduler.set_timesteps(steps)
    latents = latents * scheduler.init_noise_sigma  # (N, 4, h, w)
    uncond_emb, uncond_mask = uncond  # (1, L, d), (1, L)
    cond = Conditioning(embeddings, masks, guidance_scale)  # (N, L, d), (N, L) without guidance
    if cond.guided:
        cond = Conditioning(
            torch.cat([uncond_emb.expand(count, -1, -1), embeddings]),  # (2N, L, d): all negatives, then all prompts
            torch.cat([uncond_mask.expand(count, -1), masks]),  # (2N, L)
            guidance_scale,
        )
    # DPM-Solver++ draws no noise while stepping, so the generator only satisfies the loop's signature.
    latents = denoise(transformer, scheduler, latents, scheduler.timesteps, cond, torch.Generator("cpu"))
    pixels = [vae.decode(latents[i : i + 32] / vae.config.scaling_factor).sample for i in range(0, count, 32)]
    return torch.cat(pixels).clamp(-1, 1)
