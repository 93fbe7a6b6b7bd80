"""Tiled VAE decode: exact blending, agreement with the untiled decode, the threshold and the out-of-memory retry."""

from __future__ import annotations

import pytest
import torch
from diffusers import AutoencoderKL
from torch.nn.functional import interpolate

from app.core.engine_options import VaeTiling
from app.core.errors import InsufficientMemoryError
from app.core.memory_estimate import vae_activation_bytes, vae_tiled_activation_bytes
from app.engine.vae_decode import blend_tiles, decode_latents, encode_image, should_tile


@pytest.fixture(scope="module")
def vae() -> AutoencoderKL:
    """A tiny random VAE with the SDXL VAE's shape: 4 latent channels, 8 pixels per latent cell."""
    torch.manual_seed(0)
    return AutoencoderKL(
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(8, 8, 16, 16),
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=4,
        scaling_factor=0.13025,
    ).eval()


def _latents(height: int, width: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(1, 4, height, width, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize(("height", "width", "tile", "overlap"), [(40, 56, 16, 4), (33, 70, 24, 8), (16, 16, 16, 4)])
def test_blending_reassembles_a_pointwise_decoder_exactly(height, width, tile, overlap):
    """For a decoder without spatial context, tiles and blend weights rebuild the whole image exactly."""

    def decoder(x: torch.Tensor) -> torch.Tensor:
        return interpolate(torch.tanh(x[:, :3] * 2 + x[:, 3:]), scale_factor=8, mode="nearest")

    latents = _latents(height, width)
    tiled = blend_tiles(decoder, latents, height, width, in_scale=1, out_scale=8, tile=tile, overlap=overlap)
    assert tiled.shape == (1, 3, height * 8, width * 8)
    torch.testing.assert_close(tiled, decoder(latents), atol=1e-5, rtol=0)


def test_tiles_that_disagree_are_crossfaded_without_seams():
    """Tiles decoded with different offsets (as GroupNorm statistics differ per tile) meet without a visible step."""
    calls = []

    def decoder(x: torch.Tensor) -> torch.Tensor:
        calls.append(1)
        return torch.full((1, 3, x.shape[-2] * 8, x.shape[-1] * 8), 0.5 * len(calls))  # each tile a different level

    image = blend_tiles(decoder, _latents(40, 56), 40, 56, in_scale=1, out_scale=8, tile=16, overlap=4)
    steps_x = (image[..., 1:] - image[..., :-1]).abs().max()
    steps_y = (image[..., 1:, :] - image[..., :-1, :]).abs().max()
    assert len(calls) > 4
    assert max(steps_x, steps_y) < 0.5 * len(calls) / 32  # the largest level difference, spread over 32+ pixels


@torch.no_grad()
def test_tiled_decode_agrees_with_untiled_at_least_as_well_as_diffusers_tiling(vae):
    """Tiled and untiled decodes of the same latents agree closely, and closer than diffusers' own tiling."""
    latents = _latents(48, 64)
    whole = decode_latents(vae, latents, VaeTiling.OFF)
    ours = decode_latents(vae, latents, VaeTiling.ON, tile=32, overlap=8)
    vae.enable_tiling()
    vae.tile_latent_min_size, vae.tile_sample_min_size = 32, 256
    try:
        theirs = vae.decode(latents / vae.config.scaling_factor).sample
    finally:
        vae.disable_tiling()
    ours_error, theirs_error = (ours - whole).abs().mean(), (theirs - whole).abs().mean()
    assert ours.shape == whole.shape == (1, 3, 384, 512)
    assert ours_error < 0.03  # images span [-1, 1]
    assert ours_error <= theirs_error


@torch.no_grad()
def test_tiled_encode_agrees_with_untiled(vae):
    """The refine path's tiled VAE encode gives nearly the latents of an untiled encode (same posterior sample)."""
    image = torch.rand(1, 3, 256, 384, generator=torch.Generator().manual_seed(1)) * 2 - 1
    whole = encode_image(vae, image, torch.Generator().manual_seed(3), VaeTiling.OFF)
    tiled = encode_image(vae, image, torch.Generator().manual_seed(3), VaeTiling.ON, tile=24, overlap=8)
    assert tiled.shape == whole.shape == (1, 4, 32, 48)
    assert (tiled - whole).abs().mean() < 0.1 * whole.abs().mean()


def test_auto_tiles_above_the_threshold_or_when_memory_is_short(vae):
    """Auto tiling starts above the pixel threshold, or when an untiled pass would not fit; on/off are obeyed."""
    assert not should_tile(vae, 1024, 1024, VaeTiling.AUTO, None)
    assert should_tile(vae, 4096, 2304, VaeTiling.AUTO, None)
    assert should_tile(vae, 1024, 1024, VaeTiling.AUTO, available=1024)
    assert should_tile(vae, 256, 256, VaeTiling.ON, None)
    assert not should_tile(vae, 8192, 8192, VaeTiling.OFF, None)


@torch.no_grad()
def test_out_of_memory_retries_tiled(vae, monkeypatch):
    """An out-of-memory error in an untiled decode is retried tiled and still returns the whole image."""
    real_decode = vae.decode
    sizes = []

    def decode(z, return_dict=True):
        sizes.append(tuple(z.shape[-2:]))
        if z.shape[-1] > 24:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
        return real_decode(z, return_dict=return_dict)

    monkeypatch.setattr(vae, "decode", decode)
    image = decode_latents(vae, _latents(16, 40), VaeTiling.AUTO, tile=24, overlap=8)
    assert image.shape == (1, 3, 128, 320)
    assert sizes[0] == (16, 40) and all(w <= 24 for _, w in sizes[1:]) and len(sizes) >= 3


def test_out_of_memory_with_tiling_off_names_the_fix(vae, monkeypatch):
    """With tiling turned off, running out of memory says to turn tiled decode on."""

    def decode(z, return_dict=True):
        raise RuntimeError("MPS backend out of memory")

    monkeypatch.setattr(vae, "decode", decode)
    with pytest.raises(InsufficientMemoryError, match="tiled VAE decode"):
        decode_latents(vae, _latents(8, 8), VaeTiling.OFF)


def test_other_errors_are_not_mistaken_for_out_of_memory(vae, monkeypatch):
    """A decode error that is not out-of-memory propagates unchanged instead of being retried."""
    monkeypatch.setattr(vae, "decode", lambda z, return_dict=True: (_ for _ in ()).throw(RuntimeError("shape")))
    with pytest.raises(RuntimeError, match="shape"):
        decode_latents(vae, _latents(8, 8), VaeTiling.AUTO)


def test_tiled_estimate_is_one_tile_plus_the_float32_images_the_tiles_blend_into(vae):
    """A tiled pass holds one tile's activations, plus the weighted sum, weight sum and result at full size."""
    cpu, channels = "cpu", tuple(vae.config.block_out_channels)
    tile = vae_activation_bytes(channels, 768, 768, 4, cpu)
    for side in (2048, 4096):
        blend = (3 + 1 + 3) * side * side * 4
        assert vae_tiled_activation_bytes(channels, side, side, 768, 4, cpu) == tile + blend
    # An image smaller than a tile is one tile of its own size.
    small = vae_activation_bytes(channels, 512, 256, 4, cpu)
    assert vae_tiled_activation_bytes(channels, 512, 256, 768, 4, cpu) == small + 7 * 512 * 256 * 4
