"""FLOP counts of the PixArt transformer, with and without KV compression, for ideal speedups and compute floors.

Matrix products count 2 FLOPs per multiply-add; norms, activations and softmax are left out (they are memory
bound and a few percent of the total), so the counts are what the matrix units must do.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

TEXT_TOKENS = 300  # PixArt-Σ's T5 sequence length
_TIMESTEP_FEATURES = 256  # sinusoidal features the timestep MLP reads


def block_flops(grid_height: int, grid_width: int, width: int, text_tokens: int = TEXT_TOKENS, ratio: int = 1) -> dict:
    """FLOPs of one PixArt block on one sequence, by part; `ratio` > 1 compresses keys and values R×R."""
    tokens = grid_height * grid_width
    keys = (grid_height // ratio) * (grid_width // ratio)
    parts = {
        "self_projections": 4 * 2 * tokens * width * width,  # q, k, v on every token, then the output projection
        "self_attention": 2 * 2 * tokens * keys * width,  # QKᵀ and attention·V over all heads
        "kv_conv": 2 * 2 * keys * width * ratio * ratio if ratio > 1 else 0,  # depthwise R×R conv of k and v
        "cross_projections": 2 * 2 * tokens * width * width + 2 * 2 * text_tokens * width * width,
        "cross_attention": 2 * 2 * tokens * text_tokens * width,
        "mlp": 2 * 2 * tokens * width * 4 * width,
    }
    return parts


def step_flops(
    config: dict[str, Any],
    latent_height: int,
    latent_width: int,
    batch: int,
    compressed_layers: Iterable[int] = (),
    ratio: int = 2,
    text_tokens: int = TEXT_TOKENS,
) -> int:
    """FLOPs of one transformer forward (one denoising step; batch 2 with guidance) for a diffusers config."""
    patch = config["patch_size"]
    width = config["num_attention_heads"] * config["attention_head_dim"]
    grid_h, grid_w = latent_height // patch, latent_width // patch
    tokens = grid_h * grid_w
    compressed = set(compressed_layers)
    per_sequence = 2 * tokens * width * config["in_channels"] * patch * patch  # patch embedding conv
    per_sequence += 2 * text_tokens * (config["caption_channels"] * width + width * width)  # caption MLP
    per_sequence += 2 * (_TIMESTEP_FEATURES * width + width * width + width * 6 * width)  # timestep MLP, adaLN
    per_sequence += 2 * tokens * width * patch * patch * config["out_channels"]  # final projection
    for layer in range(config["num_layers"]):
        per_sequence += sum(
            block_flops(grid_h, grid_w, width, text_tokens, ratio if layer in compressed else 1).values()
        )
    return batch * per_sequence
