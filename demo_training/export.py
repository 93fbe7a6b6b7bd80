"""Write the demo model as a diffusers PixArt-Σ pipeline folder, with the studio.json marker the app reads."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from diffusers import AutoencoderKL, PixArtSigmaPipeline, PixArtTransformer2DModel
from transformers import T5EncoderModel, T5Tokenizer

from app.model.loading import save_transformer
from demo_training.architecture import sampling_scheduler

STUDIO_FILE = "studio.json"
DEMO_NAME = "PixArt Studio demo (shapes world)"
HOW_TO_GET_REAL_WEIGHTS = (
    "This is a tiny demo model trained on a world of colored shapes. For real images, download PixArt-Σ "
    "(for example PixArt-alpha/PixArt-Sigma-XL-2-1024-MS from Hugging Face) into a local folder and choose it "
    "as the model, or convert an original checkpoint with `pixart-studio convert`."
)


def studio_marker(native_resolution: int, guidance_scale: float) -> dict[str, object]:
    """The contents of studio.json: marks the folder as the demo, recommends its guidance and its way above native
    size, says how to get real weights."""
    return {
        "is_demo": True,
        "name": DEMO_NAME,
        "native_resolution": native_resolution,
        "guidance_scale": guidance_scale,
        # Never trained beyond 8×8 tokens, its passes at 256 and 512 px score below its own image enlarged
        # (DemoBench, docs/engine.md), so `auto` enlarges.
        "above_native": "enlarge",
        "how_to_get_real_weights": HOW_TO_GET_REAL_WEIGHTS,
    }


def save_demo_pipeline(
    folder: Path,
    tokenizer: T5Tokenizer,
    text_encoder: T5EncoderModel,
    vae: AutoencoderKL,
    transformer: PixArtTransformer2DModel,
    native_resolution: int,
    spiece_model: Path,
    guidance_scale: float,
) -> None:
    """Replace `folder` with the pipeline (safetensors, float32) plus studio.json."""
    staging = folder.with_name(folder.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    # The pipeline writes every component but the transformer, whose KV-compression weights and
    # kv_compression.json only the model layer knows how to write.
    pipeline = PixArtSigmaPipeline(
        tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, transformer=None, scheduler=sampling_scheduler()
    )
    pipeline.save_pretrained(staging, safe_serialization=True)
    shutil.copy2(spiece_model, staging / "tokenizer" / "spiece.model")  # the fast tokenizer does not save it
    index = json.loads((staging / "model_index.json").read_text(encoding="utf-8"))
    index["transformer"] = ["diffusers", "PixArtTransformer2DModel"]
    (staging / "model_index.json").write_text(json.dumps(index, indent=2) + "\n", encoding="utf-8")
    save_transformer(transformer, staging / "transformer")
    marker = json.dumps(studio_marker(native_resolution, guidance_scale), indent=2, ensure_ascii=False)
    (staging / STUDIO_FILE).write_text(marker + "\n", encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    staging.rename(folder)  # the folder is never seen half written
