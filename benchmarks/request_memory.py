"""Whole 4K requests on a GPU: peak device memory by generation path and by where the T5-XXL encoder lives.

The components have the real architectures with random weights: PixArt-Σ XL, the SDXL VAE and a T5 v1.1 XXL
encoder (4.7 B parameters, as PixArt-Σ ships); the tokenizer is the demo's (token ids are all that matter here).
"""

from __future__ import annotations

import gc
import importlib.util
from pathlib import Path

import torch
from transformers import T5Config, T5EncoderModel

from app.core.engine_options import EngineOptions, VaeTiling
from app.core.request import GenerationRequest
from app.core.sizes import HighResMethod
from app.engine.pipeline import Pipeline
from app.model.catalog import ModelInfo
from app.model.components import load_text_encoder
from app.model.loading import PixArtComponents
from benchmarks.harness import Context, Row
from benchmarks.models import dit_config, random_transformer, random_vae
from benchmarks.system import GIB

FAMILY = "memory"
SIDE = 4096
STEPS = 2  # memory does not depend on the number of steps
PLACEMENTS = ("device", "cpu", "8bit")
T5_XXL = {
    "vocab_size": 32128,
    "d_model": 4096,
    "d_kv": 64,
    "d_ff": 10240,
    "num_layers": 24,
    "num_heads": 64,
    "relative_attention_num_buckets": 32,
    "relative_attention_max_distance": 128,
    "feed_forward_proj": "gated-gelu",
    "dropout_rate": 0.0,
    "is_encoder_decoder": False,
    "use_cache": False,
    "tie_word_embeddings": False,
}


def _components(ctx: Context, folder: Path) -> PixArtComponents:
    """XL-sized components with random weights on the GPU, in the sampling precision."""
    from app.train.architecture import sampling_scheduler
    from app.train.text_model import build_tokenizer

    dtype = ctx.half_dtype
    torch.manual_seed(0)
    with torch.device(ctx.device):
        encoder = T5EncoderModel(T5Config(**T5_XXL))
    encoder = encoder.to(dtype).eval().requires_grad_(False)
    torch.cuda.empty_cache()  # the float32 copy made at construction is gone
    info = ModelInfo(
        name="PixArt-Σ XL (random weights)",
        path=folder,
        native_resolution=1024,
        is_demo=False,
        has_trained_kv_weights=False,
        kv_config=None,
        size_bytes=0,
        num_layers=28,
        source="folder",
    )
    return PixArtComponents(
        tokenizer=build_tokenizer(folder / "tokenizer"),
        text_encoder=encoder,
        vae=random_vae(ctx.device, dtype),
        transformer=random_transformer(dit_config(), ctx.device, dtype),
        scheduler=sampling_scheduler(),
        info=info,
    )


def _place_encoder(components: PixArtComponents, placement: str, ctx: Context, folder: Path) -> str:
    """Put the T5 encoder where `placement` says; returns why it cannot be done, or ''."""
    encoder = components.text_encoder
    if placement == "device":
        components.text_encoder = encoder.to(ctx.device)
    elif placement == "cpu":
        components.text_encoder = encoder.to("cpu")
    else:
        if importlib.util.find_spec("bitsandbytes") is None:
            return "the 8-bit encoder needs bitsandbytes, which is not installed"
        saved = folder / "text_encoder"
        if not saved.is_dir():
            encoder.save_pretrained(saved)
        components.text_encoder = None
        del encoder
        gc.collect()
        torch.cuda.empty_cache()
        components.text_encoder = load_text_encoder(saved, ctx.device, ctx.half_dtype, eight_bit=True)
    gc.collect()
    torch.cuda.empty_cache()
    return ""


def request_rows(ctx: Context) -> list[Row]:
    """Peak GPU memory of a 4K request by path (direct, refine) for each encoder placement."""
    folder = ctx.work / "xl-random"
    folder.mkdir(exist_ok=True)
    ctx.log("memory: building XL-sized components (T5-XXL, PixArt-Σ XL, SDXL VAE) with random weights")
    components = _components(ctx, folder)
    rows: list[Row] = []
    for placement in PLACEMENTS:
        reason = _place_encoder(components, placement, ctx, folder)
        if reason:
            rows.append(Row.skip(FAMILY, f"4K request, text encoder {placement}", reason))
            continue
        options = EngineOptions(vae_tiling=VaeTiling.AUTO, preview_every=0)
        pipeline = Pipeline(components, options, ctx.device, ctx.half_dtype)
        for path in (HighResMethod.DIRECT, HighResMethod.REFINE):
            name = f"4K request, {path.value} path, text encoder {placement}: peak GPU memory"
            request = GenerationRequest(
                f"a poster of a lighthouse, {placement} {path.value}",
                width=SIDE,
                height=SIDE,
                steps=STEPS,
                high_res=path,
            )
            ctx.log(f"memory: {name}")
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            resident = torch.cuda.memory_allocated()
            try:
                pipeline.generate(request)
            except Exception as error:  # an out-of-memory is a result here, not a crash
                rows.append(Row.skip(FAMILY, name, f"{type(error).__name__}: {error}"))
                continue
            torch.cuda.synchronize()
            peak = torch.cuda.max_memory_allocated()
            rows.append(
                Row(
                    FAMILY,
                    name,
                    peak / GIB,
                    "GiB",
                    compare=f"weights resident {resident / GIB:.1f} GiB",
                    data={"peak_bytes": peak, "resident_bytes": resident},
                )
            )
    del components
    gc.collect()
    torch.cuda.empty_cache()
    return rows
