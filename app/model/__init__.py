"""The compressed-KV PixArt-Σ transformer: KV compression on diffusers, checkpoint conversion, safe loading.

Names are imported lazily, so `import app.model` (and the torch-free catalog) does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "KVCompressionConfig": "app.model.kv_config",
    "released_config": "app.model.kv_config",
    "apply_kv_compression": "app.model.kv_compression",
    "remove_kv_compression": "app.model.kv_compression",
    "set_kv_compression_enabled": "app.model.kv_compression",
    "kv_compression_of": "app.model.kv_compression",
    "kv_compression_enabled": "app.model.kv_compression",
    "ModelInfo": "app.model.catalog",
    "list_models": "app.model.catalog",
    "model_hash": "app.model.catalog",
    "resolve_model_path": "app.model.catalog",
    "PixArtComponents": "app.model.loading",
    "load_pipeline_components": "app.model.loading",
    "load_transformer": "app.model.loading",
    "save_transformer": "app.model.loading",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'app.model' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
