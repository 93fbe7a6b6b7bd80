"""Per-channel latent normalisation folded into the VAE: exact, and loadable by diffusers as an ordinary VAE."""

from __future__ import annotations

import copy
from pathlib import Path

import torch
from diffusers import AutoencoderKL

from demo_training.architecture import build_vae
from demo_training.data import draw_batch
from demo_training.shapes_world import all_scenes
from demo_training.vae_training import normalize_latent_channels


def _uneven_vae() -> AutoencoderKL:
    """A random tiny VAE whose latent channels have very different means and spreads, as trained ones do."""
    vae = build_vae(widths=(8, 8, 8, 8), seed=3).eval()
    with torch.no_grad():
        vae.quant_conv.weight[:4] *= torch.tensor([0.1, 3.0, 1.0, 0.5]).view(-1, 1, 1, 1)
        vae.quant_conv.bias[:4] += torch.tensor([2.0, -1.0, 0.0, 0.7])
    return vae


def test_channels_get_mean_zero_and_std_one_and_the_round_trip_is_unchanged(tmp_path: Path) -> None:
    vae = _uneven_vae()
    original = copy.deepcopy(vae)
    mean, std = normalize_latent_channels(vae, resolution=64, count=32)
    assert std.max() / std.min() > 10  # the test VAE really was uneven

    pixels = draw_batch(all_scenes()[:6], 96, 64, list(range(6)))  # other scenes and another shape than measured
    with torch.no_grad():
        before = original.decode(original.encode(pixels).latent_dist.mean).sample
        latents = vae.encode(pixels).latent_dist.mean
        after = vae.decode(latents).sample
        raw = original.encode(pixels).latent_dist.mean
    torch.testing.assert_close(after, before, atol=1e-4, rtol=0)
    torch.testing.assert_close(latents, (raw - mean.view(1, -1, 1, 1)) / std.view(1, -1, 1, 1), atol=1e-4, rtol=1e-4)
    assert vae.config.scaling_factor == 1.0

    # Saved and loaded by diffusers, it is an ordinary AutoencoderKL that decodes latents / scaling_factor as usual.
    vae.save_pretrained(tmp_path / "vae")
    loaded = AutoencoderKL.from_pretrained(tmp_path / "vae").eval()
    with torch.no_grad():
        reloaded = loaded.decode(loaded.encode(pixels).latent_dist.mean / loaded.config.scaling_factor).sample
    torch.testing.assert_close(reloaded, before, atol=1e-4, rtol=0)


def test_calibration_scenes_come_out_standardised() -> None:
    vae = _uneven_vae()
    normalize_latent_channels(vae, resolution=64, count=32)
    mean, std = normalize_latent_channels(copy.deepcopy(vae), resolution=64, count=32)  # measure once more
    torch.testing.assert_close(mean, torch.zeros(4), atol=1e-4, rtol=0)
    torch.testing.assert_close(std, torch.ones(4), atol=1e-4, rtol=0)
