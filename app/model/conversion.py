"""Original PixArt checkpoints ⇄ diffusers' PixArtTransformer2DModel: key mapping and config inference."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from app.core.errors import ModelLoadError
from app.core.kv_config import KVCompressionConfig
from app.model.layout import infer_resolution
from app.model.weights_io import read_weights

PIXART_HEAD_DIM = 72  # every released PixArt model: XL is 1152 wide with 16 heads
# Tensors of the original format that diffusers does not use: the fixed sin-cos table and the learned null
# caption (diffusers encodes the negative prompt instead). Kept aside so the reverse conversion is lossless.
ORIGINAL_ONLY_KEYS: tuple[str, ...] = ("pos_embed", "y_embedder.y_embedding")

# Whole-tensor renames outside the blocks: original → diffusers.
_TOP_LEVEL: dict[str, str] = {
    "x_embedder.proj": "pos_embed.proj",
    "t_embedder.mlp.0": "adaln_single.emb.timestep_embedder.linear_1",
    "t_embedder.mlp.2": "adaln_single.emb.timestep_embedder.linear_2",
    "t_block.1": "adaln_single.linear",
    "y_embedder.y_proj.fc1": "caption_projection.linear_1",
    "y_embedder.y_proj.fc2": "caption_projection.linear_2",
    "csize_embedder.mlp.0": "adaln_single.emb.resolution_embedder.linear_1",
    "csize_embedder.mlp.2": "adaln_single.emb.resolution_embedder.linear_2",
    "ar_embedder.mlp.0": "adaln_single.emb.aspect_ratio_embedder.linear_1",
    "ar_embedder.mlp.2": "adaln_single.emb.aspect_ratio_embedder.linear_2",
    "final_layer.linear": "proj_out",
}
# Whole-tensor renames inside block i (prefixes `blocks.i.` ⇄ `transformer_blocks.i.`).
_IN_BLOCK: dict[str, str] = {
    "attn.proj": "attn1.to_out.0",
    "cross_attn.q_linear": "attn2.to_q",
    "cross_attn.proj": "attn2.to_out.0",
    "mlp.fc1": "ff.net.0.proj",
    "mlp.fc2": "ff.net.2",
    "attn.sr": "attn1.processor.conv",  # trained KV compression weights
    "attn.norm": "attn1.processor.norm",
}
# Fused tensors split along dim 0: original name → diffusers names in order.
_SPLIT: dict[str, tuple[str, ...]] = {
    "attn.qkv": ("attn1.to_q", "attn1.to_k", "attn1.to_v"),
    "cross_attn.kv_linear": ("attn2.to_k", "attn2.to_v"),
}
_REQUIRED = ("x_embedder.proj.weight", "t_block.1.weight", "y_embedder.y_proj.fc1.weight", "final_layer.linear.weight")


@dataclass
class ConvertedTransformer:
    """A diffusers transformer's config and weights, its KV compression, and original-only tensors."""

    config: dict[str, Any]
    state_dict: dict[str, torch.Tensor]
    kv_config: KVCompressionConfig | None = None
    extras: dict[str, torch.Tensor] = field(default_factory=dict)


def load_original_checkpoint(
    path: Path, resolution: int | None = None, attention_head_dim: int = PIXART_HEAD_DIM
) -> ConvertedTransformer:
    """Read an original .pth/.safetensors checkpoint and convert it in memory; errors name the file."""
    resolution = resolution or infer_resolution(path)
    if resolution is None:
        raise ModelLoadError(
            f"{path}: the file name does not say the training resolution (256, 512, 1024 or 2K); "
            "pass it, e.g. `pixart-studio convert SRC DEST --resolution 1024`"
        )
    state_dict = read_weights(path)
    try:
        return original_to_diffusers(state_dict, resolution, attention_head_dim)
    except (ModelLoadError, ValueError) as err:
        raise ModelLoadError(f"{path}: {err}") from None


def check_resolution(resolution: int) -> int:
    """Validate a training resolution: a positive multiple of 8 pixels."""
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution <= 0 or resolution % 8:
        raise ValueError(f"resolution must be a positive multiple of 8 (e.g. 512, 1024, 2048), got {resolution!r}")
    return resolution


def _interpolation_scale(resolution: int) -> float | int:
    """Positional-embedding interpolation scale: resolution/512, an int when whole (as diffusers' configs store it)."""
    scale = resolution / 512
    return int(scale) if scale.is_integer() else scale


def original_to_diffusers(
    state_dict: dict[str, torch.Tensor], resolution: int, attention_head_dim: int = PIXART_HEAD_DIM
) -> ConvertedTransformer:
    """Map an original PixArt state dict to diffusers keys and infer the transformer config from its shapes."""
    check_resolution(resolution)
    missing = [k for k in _REQUIRED if k not in state_dict]
    if missing:
        raise ModelLoadError(f"not a PixArt checkpoint: missing {', '.join(missing)}")
    source = dict(state_dict)
    extras = {k: source.pop(k) for k in ORIGINAL_ONLY_KEYS if k in source}
    converted: dict[str, torch.Tensor] = {}

    def move(old: str, new: str) -> None:
        for suffix in (".weight", ".bias"):
            if old + suffix in source:
                converted[new + suffix] = source.pop(old + suffix)

    for old, new in _TOP_LEVEL.items():
        move(old, new)
    converted["scale_shift_table"] = _pop(source, "final_layer.scale_shift_table")
    num_layers = _count_blocks(source)
    for i in range(num_layers):
        src, dst = f"blocks.{i}.", f"transformer_blocks.{i}."
        converted[dst + "scale_shift_table"] = _pop(source, src + "scale_shift_table")
        for old, new in _IN_BLOCK.items():
            move(src + old, dst + new)
        for old, parts in _SPLIT.items():
            for suffix in (".weight", ".bias"):
                fused = _pop(source, src + old + suffix)
                if fused.shape[0] % len(parts):
                    rows = fused.shape[0]
                    raise ModelLoadError(f"{src + old + suffix} has {rows} rows, not {len(parts)} equal parts")
                # clone: safetensors refuses to save views that share one storage
                for name, chunk in zip(parts, fused.chunk(len(parts), dim=0), strict=True):
                    converted[dst + name + suffix] = chunk.clone()
    if source:
        raise ModelLoadError(f"unexpected keys for a PixArt transformer: {_few(source)}")
    config = infer_config(converted, resolution, attention_head_dim)
    return ConvertedTransformer(config, converted, _kv_config_of(converted), extras)


def diffusers_to_original(
    state_dict: dict[str, torch.Tensor], extras: dict[str, torch.Tensor] | None = None
) -> dict[str, torch.Tensor]:
    """Map a diffusers PixArt transformer state dict back to original keys (the exact inverse of the above)."""
    source = dict(state_dict)
    original: dict[str, torch.Tensor] = dict(extras or {})

    def move(new: str, old: str) -> None:
        for suffix in (".weight", ".bias"):
            if new + suffix in source:
                original[old + suffix] = source.pop(new + suffix)

    for old, new in _TOP_LEVEL.items():
        move(new, old)
    original["final_layer.scale_shift_table"] = _pop(source, "scale_shift_table")
    num_layers = len({int(m.group(1)) for k in source if (m := re.match(r"transformer_blocks\.(\d+)\.", k))})
    for i in range(num_layers):
        src, dst = f"transformer_blocks.{i}.", f"blocks.{i}."
        original[dst + "scale_shift_table"] = _pop(source, src + "scale_shift_table")
        for old, new in _IN_BLOCK.items():
            move(src + new, dst + old)
        for old, parts in _SPLIT.items():
            for suffix in (".weight", ".bias"):
                original[dst + old + suffix] = torch.cat([_pop(source, src + p + suffix) for p in parts], dim=0)
    if source:
        raise ModelLoadError(f"unexpected keys for a diffusers PixArt transformer: {_few(source)}")
    return original


def infer_config(
    state_dict: dict[str, torch.Tensor], resolution: int, attention_head_dim: int = PIXART_HEAD_DIM
) -> dict[str, Any]:
    """PixArtTransformer2DModel config of a diffusers-keyed state dict trained at `resolution` pixels."""
    proj = state_dict["pos_embed.proj.weight"]  # width, in_channels, patch, patch
    width, in_channels, patch = proj.shape[0], proj.shape[1], proj.shape[2]
    if width % attention_head_dim:
        raise ModelLoadError(
            f"width {width} is not a multiple of the head size {attention_head_dim}; "
            "for a model that is not PixArt-XL, pass its head size with --head-dim"
        )
    out_features = state_dict["proj_out.weight"].shape[0]
    if out_features % (patch * patch):
        raise ModelLoadError(f"proj_out has {out_features} outputs, not a multiple of patch² = {patch * patch}")
    return {
        "num_attention_heads": width // attention_head_dim,
        "attention_head_dim": attention_head_dim,
        "in_channels": in_channels,
        "out_channels": out_features // (patch * patch),  # 8 for Σ: 4 latent channels + learned sigma
        "num_layers": _count_blocks(state_dict, prefix="transformer_blocks"),
        "dropout": 0.0,
        "norm_num_groups": 32,
        "cross_attention_dim": width,
        "attention_bias": True,
        "sample_size": resolution // 8,
        "patch_size": patch,
        "activation_fn": "gelu-approximate",
        "num_embeds_ada_norm": 1000,
        "upcast_attention": False,
        "norm_type": "ada_norm_single",
        "norm_elementwise_affine": False,
        "norm_eps": 1e-6,
        "interpolation_scale": _interpolation_scale(resolution),
        # explicit: diffusers turns micro-conditions on by default for sample_size 128, which Σ does not use
        "use_additional_conditions": "adaln_single.emb.resolution_embedder.linear_1.weight" in state_dict,
        "caption_channels": state_dict["caption_projection.linear_1.weight"].shape[1],
        "attention_type": "default",
    }


def _kv_config_of(state_dict: dict[str, torch.Tensor]) -> KVCompressionConfig | None:
    """The conv compression a diffusers-keyed state dict carries weights for, or None."""
    ratios: dict[int, int] = {}
    for key, tensor in state_dict.items():
        match = re.fullmatch(r"transformer_blocks\.(\d+)\.attn1\.processor\.conv\.weight", key)
        if match:
            ratios[int(match.group(1))] = tensor.shape[-1]
    if not ratios:
        return None
    if len(set(ratios.values())) > 1:
        raise ModelLoadError(f"compression layers use different ratios {sorted(set(ratios.values()))}")
    return KVCompressionConfig(layers=tuple(ratios), ratio=next(iter(ratios.values())), sampling="conv")


def _count_blocks(state_dict: dict[str, Any], prefix: str = "blocks") -> int:
    """Number of blocks, checking they are numbered 0..n-1 without gaps."""
    indices = {int(m.group(1)) for k in state_dict if (m := re.match(rf"{prefix}\.(\d+)\.", k))}
    if not indices:
        raise ModelLoadError(f"not a PixArt checkpoint: no `{prefix}.N.` transformer blocks")
    if indices != set(range(len(indices))):
        gaps = sorted(set(range(max(indices) + 1)) - indices)
        raise ModelLoadError(f"transformer blocks {gaps} are missing")
    return len(indices)


def _pop(source: dict[str, torch.Tensor], key: str) -> torch.Tensor:
    """Take a required tensor out of the source dict."""
    if key not in source:
        raise ModelLoadError(f"missing key {key}")
    return source.pop(key)


def _few(keys: dict[str, Any] | list[str], limit: int = 5) -> str:
    """A short list of keys for an error message."""
    names = sorted(keys)
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more
