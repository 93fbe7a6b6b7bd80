"""Tiny random PixArt transformers and original-format checkpoints, built in memory for the model tests."""

from __future__ import annotations

import torch
from diffusers import PixArtTransformer2DModel

WIDTH, HEADS, HEAD_DIM, LAYERS, CAPTION = 16, 2, 8, 4, 32


def tiny_config(**overrides) -> dict:
    """Config of a 4-block, 16-wide PixArt transformer trained (nominally) at 64 px."""
    config = {
        "num_attention_heads": HEADS,
        "attention_head_dim": HEAD_DIM,
        "in_channels": 4,
        "out_channels": 8,
        "num_layers": LAYERS,
        "cross_attention_dim": WIDTH,
        "sample_size": 8,
        "patch_size": 2,
        "norm_num_groups": 1,
        "caption_channels": CAPTION,
        "interpolation_scale": 0.125,
        "use_additional_conditions": False,
    }
    config.update(overrides)
    return config


def tiny_transformer(seed: int = 0, **overrides) -> PixArtTransformer2DModel:
    """A tiny transformer whose every weight is random (no zero-initialised layers hiding mistakes)."""
    torch.manual_seed(seed)
    model = PixArtTransformer2DModel(**tiny_config(**overrides))
    with torch.no_grad():
        for param in model.parameters():
            param.copy_(torch.randn_like(param) * 0.3)
    return model.eval()


def tiny_inputs(height: int, width: int, batch: int = 2, dtype: torch.dtype = torch.float32, seed: int = 1) -> dict:
    """Forward arguments for a latent of height×width (token grid height/2 × width/2)."""
    generator = torch.Generator().manual_seed(seed)
    return {
        "hidden_states": torch.randn(batch, 4, height, width, generator=generator).to(dtype),
        "encoder_hidden_states": torch.randn(batch, 5, CAPTION, generator=generator).to(dtype),
        "timestep": torch.tensor([10, 700][:batch]),
    }


def original_state_dict(
    width: int = WIDTH,
    depth: int = LAYERS,
    caption: int = CAPTION,
    kv_layers: tuple[int, ...] = (),
    ratio: int = 2,
    micro_conditions: bool = False,
    device: str = "cpu",
    seed: int = 0,
) -> dict[str, torch.Tensor]:
    """An original-format PixArt state dict with random tensors, written from the original model's key names."""
    generator = torch.Generator().manual_seed(seed)

    def rand(*shape: int) -> torch.Tensor:
        if device == "meta":
            return torch.empty(*shape, device="meta")
        return torch.randn(*shape, generator=generator) * 0.3

    sd = {
        "x_embedder.proj.weight": rand(width, 4, 2, 2),
        "x_embedder.proj.bias": rand(width),
        "t_embedder.mlp.0.weight": rand(width, 256),
        "t_embedder.mlp.0.bias": rand(width),
        "t_embedder.mlp.2.weight": rand(width, width),
        "t_embedder.mlp.2.bias": rand(width),
        "t_block.1.weight": rand(6 * width, width),
        "t_block.1.bias": rand(6 * width),
        "y_embedder.y_proj.fc1.weight": rand(width, caption),
        "y_embedder.y_proj.fc1.bias": rand(width),
        "y_embedder.y_proj.fc2.weight": rand(width, width),
        "y_embedder.y_proj.fc2.bias": rand(width),
        "y_embedder.y_embedding": rand(7, caption),
        "pos_embed": rand(1, 16, width),
        "final_layer.linear.weight": rand(2 * 2 * 8, width),
        "final_layer.linear.bias": rand(2 * 2 * 8),
        "final_layer.scale_shift_table": rand(2, width),
    }
    if micro_conditions:
        for name in ("csize_embedder", "ar_embedder"):
            third = width // 3
            sd |= {
                f"{name}.mlp.0.weight": rand(third, 256),
                f"{name}.mlp.0.bias": rand(third),
                f"{name}.mlp.2.weight": rand(third, third),
                f"{name}.mlp.2.bias": rand(third),
            }
    for i in range(depth):
        b = f"blocks.{i}."
        sd |= {
            b + "scale_shift_table": rand(6, width),
            b + "attn.qkv.weight": rand(3 * width, width),
            b + "attn.qkv.bias": rand(3 * width),
            b + "attn.proj.weight": rand(width, width),
            b + "attn.proj.bias": rand(width),
            b + "cross_attn.q_linear.weight": rand(width, width),
            b + "cross_attn.q_linear.bias": rand(width),
            b + "cross_attn.kv_linear.weight": rand(2 * width, width),
            b + "cross_attn.kv_linear.bias": rand(2 * width),
            b + "cross_attn.proj.weight": rand(width, width),
            b + "cross_attn.proj.bias": rand(width),
            b + "mlp.fc1.weight": rand(4 * width, width),
            b + "mlp.fc1.bias": rand(4 * width),
            b + "mlp.fc2.weight": rand(width, 4 * width),
            b + "mlp.fc2.bias": rand(width),
        }
        if i in kv_layers:
            sd |= {
                b + "attn.sr.weight": rand(width, 1, ratio, ratio),
                b + "attn.sr.bias": rand(width),
                b + "attn.norm.weight": rand(width),
                b + "attn.norm.bias": rand(width),
            }
    return sd
