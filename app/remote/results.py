"""Turn an image fetched from a server back into the GenerationResult a local run would have made."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from app.core.request import GenerationRequest, GenerationResult
from app.core.sizes import GenerationPath
from app.remote.client import RemoteImage

_COPIED = (
    "sampled_width",
    "sampled_height",
    "kv_compression_ratio",
    "model_name",
    "model_hash",
    "is_demo_model",
    "device",
    "dtype",
    "duration_s",
    "prompt_tokens",
    "prompt_truncated",
)


def result_from_remote(image: RemoteImage, rendered_on: str) -> GenerationResult:
    """The server's image and metadata as a result, marked with where it was rendered."""
    meta: dict[str, Any] = image.metadata
    with Image.open(io.BytesIO(image.png)) as png:
        pixels = png.convert("RGB") if png.mode not in ("RGB", "RGBA") else png.copy()
    return GenerationResult(
        image=pixels,
        request=GenerationRequest.from_dict(meta["request"]),
        path=GenerationPath(meta.get("path", GenerationPath.NATIVE.value)),
        kv_compression_layers=tuple(meta.get("kv_compression_layers", ())),
        warnings=tuple(meta.get("warnings", ())),
        rendered_on=rendered_on,
        **{name: meta[name] for name in _COPIED if name in meta},
    )
