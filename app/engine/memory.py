"""Estimate a job's peak memory before it starts, and refuse with suggestions when it cannot fit."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from app.core.engine_options import VaeTiling
from app.core.errors import InsufficientMemoryError
from app.core.sizes import GenerationPath, SizePlan, tiers

GIB = 1024**3
MAX_TEXT_TOKENS = 300
# Live tensors per transformer block relative to one hidden state: qkv (3), attention out (1), MLP (4), residuals (2)
# make ten by count; a whole 4K request with PixArt-Σ XL on an H200 peaked at twelve (docs/benchmarks.md), so we
# plan for twelve.
_BLOCK_ACTIVATION_FACTOR = 12
# Live full-resolution feature maps of the VAE decoder's last up block. Four by count (input, two convs, upsample
# output), but untiled SDXL-VAE decodes peaked at 7.5 on a CPU in float32 and at 9.5 on an H200 in bfloat16
# (docs/benchmarks.md; cuDNN's convolution workspaces take the rest), so we plan for a little more than each.
_VAE_ACTIVATION_FACTOR = {"cuda": 10}
_VAE_ACTIVATION_FACTOR_ELSEWHERE = 8
# Float32 values per pixel a tiled pass blends into: the weighted sum (3 channels), the weight sum (1) and the
# normalised result (3).
_BLEND_VALUES_PER_PIXEL = 7
# Fraction of the free memory a job may plan to use: estimates are rough and allocators fragment.
USABLE_FRACTION = 0.9


@dataclass(frozen=True)
class MemoryEstimate:
    """A job's expected peak memory on its device, split by phase."""

    weights: int  # already resident on the device
    sampling: int  # transformer activations at the largest sampled size
    decode: int  # VAE decode (or encode, for refine) at the chosen tiling
    tiled_decode: bool

    @property
    def activations(self) -> int:
        """Bytes the job needs beyond the resident weights: phases run one after another."""
        return max(self.sampling, self.decode)

    @property
    def peak(self) -> int:
        """Weights plus the largest phase."""
        return self.weights + self.activations


def module_bytes(module: nn.Module | None, device: torch.device) -> int:
    """Bytes of a module's parameters and buffers that live on `device`."""
    if module is None:
        return 0
    tensors = [*module.parameters(), *module.buffers()]
    return sum(t.numel() * t.element_size() for t in tensors if t.device.type == device.type)


def transformer_activation_bytes(
    transformer: nn.Module,
    latent_height: int,
    latent_width: int,
    batch: int,
    dtype: torch.dtype,
    device: torch.device,
    kv_ratio: int = 1,
) -> int:
    """Peak activation bytes of one transformer forward on `batch` latents (2 with guidance)."""
    config = transformer.config
    tokens = (latent_height // config.patch_size) * (latent_width // config.patch_size)
    hidden = config.num_attention_heads * config.attention_head_dim
    size = torch.empty((), dtype=dtype).element_size()
    total = _BLOCK_ACTIVATION_FACTOR * batch * tokens * hidden * size
    if device.type != "cuda":
        # Off CUDA the masked cross-attention takes the math path and materialises its scores.
        total += batch * config.num_attention_heads * tokens * MAX_TEXT_TOKENS * size
    if device.type == "mps":
        # MPS has no memory-efficient self-attention kernel: the full score matrix exists per head.
        total += batch * config.num_attention_heads * tokens * (tokens // (kv_ratio * kv_ratio)) * size
    return total


def vae_activation_bytes(vae: nn.Module, height: int, width: int, dtype: torch.dtype, device: torch.device) -> int:
    """Peak activation bytes of decoding (or encoding) one `width`×`height` image in one piece."""
    size = torch.empty((), dtype=dtype).element_size()
    channels = vae.config.block_out_channels[0]
    factor = _VAE_ACTIVATION_FACTOR.get(device.type, _VAE_ACTIVATION_FACTOR_ELSEWHERE)
    total = factor * channels * height * width * size
    total += 3 * height * width * 4  # the float32 image the decode hands back
    if device.type == "mps":
        factor = 2 ** (len(vae.config.block_out_channels) - 1)
        latent_tokens = (height // factor) * (width // factor)
        total += latent_tokens * latent_tokens * size  # mid-block attention scores
    return total


def vae_tiled_activation_bytes(
    vae: nn.Module, height: int, width: int, tile_pixels: int, dtype: torch.dtype, device: torch.device
) -> int:
    """Peak activation bytes of a tiled decode (or encode): one tile's pass plus the float32 image it blends into."""
    tile = vae_activation_bytes(vae, min(height, tile_pixels), min(width, tile_pixels), dtype, device)
    return tile + _BLEND_VALUES_PER_PIXEL * height * width * 4


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
        f"{plan.target_width}×{plan.target_height} needs about {estimate.activations / GIB:.1f} GiB more on "
        f"{device.type} but only {available / GIB:.1f} GiB is free; try " + ", or ".join(tips)
    )
