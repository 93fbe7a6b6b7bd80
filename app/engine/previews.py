"""Live previews: the predicted clean latent mapped linearly to RGB, without running the VAE."""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass

import numpy as np
import torch
from diffusers import AutoencoderKL
from PIL import Image
from torch.nn.functional import avg_pool2d, interpolate

from app.core.engine_options import VaeTiling
from app.engine.vae_decode import decode_latents, vae_scale_factor

MAX_PREVIEW_SIDE = 512
# SDXL VAE (PixArt-Σ's): rows are latent channels, columns R, G, B; they act on the scaled latent.
SDXL_LATENT_RGB = (
    (0.3651, 0.4232, 0.4341),
    (-0.2533, -0.0042, 0.1068),
    (0.1076, 0.1111, -0.0362),
    (-0.3165, -0.2492, -0.2188),
)
SDXL_LATENT_RGB_BIAS = (0.1084, -0.0175, -0.0011)
SDXL_SCALING_FACTOR = 0.13025

_FIT_SAMPLES = 4
_FIT_GRID = 16  # latent cells per side of each fitting sample
# A fitted map whose mean error (on [-1, 1] pixels) is above this paints wrong colours; such a VAE's previews are
# decoded by the VAE itself when that is cheap, else skipped.
MAX_LINEAR_ERROR = 0.1
# Decoding a preview costs a VAE pass; up to this many latent cells (a 512² image at 8×) it is a small fraction of
# a step.
MAX_DECODED_PREVIEW_CELLS = 64 * 64
_fitted: weakref.WeakKeyDictionary[AutoencoderKL, LatentRGBMap | None] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class LatentRGBMap:
    """A linear map from scaled latent channels to RGB in [-1, 1]."""

    weight: torch.Tensor  # (latent channels, 3)
    bias: torch.Tensor  # (3,)
    error: float = 0.0  # mean absolute error of the fit, on [-1, 1] pixels

    def apply(self, latents: torch.Tensor) -> torch.Tensor:
        """(B, C, h, w) scaled latents → (B, 3, h, w) RGB in about [-1, 1]."""
        x = latents.float().movedim(1, -1)  # B, h, w, C
        rgb = x @ self.weight.to(x.device) + self.bias.to(x.device)  # B, h, w, 3
        return rgb.movedim(-1, 1)


def sdxl_map() -> LatentRGBMap:
    """The SDXL latent→RGB map of ComfyUI and A1111's fast previews."""
    return LatentRGBMap(torch.tensor(SDXL_LATENT_RGB), torch.tensor(SDXL_LATENT_RGB_BIAS))


def is_sdxl_vae(vae: AutoencoderKL) -> bool:
    """True for a VAE whose latents the SDXL map describes (4 channels at SDXL's scaling factor)."""
    return vae.config.latent_channels == 4 and math.isclose(vae.config.scaling_factor, SDXL_SCALING_FACTOR)


@torch.no_grad()
def fit_latent_rgb_map(vae: AutoencoderKL, seed: int = 0) -> LatentRGBMap:
    """Least-squares latent→RGB map for any VAE: decode a few smooth random latents and regress pooled pixels."""
    generator = torch.Generator("cpu").manual_seed(seed)
    channels = vae.config.latent_channels
    coarse = torch.randn(_FIT_SAMPLES, channels, 4, 4, generator=generator)
    # Smooth latents decode to smooth images, so pooling pixels onto latent cells loses little.
    latents = interpolate(coarse, size=(_FIT_GRID, _FIT_GRID), mode="bilinear", align_corners=False)
    images = decode_latents(vae, latents.to(vae.device), VaeTiling.OFF).cpu()
    pooled = avg_pool2d(images, vae_scale_factor(vae))  # S, 3, grid, grid
    x = latents.movedim(1, -1).reshape(-1, channels).double()
    x = torch.cat([x, torch.ones(len(x), 1, dtype=x.dtype)], dim=1)
    y = pooled.movedim(1, -1).reshape(-1, 3).double()
    solution = torch.linalg.lstsq(x, y).solution  # C + 1, 3
    error = (x @ solution - y).abs().mean().item()
    solution = solution.float()
    return LatentRGBMap(solution[:-1], solution[-1], error)


def latent_rgb_map_for(vae: AutoencoderKL) -> LatentRGBMap | None:
    """The SDXL map for an SDXL VAE, else a map fitted once per VAE; None when fitting fails (no previews)."""
    if is_sdxl_vae(vae):
        return sdxl_map()
    if vae not in _fitted:
        try:
            _fitted[vae] = fit_latent_rgb_map(vae)
        except (RuntimeError, ValueError):
            _fitted[vae] = None
    return _fitted[vae]


def decode_previews_instead(rgb_map: LatentRGBMap | None, latent_height: int, latent_width: int) -> bool:
    """True when the linear map cannot paint this VAE's colours but decoding a preview is cheap enough."""
    unusable = rgb_map is None or rgb_map.error > MAX_LINEAR_ERROR
    return unusable and latent_height * latent_width <= MAX_DECODED_PREVIEW_CELLS


@torch.no_grad()
def decoded_preview(vae: AutoencoderKL, latent: torch.Tensor, width: int, height: int) -> Image.Image:
    """A (1, C, h, w) predicted clean latent decoded by the VAE itself, at most 512 px."""
    image = decode_latents(vae, latent[:1].to(vae.device, vae.dtype), VaeTiling.OFF).float()
    out_w, out_h = preview_size(width, height)
    image = interpolate(image, size=(out_h, out_w), mode="bilinear", align_corners=False)
    pixels = ((image[0] + 1) / 2).clamp(0, 1).mul(255).round().to(torch.uint8)
    return Image.fromarray(np.ascontiguousarray(pixels.permute(1, 2, 0).cpu().numpy()))


def preview_size(width: int, height: int, max_side: int = MAX_PREVIEW_SIDE) -> tuple[int, int]:
    """The image's size scaled down so its longer side is at most `max_side`."""
    scale = min(1.0, max_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def preview_image(latent: torch.Tensor, rgb_map: LatentRGBMap, width: int, height: int) -> Image.Image:
    """A (1, C, h, w) predicted clean latent as a preview of a `width`×`height` image, at most 512 px."""
    rgb = rgb_map.apply(latent[:1])
    out_w, out_h = preview_size(width, height)
    rgb = interpolate(rgb, size=(out_h, out_w), mode="bilinear", align_corners=False)
    pixels = ((rgb[0] + 1) / 2).clamp(0, 1).mul(255).round().to(torch.uint8)
    return Image.fromarray(np.ascontiguousarray(pixels.permute(1, 2, 0).cpu().numpy()))
