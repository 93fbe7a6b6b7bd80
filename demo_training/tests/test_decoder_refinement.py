"""Decoder refinement trains the decoder alone, so the latent space the transformer learns stays exactly the same."""

from __future__ import annotations

import copy

import torch

from demo_training.architecture import build_vae
from demo_training.data import draw_batch
from demo_training.shapes_world import all_scenes
from demo_training.vae_training import refine_decoder


def test_refinement_moves_the_decoder_and_leaves_the_encoder_and_its_latents_alone() -> None:
    vae = build_vae(widths=(8, 8, 8, 8), seed=4).eval().requires_grad_(False)
    original = copy.deepcopy(vae)
    refine_decoder(vae, steps=3, batch=1, resolution=64, log=lambda message: None, lr=1e-2)

    pixels = draw_batch(all_scenes()[:3], 96, 64, [0, 1, 2])
    with torch.no_grad():
        latents = vae.encode(pixels).latent_dist.mean
        torch.testing.assert_close(latents, original.encode(pixels).latent_dist.mean, atol=0, rtol=0)
        moved = (vae.decode(latents).sample - original.decode(latents).sample).abs().max()
    assert moved > 1e-3  # the decoder did learn
    assert not any(param.requires_grad for param in vae.parameters())  # handed back frozen, as the trainer expects
    assert not vae.training
