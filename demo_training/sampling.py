"""A batched DPM-Solver++ sampler on precomputed prompt embeddings, for fast evaluation during training.

It follows diffusers' PixArtSigmaPipeline step for step (per-image CPU noise from the seed, classifier-free
guidance on all output channels, then the learned-sigma half dropped), so its images match the app's engine.
"""

from __future__ import annotations

import torch
from diffusers import AutoencoderKL, PixArtTransformer2DModel

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
    context = torch.cat([uncond_emb.expand(count, -1, -1), embeddings])  # (2N, L, d)
    context_mask = torch.cat([uncond_mask.expand(count, -1), masks])  # (2N, L)
    for t in scheduler.timesteps:
        model_input = scheduler.scale_model_input(torch.cat([latents, latents]), t)  # (2N, 4, h, w)
        timestep = t.expand(2 * count)
        output = transformer(
            model_input, encoder_hidden_states=context, encoder_attention_mask=context_mask, timestep=timestep
        ).sample  # (2N, 8, h, w)
        out_uncond, out_cond = output.chunk(2)
        guided = out_uncond + guidance_scale * (out_cond - out_uncond)  # (N, 8, h, w)
        epsilon = guided.chunk(2, dim=1)[0]  # (N, 4, h, w): the learned sigma is not used by DPM-Solver
        latents = scheduler.step(epsilon, t, latents).prev_sample
    pixels = [vae.decode(latents[i : i + 32] / vae.config.scaling_factor).sample for i in range(0, count, 32)]
    return torch.cat(pixels).clamp(-1, 1)
