"""What the app knows about a model before loading it: torch-free, so the window can show and pick models."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from app.core.kv_config import KVCompressionConfig
from app.core.sizes import HighResMethod


class ModelSource(str, Enum):
    """Where a model was found: the shipped demo, a folder, the Hugging Face cache, an original checkpoint, a server."""

    DEMO = "demo"
    FOLDER = "folder"
    HF_CACHE = "hf-cache"
    CHECKPOINT = "checkpoint"
    SERVER = "server"  # listed by the server the window renders on


@dataclass(frozen=True)
class ModelInfo:
    """What the app shows about a model before loading it."""

    name: str
    path: Path
    native_resolution: int  # pixels of the square it was trained at; 0 when unknown (a checkpoint's name says none)
    is_demo: bool
    has_trained_kv_weights: bool
    kv_config: KVCompressionConfig | None
    size_bytes: int
    num_layers: int  # 0 when unknown without loading (pickled checkpoints)
    source: ModelSource
    # The guidance scale the model's makers recommend (studio.json); None: the chosen sampler's default.
    guidance_scale: float | None = None
    # What `auto` does above native size (studio.json's above_native, measured by the model's makers); AUTO: the
    # app's own rule (direct up to 2×, refine beyond).
    above_native: HighResMethod = HighResMethod.AUTO
