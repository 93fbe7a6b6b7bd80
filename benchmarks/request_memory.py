"""Whole 4K requests on a GPU: peak device memory by generation path and by where the T5-XXL encoder lives.

The components have the real architectures with random weights: PixArt-Σ XL, the SDXL VAE and a T5 v1.1 XXL
encoder (4.7 B parameters, as PixArt-Σ ships); the tokenizer is the demo's (token ids are all that matter here).
"""

from __future__ import annotations

import gc
import importlib.util
from pathlib import Path

import torch

from app.core.engine_options import EngineOptions, VaeTiling
from app.core.request import GenerationRequest
from app.core.sizes import HighResMethod
from app.engine.pipeline import Pipeline
from app.model.components import load_text_encoder
from app.model.loading import PixArtComponents
from benchmarks.harness import Context, Row
from benchmarks.models import xl_components
from benchmarks.system import GIB

FAMILY = "memory"
SIDE = 4096
STEPS = 2  # memory does not depend on the number of steps
PLACEMENTS = ("device", "cpu", "8bit")


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
    ctx.log("memory: XL-sized components (T5-XXL, PixArt-Σ XL, SDXL VAE) with random weights")
    components = xl_components(ctx)
    folder = components.info.path
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
    del components, ctx.cache["xl_components"]  # the text encoder has moved; nothing later reuses them
    gc.collect()
    torch.cuda.empty_cache()
    return rows
