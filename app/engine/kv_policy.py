"""When self-attention keys and values are compressed: the request's mode, the model and the generation path."""

from __future__ import annotations

from diffusers import PixArtTransformer2DModel

from app.core.memory_estimate import kv_compression_active
from app.core.request import KVCompressionMode
from app.core.sizes import GenerationPath
from app.model.kv_compression import (
    KVCompressionConfig,
    apply_kv_compression,
    kv_compression_of,
    released_config,
    set_kv_compression_enabled,
)


def choose_kv_compression(
    mode: KVCompressionMode, path: GenerationPath, transformer: PixArtTransformer2DModel, has_trained_weights: bool
) -> KVCompressionConfig | None:
    """The compression a pass should use, or None for plain attention.

    Auto compresses when the model was trained with it, or when sampling above native size (training-free, the
    conv at its averaging init, on the released layers). On forces it; off never compresses. A configuration the
    model brought with it wins over the released one.
    """
    if not kv_compression_active(mode, path, has_trained_weights):
        return None
    return compression_when_on(transformer)


def compression_when_on(transformer: PixArtTransformer2DModel) -> KVCompressionConfig:
    """The compression a compressing pass installs: the model's own when it brought one, else the released one."""
    installed = kv_compression_of(transformer)
    if installed is not None and installed.is_active:
        return installed
    return released_config(len(transformer.transformer_blocks))


def activate_kv_compression(
    transformer: PixArtTransformer2DModel, config: KVCompressionConfig | None
) -> tuple[tuple[int, ...], int]:
    """Put `config` in effect on the transformer; returns (layers, ratio) as recorded in a result."""
    if config is None or not config.is_active:
        set_kv_compression_enabled(transformer, False)
        return (), 1
    if kv_compression_of(transformer) == config:
        set_kv_compression_enabled(transformer, True)
    else:
        apply_kv_compression(transformer, config)
    return config.layers, config.ratio
