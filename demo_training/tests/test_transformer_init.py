"""The demo transformer starts as PixArt's does: the text pathway grows from zero."""

from __future__ import annotations

import torch

from demo_training.architecture import TEXT_DIM, build_transformer


def test_a_fresh_transformer_ignores_the_caption_until_trained() -> None:
    """Zeroed cross-attention outputs: two different captions give the same hidden states at initialisation."""
    model = build_transformer(64, width=32, layers=2)
    latents = torch.randn(2, 4, 8, 8)
    mask = torch.ones(2, 5)
    timestep = torch.tensor([10, 900])
    inputs = {"encoder_attention_mask": mask, "timestep": timestep}
    features = {}
    model.norm_out.register_forward_hook(lambda _m, _i, out: features.__setitem__("last", out))
    with torch.no_grad():
        model(latents, encoder_hidden_states=torch.randn(2, 5, TEXT_DIM), **inputs)
        first = features["last"].clone()
        model(latents, encoder_hidden_states=torch.randn(2, 5, TEXT_DIM), **inputs)
    assert torch.equal(first, features["last"])
    assert model.proj_out.weight.abs().sum() == 0  # the first step's prediction is zero, as in PixArt


def test_the_text_pathway_gets_gradients_from_the_first_step() -> None:
    """Zero-initialised layers still learn: the cross-attention output projections receive a gradient."""
    model = build_transformer(64, width=32, layers=2)
    model.proj_out.weight.data.normal_(0, 0.02)  # as after the first optimiser step
    output = model(
        torch.randn(2, 4, 8, 8),
        encoder_hidden_states=torch.randn(2, 5, TEXT_DIM),
        encoder_attention_mask=torch.ones(2, 5),
        timestep=torch.tensor([10, 900]),
    ).sample
    output.pow(2).mean().backward()
    assert all(block.attn2.to_out[0].weight.grad.abs().sum() > 0 for block in model.transformer_blocks)
