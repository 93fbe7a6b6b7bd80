"""VAE decode and encode, tiled with overlap and a linear blend above a size threshold or after out-of-memory."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from diffusers import AutoencoderKL
from diffusers.models.autoencoders.vae import DiagonalGaussianDistribution

from app.core.engine_options import VaeTiling
from app.core.errors import InsufficientMemoryError, is_out_of_memory
from app.core.memory_estimate import TILE_LATENTS, USABLE_FRACTION, tiles_by_policy, vae_activation_bytes
from app.engine.memory import element_size
from app.model.device_memory import free_cached_memory

OVERLAP_LATENTS = 24  # a quarter of a tile, blended linearly


def vae_scale_factor(vae: AutoencoderKL) -> int:
    """Pixels per latent cell."""
    return 2 ** (len(vae.config.block_out_channels) - 1)


def should_tile(vae: AutoencoderKL, height: int, width: int, tiling: VaeTiling, available: int | None) -> bool:
    """Tile when asked, or (auto) above the pixel threshold or when an untiled pass would not fit `available` bytes."""
    if tiling is not VaeTiling.AUTO or tiles_by_policy(height, width, tiling):
        return tiles_by_policy(height, width, tiling)
    if available is None:
        return False
    channels = tuple(vae.config.block_out_channels)
    need = vae_activation_bytes(channels, height, width, element_size(vae.dtype), vae.device.type)
    return need > available * USABLE_FRACTION


def _tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Evenly spread tile starts covering `length`, neighbours overlapping by at least `overlap`."""
    if length <= tile:
        return [0]
    count = math.ceil((length - overlap) / (tile - overlap))
    return [round(i * (length - tile) / (count - 1)) for i in range(count)]


def _ramp(size: int, rise: int, fall: int, device: torch.device) -> torch.Tensor:
    """1D blend weights: linear up over `rise` cells, flat, linear down over `fall` cells; never zero."""
    weights = torch.ones(size, device=device)
    if rise > 0:
        weights[:rise] = (torch.arange(rise, device=device) + 0.5) / rise
    if fall > 0:
        weights[size - fall :] = torch.minimum(
            weights[size - fall :], (torch.arange(fall, 0, -1, device=device) - 0.5) / fall
        )
    return weights


def blend_tiles(
    fn: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    grid_height: int,
    grid_width: int,
    in_scale: int,
    out_scale: int,
    tile: int = TILE_LATENTS,
    overlap: int = OVERLAP_LATENTS,
) -> torch.Tensor:
    """Apply `fn` to overlapping tiles of `x` and crossfade the results linearly where tiles overlap.

    Tiles are laid out on a grid of `grid_height`×`grid_width` cells (latent cells); one cell is `in_scale`
    elements of `x` and `out_scale` elements of the output, so the same layout serves decode and encode.
    """
    rows, cols = _tile_starts(grid_height, tile, overlap), _tile_starts(grid_width, tile, overlap)
    tile_h, tile_w = min(tile, grid_height), min(tile, grid_width)
    output: torch.Tensor | None = None
    weight_sum = torch.zeros(grid_height * out_scale, grid_width * out_scale, device=x.device)
    for i, top in enumerate(rows):
        rise_h = (rows[i - 1] + tile_h - top) * out_scale if i > 0 else 0
        fall_h = (top + tile_h - rows[i + 1]) * out_scale if i + 1 < len(rows) else 0
        for j, left in enumerate(cols):
            rise_w = (cols[j - 1] + tile_w - left) * out_scale if j > 0 else 0
            fall_w = (left + tile_w - cols[j + 1]) * out_scale if j + 1 < len(cols) else 0
            piece = x[..., top * in_scale : (top + tile_h) * in_scale, left * in_scale : (left + tile_w) * in_scale]
            result = fn(piece).float()  # (B, C, tile_h * out_scale, tile_w * out_scale)
            if output is None:
                output = torch.zeros(*result.shape[:2], *weight_sum.shape, device=x.device)
            weight = torch.outer(
                _ramp(result.shape[-2], rise_h, fall_h, x.device), _ramp(result.shape[-1], rise_w, fall_w, x.device)
            )
            y, x0 = top * out_scale, left * out_scale
            output[..., y : y + result.shape[-2], x0 : x0 + result.shape[-1]] += result * weight
            weight_sum[y : y + result.shape[-2], x0 : x0 + result.shape[-1]] += weight
            del result
    assert output is not None
    return output / weight_sum


def _whole_or_tiled(
    whole: Callable[[], torch.Tensor],
    tiled: Callable[[], torch.Tensor],
    tile_first: bool,
    tiling: VaeTiling,
    device: torch.device,
    what: str,
) -> torch.Tensor:
    """Run `tiled` when chosen up front, else `whole`, retrying tiled after out-of-memory unless tiling is off."""
    if tile_first:
        return tiled()
    try:
        return whole()
    except RuntimeError as error:
        if not is_out_of_memory(error):
            raise
        free_cached_memory(device)
        if tiling is VaeTiling.OFF:
            raise InsufficientMemoryError(f"{what} ran out of memory; turn on tiled VAE decode") from error
    return tiled()


def decode_latents(
    vae: AutoencoderKL,
    latents: torch.Tensor,
    tiling: VaeTiling = VaeTiling.AUTO,
    available: int | None = None,
    tile: int = TILE_LATENTS,
    overlap: int = OVERLAP_LATENTS,
) -> torch.Tensor:
    """Scaled latents → float32 images in [-1, 1], as diffusers' PixArt pipeline decodes (tiled when needed)."""
    factor = vae_scale_factor(vae)
    z = latents.to(vae.dtype) / vae.config.scaling_factor
    grid_h, grid_w = z.shape[-2:]

    def decode(piece: torch.Tensor) -> torch.Tensor:
        return vae.decode(piece, return_dict=False)[0]

    return _whole_or_tiled(
        lambda: decode(z).float(),
        lambda: blend_tiles(decode, z, grid_h, grid_w, in_scale=1, out_scale=factor, tile=tile, overlap=overlap),
        should_tile(vae, grid_h * factor, grid_w * factor, tiling, available),
        tiling,
        z.device,
        f"decoding a {grid_w * factor}×{grid_h * factor} image",
    )


def encode_image(
    vae: AutoencoderKL,
    image: torch.Tensor,
    generator: torch.Generator,
    tiling: VaeTiling = VaeTiling.AUTO,
    available: int | None = None,
    tile: int = TILE_LATENTS,
    overlap: int = OVERLAP_LATENTS,
) -> torch.Tensor:
    """Images in [-1, 1] → scaled latents sampled from the posterior with `generator`, as diffusers' img2img does."""
    factor = vae_scale_factor(vae)
    pixels = image.to(vae.device, vae.dtype)
    height, width = pixels.shape[-2:]

    def moments(piece: torch.Tensor) -> torch.Tensor:
        dist = vae.encode(piece).latent_dist
        return torch.cat([dist.mean, dist.logvar], dim=1)

    params = _whole_or_tiled(
        lambda: moments(pixels).float(),
        lambda: blend_tiles(
            moments, pixels, height // factor, width // factor, in_scale=factor, out_scale=1, tile=tile, overlap=overlap
        ),
        should_tile(vae, height, width, tiling, available),
        tiling,
        pixels.device,
        f"encoding a {width}×{height} image",
    )
    dist = DiagonalGaussianDistribution(params.to(vae.dtype))
    return dist.sample(generator=generator) * vae.config.scaling_factor
