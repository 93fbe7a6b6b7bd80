"""PixArt-Σ's KV token compression as a diffusers attention processor on the chosen blocks' self-attention.

Keys and values of self-attention are laid back on their H×W token grid (row-major, after patchify) and
downsampled by R in both directions, so attention sees 1/R² as many keys and values; queries keep full length
and cross-attention is untouched. Sampling follows the official code:

- ``conv``: depthwise ``Conv2d(C, C, R, stride=R, groups=C)`` initialised to averaging (weights 1/R², bias 0),
  then ``LayerNorm(C, eps=1e-5)``; the same conv and norm serve keys and values.
- ``uniform``: every R-th token in each direction, ``[::R, ::R]``.
- ``ave``: nearest-neighbour downsampling by 1/R (as ``F.interpolate(mode="nearest")`` in the original), which
  picks the token at (R·i, R·j) — numerically the same tokens as ``uniform``.

Grids whose sides are not divisible by R are cropped: the last ``H mod R`` rows and ``W mod R`` columns of keys
and values are dropped, giving a ⌊H/R⌋×⌊W/R⌋ grid. That is what the original's strided conv and its
``new_H = int(H / R)`` do; all three samplings follow it.
"""

from __future__ import annotations

import math

import torch
from diffusers import PixArtTransformer2DModel
from diffusers.models.attention_processor import Attention, AttnProcessor2_0
from torch import nn
from torch.nn.functional import interpolate, scaled_dot_product_attention

from app.core.kv_config import KVCompressionConfig, released_config

__all__ = [
    "KVCompressionConfig",
    "KVCompressionProcessor",
    "apply_kv_compression",
    "kv_compression_enabled",
    "kv_compression_of",
    "released_config",
    "remove_kv_compression",
    "set_kv_compression_enabled",
]


class KVCompressionProcessor(nn.Module):
    """Self-attention with keys and values downsampled R×R on the token grid; holds the conv + LayerNorm weights."""

    def __init__(
        self,
        dim: int,
        ratio: int,
        sampling: str,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        KVCompressionConfig(layers=(), ratio=ratio, sampling=sampling)  # validates ratio and sampling
        if ratio < 2:
            raise ValueError(f"ratio must be ≥ 2 for a compression processor, got {ratio}")
        self.ratio = ratio
        self.sampling = sampling
        self.enabled = True
        self.token_grid: tuple[int, int] | None = None  # (H, W) of the current forward, set by the transformer hook
        self._plain = AttnProcessor2_0()
        if sampling == "conv":
            self.conv = nn.Conv2d(dim, dim, ratio, stride=ratio, groups=dim, device=device, dtype=dtype)
            self.norm = nn.LayerNorm(dim, eps=1e-5, device=device, dtype=dtype)
            self.reset_parameters()

    def reset_parameters(self) -> None:
        """Averaging init of the conv (weights 1/R², bias 0) and identity affine of the norm."""
        if self.sampling != "conv":
            return
        with torch.no_grad():
            self.conv.weight.fill_(1.0 / self.ratio**2)
            self.conv.bias.zero_()  # type: ignore[union-attr]  # Conv2d(bias=True) has one
            self.norm.reset_parameters()

    def extra_repr(self) -> str:
        return f"ratio={self.ratio}, sampling={self.sampling!r}, enabled={self.enabled}"

    def forward(
        self,
        attn: Attention,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        temb: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Compressed self-attention; disabled or called as cross-attention it is diffusers' own processor."""
        if not self.enabled or encoder_hidden_states is not None:
            return self._plain(attn, hidden_states, encoder_hidden_states, attention_mask, temb)
        if attention_mask is not None:
            raise ValueError("KV compression does not support a self-attention mask; disable compression to use one")
        if hidden_states.ndim != 3:
            shape = tuple(hidden_states.shape)
            raise ValueError(f"KV compression expects (batch, tokens, channels), got shape {shape}")
        batch, tokens, _ = hidden_states.shape
        height, width = self._grid(tokens)

        query = attn.to_q(hidden_states)  # B, N, C
        key = self.compress(attn.to_k(hidden_states), height, width)  # B, N/R², C
        value = self.compress(attn.to_v(hidden_states), height, width)  # B, N/R², C

        head_dim = key.shape[-1] // attn.heads
        query = query.view(batch, -1, attn.heads, head_dim).transpose(1, 2)  # B, heads, N, d
        key = key.view(batch, -1, attn.heads, head_dim).transpose(1, 2)  # B, heads, N/R², d
        value = value.view(batch, -1, attn.heads, head_dim).transpose(1, 2)  # B, heads, N/R², d
        if attn.norm_q is not None:
            query = attn.norm_q(query)
        if attn.norm_k is not None:
            key = attn.norm_k(key)

        out = scaled_dot_product_attention(query, key, value, dropout_p=0.0, is_causal=False)  # B, heads, N, d
        out = out.transpose(1, 2).reshape(batch, -1, attn.heads * head_dim).to(query.dtype)  # B, N, C
        out = attn.to_out[1](attn.to_out[0](out))  # projection, dropout
        if attn.residual_connection:
            out = out + hidden_states
        return out / attn.rescale_output_factor

    def compress(self, tokens: torch.Tensor, height: int, width: int) -> torch.Tensor:
        """Downsample (B, H·W, C) row-major tokens to (B, ⌊H/R⌋·⌊W/R⌋, C), cropping rows/columns that don't fit."""
        batch, _, channels = tokens.shape
        r = self.ratio
        grid = tokens.transpose(1, 2).reshape(batch, channels, height, width)  # B, C, H, W
        grid = grid[:, :, : height // r * r, : width // r * r]  # crop to multiples of R, as the strided conv does
        if self.sampling == "conv":
            small = self.conv(grid)  # B, C, H/R, W/R
            return self.norm(small.flatten(2).transpose(1, 2))  # B, N/R², C
        if self.sampling == "uniform":
            small = grid[:, :, ::r, ::r]
        else:  # "ave": an exact size keeps the nearest source index at R·i, free of 1/R rounding
            small = interpolate(grid, size=(height // r, width // r), mode="nearest")
        return small.flatten(2).transpose(1, 2)  # B, N/R², C

    def _grid(self, tokens: int) -> tuple[int, int]:
        """The (H, W) token grid of this forward; a square grid when no transformer hook recorded one."""
        grid = self.token_grid
        if grid is None:
            side = math.isqrt(tokens)
            if side * side != tokens:
                raise ValueError(
                    f"KV compression needs the token grid of a non-square sequence of {tokens} tokens; "
                    "install it with apply_kv_compression(transformer, ...) so the transformer records it"
                )
            grid = (side, side)
        height, width = grid
        if height * width != tokens:
            raise ValueError(f"token grid {height}×{width} does not match the sequence length {tokens}")
        if height < self.ratio or width < self.ratio:
            raise ValueError(f"token grid {height}×{width} is smaller than the compression ratio {self.ratio}")
        return grid


def _record_token_grid(transformer: PixArtTransformer2DModel, args: tuple, kwargs: dict) -> None:
    """Forward pre-hook: tell the installed processors the latent's token grid (H, W after patchify)."""
    latent = args[0] if args else kwargs["hidden_states"]
    patch = transformer.config.patch_size
    grid = (latent.shape[-2] // patch, latent.shape[-1] // patch)
    for processor in _processors(transformer).values():
        processor.token_grid = grid


def _processors(transformer: PixArtTransformer2DModel) -> dict[int, KVCompressionProcessor]:
    """The installed compression processors by block index."""
    return {
        index: block.attn1.processor
        for index, block in enumerate(transformer.transformer_blocks)
        if isinstance(block.attn1.processor, KVCompressionProcessor)
    }


# The attribute holding the token-grid pre-hook's RemovableHandle; a deep copy of the model (an EMA) copies the
# handle with the hook dictionaries it points into, so each copy removes its own hook.
_GRID_HOOK = "_kv_compression_grid_hook"


def _set_grid_hook(transformer: PixArtTransformer2DModel, wanted: bool) -> None:
    """Install or remove the pre-hook that records each forward's token grid."""
    handle = getattr(transformer, _GRID_HOOK, None)
    if wanted and handle is None:
        setattr(transformer, _GRID_HOOK, transformer.register_forward_pre_hook(_record_token_grid, with_kwargs=True))
    elif not wanted and handle is not None:
        handle.remove()
        delattr(transformer, _GRID_HOOK)


def apply_kv_compression(transformer: PixArtTransformer2DModel, config: KVCompressionConfig) -> None:
    """Install compression on `config.layers` (only those); keeps trained weights of layers already set up alike."""
    num_layers = len(transformer.transformer_blocks)
    bad = [i for i in config.layers if i >= num_layers]
    if bad:
        raise ValueError(f"layers {bad} do not exist; this transformer has blocks 0–{num_layers - 1}")
    wanted = set(config.layers) if config.ratio > 1 else set()
    for index, block in enumerate(transformer.transformer_blocks):
        attn = block.attn1
        current = attn.processor
        if index not in wanted:
            if isinstance(current, KVCompressionProcessor):
                attn.set_processor(AttnProcessor2_0())
            continue
        if isinstance(current, KVCompressionProcessor) and (current.ratio, current.sampling) == (
            config.ratio,
            config.sampling,
        ):
            current.enabled = True
            continue
        weight = attn.to_k.weight
        attn.set_processor(
            KVCompressionProcessor(attn.inner_dim, config.ratio, config.sampling, weight.device, weight.dtype)
        )
    _set_grid_hook(transformer, bool(wanted))


def remove_kv_compression(transformer: PixArtTransformer2DModel) -> None:
    """Back to diffusers' plain processors on every compressed block; the compression weights are dropped."""
    apply_kv_compression(transformer, KVCompressionConfig(layers=()))


def set_kv_compression_enabled(transformer: PixArtTransformer2DModel, enabled: bool) -> None:
    """Bypass (or restore) compression without dropping its weights; bypassed is exactly diffusers' attention."""
    for processor in _processors(transformer).values():
        processor.enabled = enabled


def kv_compression_of(transformer: PixArtTransformer2DModel) -> KVCompressionConfig | None:
    """The installed configuration, or None when no block is compressed."""
    processors = _processors(transformer)
    if not processors:
        return None
    settings = {(p.ratio, p.sampling) for p in processors.values()}
    if len(settings) > 1:
        raise ValueError(f"blocks use different compression settings {sorted(settings)}; apply one config")
    ratio, sampling = settings.pop()
    return KVCompressionConfig(layers=tuple(processors), ratio=ratio, sampling=sampling)


def kv_compression_enabled(transformer: PixArtTransformer2DModel) -> bool:
    """True when compression is installed on some block and not bypassed."""
    return any(p.enabled for p in _processors(transformer).values())


def has_trained_kv_weights(transformer: PixArtTransformer2DModel) -> bool:
    """True when some conv processor's weights differ from the averaging init (it was trained)."""
    for processor in _processors(transformer).values():
        if processor.sampling != "conv":
            continue
        r2 = 1.0 / processor.ratio**2
        if not (
            processor.conv.weight.eq(r2).all()
            and processor.conv.bias.eq(0).all()  # type: ignore[union-attr]  # Conv2d(bias=True) has one
            and processor.norm.weight.eq(1).all()
            and processor.norm.bias.eq(0).all()
        ):
            return True
    return False
