"""Previews: the SDXL latent→RGB map, a map fitted for other VAEs, and the 512-pixel cap."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import torch
from diffusers import AutoencoderKL
from torch import nn
from torch.nn.functional import interpolate

from app.engine.previews import (
    MAX_LINEAR_ERROR,
    MAX_PREVIEW_SIDE,
    LatentRGBMap,
    decode_previews_instead,
    decoded_preview,
    fit_latent_rgb_map,
    is_sdxl_vae,
    latent_rgb_map_for,
    preview_image,
    preview_size,
    sdxl_map,
)


def test_sdxl_map_is_the_published_linear_map_on_scaled_latents():
    """A latent cell maps to RGB by the issue's matrix and bias, then [-1, 1] → [0, 255]."""
    latent = torch.tensor([0.5, -1.0, 0.25, 2.0]).reshape(1, 4, 1, 1)
    factors = np.array(
        [[0.3651, 0.4232, 0.4341], [-0.2533, -0.0042, 0.1068], [0.1076, 0.1111, -0.0362], [-0.3165, -0.2492, -0.2188]]
    )
    expected = np.array([0.5, -1.0, 0.25, 2.0]) @ factors + np.array([0.1084, -0.0175, -0.0011])
    image = preview_image(latent, sdxl_map(), 1, 1)
    assert np.abs(np.asarray(image)[0, 0] - np.round(np.clip((expected + 1) / 2, 0, 1) * 255)).max() <= 1


def test_preview_keeps_the_aspect_and_caps_the_long_side():
    """Previews are the image's aspect, at most 512 px on the long side, never upscaled beyond the image."""
    assert preview_size(4096, 2304) == (MAX_PREVIEW_SIDE, 288)
    assert preview_size(1080, 2400) == (230, MAX_PREVIEW_SIDE)
    assert preview_size(256, 192) == (256, 192)
    image = preview_image(torch.zeros(1, 4, 9, 16), sdxl_map(), 4096, 2304)
    assert image.size == (512, 288) and image.mode == "RGB"


class _LinearVae(nn.Module):
    """A stand-in VAE whose decoder is exactly linear per latent cell, so the true map is known."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor, scaling_factor: float) -> None:
        super().__init__()
        self.weight, self.bias = weight, bias
        self.config = SimpleNamespace(
            latent_channels=weight.shape[0], scaling_factor=scaling_factor, block_out_channels=(8, 8, 8)
        )
        self.anchor = nn.Parameter(torch.zeros(1))

    @property
    def dtype(self) -> torch.dtype:
        return torch.float32

    @property
    def device(self) -> torch.device:
        return torch.device("cpu")

    def decode(self, z: torch.Tensor, return_dict: bool = True):
        rgb = torch.einsum("bchw,cr->brhw", z, self.weight) + self.bias[None, :, None, None]
        return (interpolate(rgb, scale_factor=4, mode="nearest"),)


def test_fitted_map_recovers_a_linear_decoder_with_other_latent_channels():
    """For a VAE with 8 latent channels the least-squares fit finds its latent→RGB map (on scaled latents)."""
    generator = torch.Generator().manual_seed(0)
    weight, bias = torch.randn(8, 3, generator=generator) * 0.3, torch.randn(3, generator=generator) * 0.1
    vae = _LinearVae(weight, bias, scaling_factor=0.5)
    fitted = fit_latent_rgb_map(vae)
    torch.testing.assert_close(fitted.weight, weight / 0.5, atol=1e-4, rtol=0)
    torch.testing.assert_close(fitted.bias, bias, atol=1e-4, rtol=0)
    assert latent_rgb_map_for(vae) is latent_rgb_map_for(vae)  # fitted once, then cached


def test_sdxl_shaped_vae_uses_the_sdxl_map_and_others_are_fitted():
    """The SDXL map is used only for 4-channel latents at SDXL's scaling factor."""
    sdxl_like = AutoencoderKL(block_out_channels=(8,), norm_num_groups=4, latent_channels=4, scaling_factor=0.13025)
    other = AutoencoderKL(block_out_channels=(8,), norm_num_groups=4, latent_channels=4, scaling_factor=0.18215)
    assert is_sdxl_vae(sdxl_like) and not is_sdxl_vae(other)
    torch.testing.assert_close(latent_rgb_map_for(sdxl_like).weight, sdxl_map().weight)
    assert latent_rgb_map_for(other).weight.shape == (4, 3)


def test_a_linear_fit_is_kept_and_reports_its_error():
    """A VAE that really is linear fits with no error, so its previews use the fast map."""
    generator = torch.Generator().manual_seed(1)
    vae = _LinearVae(torch.randn(4, 3, generator=generator) * 0.3, torch.zeros(3), scaling_factor=0.5)
    fitted = fit_latent_rgb_map(vae)
    assert fitted.error < 1e-4
    assert not decode_previews_instead(fitted, 16, 16)


def test_a_vae_no_linear_map_describes_gets_decoded_previews_when_small():
    """When the linear fit paints wrong colours, small previews are decoded by the VAE and large ones skipped."""
    poor = LatentRGBMap(torch.zeros(4, 3), torch.zeros(3), error=MAX_LINEAR_ERROR * 2)
    assert decode_previews_instead(poor, 16, 16)
    assert decode_previews_instead(None, 16, 16)
    assert not decode_previews_instead(poor, 256, 256)  # a 2K image: a VAE pass per preview costs too much


def test_decoded_preview_shows_what_the_vae_decodes():
    """A decoded preview is the VAE's own image of the latent, scaled to the preview size."""
    vae = AutoencoderKL(block_out_channels=(8,), norm_num_groups=4, latent_channels=4).eval()
    latent = torch.randn(1, 4, 16, 24, generator=torch.Generator().manual_seed(2))
    preview = decoded_preview(vae, latent, 24, 16)
    with torch.no_grad():
        expected = ((vae.decode(latent / vae.config.scaling_factor).sample[0] + 1) / 2).clamp(0, 1) * 255
    assert preview.size == (24, 16)
    assert np.abs(np.asarray(preview, dtype=float) - expected.permute(1, 2, 0).numpy()).max() <= 1.0
