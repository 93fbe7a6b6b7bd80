"""The loaded model's memory profile and resident bytes, and refusing a job with suggestions when it cannot fit."""

from __future__ import annotations

import torch
from diffusers import AutoencoderKL, PixArtTransformer2DModel
from torch import nn

from app.core.engine_options import VaeTiling
from app.core.errors import InsufficientMemoryError
from app.core.memory_estimate import USABLE_FRACTION, MemoryEstimate, ModelShape, format_gib
from app.core.sizes import GenerationPath, SizePlan, tiers


def model_shape(transformer: PixArtTransformer2DModel, vae: AutoencoderKL) -> ModelShape:
    """The config numbers of a loaded transformer and VAE that the core estimate needs."""
    config = transformer.config
    return ModelShape(
        num_heads=config.num_attention_heads,
        head_dim=config.attention_head_dim,
        patch_size=config.patch_size,
        num_layers=config.num_layers,
        vae_channels=tuple(vae.config.block_out_channels),
    )


def element_size(dtype: torch.dtype) -> int:
    """Bytes per value of `dtype`."""
    return torch.empty((), dtype=dtype).element_size()


def module_bytes(module: nn.Module | None, device: torch.device) -> int:
    """Bytes of a module's parameters and buffers that live on `device`."""
    if module is None:
        return 0
    tensors = [*module.parameters(), *module.buffers()]
    return sum(t.numel() * t.element_size() for t in tensors if t.device.type == device.type)


def suggestions(plan: SizePlan, native_resolution: int, tiling: VaeTiling, text_encoder_on_device: bool) -> list[str]:
    """What a user can change so that a job fits, most effective first."""
    tips = []
    lower = [t for t in tiers(native_resolution) if t.scale < plan.tier.scale]
    if lower:
        tips.append(f"a lower size tier ({lower[-1].label})")
    if plan.path is GenerationPath.DIRECT:
        tips.append("the refine path for high resolutions")
    if tiling is VaeTiling.OFF:
        tips.append("tiled VAE decode")
    if text_encoder_on_device:
        tips.append("the text encoder on the CPU")
    tips.append("a smaller output size")
    return tips


def check_fits(
    estimate: MemoryEstimate,
    available: int,
    device: torch.device,
    plan: SizePlan,
    native_resolution: int,
    tiling: VaeTiling,
    text_encoder_on_device: bool,
) -> None:
    """Raise InsufficientMemoryError, naming the need, the free memory and what to try, when a job cannot fit."""
    if estimate.activations <= available * USABLE_FRACTION:
        return
    tips = suggestions(plan, native_resolution, tiling, text_encoder_on_device)
    raise InsufficientMemoryError(
        f"{plan.target_width}×{plan.target_height} needs about {format_gib(estimate.activations)} more on "
        f"{device.type} but only {format_gib(available)} is free; try " + ", or ".join(tips)
    )
