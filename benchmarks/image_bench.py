"""Working from an image: upscale to 4× native against a text-to-image of the same size, and masked-only inpaint
of a small region against whole-image inpaint, on PixArt-Σ XL's architecture with random weights.

On a GPU the full configuration runs: XL (28 blocks) at native 1024, upscale 1024 → 4096 against a 4096² text to
image, and a 256² region of a 4096² image. A CPU cannot run 4K XL steps in a benchmark's time, so it runs the
small configuration: XL's width (1152, 16 heads) with 4 blocks at native 256, upscale 256 → 1024 against a 1024²
text to image, and a 64² region of a 1024² image. Both are 4× native, so the ratios are the same kind of number.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from transformers import T5Config, T5EncoderModel

from app.core.engine_options import EngineOptions
from app.core.request import GenerationRequest
from app.core.source_image import SourceImage, load_mask, load_source
from app.engine.pipeline import Pipeline, StepProgress
from app.model.catalog import ModelInfo
from app.model.loading import PixArtComponents
from benchmarks.harness import Context, Row, in_memory_units
from benchmarks.models import SIGMA_XL_CONFIG, dit_config, random_transformer, random_vae
from benchmarks.system import current_rss, peak_rss, reset_peak_rss

FAMILY = "image"
PROMPT = "a lighthouse on a rocky coast during a storm"


@dataclass(frozen=True)
class Config:
    """Sizes and depth of one run of the family."""

    name: str
    native: int  # pixels
    layers: int
    region: int  # side of the inpainted square, pixels
    steps: int
    strength: float


FULL = Config("full: XL 28 blocks, native 1024, 4096² target", 1024, 28, 256, 20, 0.5)
SMALL = Config("small: XL width, 4 blocks, native 256, 1024² target", 256, 4, 64, 10, 0.5)
SMOKE = Config("smoke", 128, 4, 16, 2, 0.5)


def config_for(ctx: Context) -> Config:
    """The full set on a GPU, the small one on a CPU, tiny when smoke-testing."""
    return SMOKE if ctx.smoke else FULL if ctx.is_cuda else SMALL


def components(ctx: Context, config: Config) -> PixArtComponents:
    """XL's transformer (depth and sample size per config), the SDXL VAE, and a one-block T5 of XL's width.

    The text encoder is small on purpose: prompts are encoded once per job and are not what is measured.
    """
    from demo_training.architecture import sampling_scheduler
    from demo_training.text_model import build_tokenizer

    folder = ctx.work / "image-bench"
    folder.mkdir(exist_ok=True)
    dtype = ctx.half_dtype
    tokenizer = build_tokenizer(folder / "tokenizer")
    caption = 32 if ctx.smoke else SIGMA_XL_CONFIG["caption_channels"]
    torch.manual_seed(0)
    encoder = T5EncoderModel(
        T5Config(vocab_size=len(tokenizer), d_model=caption, d_kv=64, d_ff=256, num_layers=1, num_heads=4)
    )
    encoder = encoder.to(ctx.device, dtype).eval().requires_grad_(False)
    transformer = random_transformer(
        dit_config(ctx.smoke, num_layers=config.layers, sample_size=config.native // 8), ctx.device, dtype
    )
    info = ModelInfo(
        name="PixArt-Σ XL architecture (random weights)",
        path=folder,
        native_resolution=config.native,
        is_demo=False,
        has_trained_kv_weights=False,
        kv_config=None,
        size_bytes=0,
        num_layers=config.layers,
        source="folder",
    )
    vae = random_vae(ctx.device, dtype, ctx.smoke)
    return PixArtComponents(tokenizer, encoder, vae, transformer, sampling_scheduler(), info)


@dataclass(frozen=True)
class Measured:
    """One job: seconds on the run's clock, seconds per high-resolution step, peak memory growth, sampled size."""

    seconds: float
    per_step: float
    peak: int
    sampled: tuple[int, int]


def measure(ctx: Context, pipeline: Pipeline, request: GenerationRequest, phase: str) -> Measured:
    """Run one job, timing its `phase` steps (the high-resolution ones) from the progress callback."""
    stamps: list[float] = []

    def on_step(progress: StepProgress) -> None:
        if progress.phase == phase and progress.step > 0:
            ctx.sync()
            stamps.append(ctx.clock())

    if ctx.is_cuda:
        torch.cuda.reset_peak_memory_stats(ctx.device)
        before = torch.cuda.memory_allocated(ctx.device)
    else:
        reset_peak_rss()
        before = current_rss()
    ctx.sync()
    start = ctx.clock()
    result = pipeline.generate(request, on_step=on_step)[0]
    ctx.sync()
    seconds = ctx.clock() - start
    peak = (torch.cuda.max_memory_allocated(ctx.device) if ctx.is_cuda else peak_rss()) - before
    per_step = float(np.median(np.diff(stamps))) if len(stamps) > 1 else float("nan")
    return Measured(seconds, per_step, peak, (result.sampled_width, result.sampled_height))


def _source(side: int) -> SourceImage:
    """A structured picture to start from: a gradient with a dark disc."""
    ramp = np.linspace(0, 255, side, dtype=np.float32)
    array = np.stack([np.tile(ramp, (side, 1)), np.tile(ramp[:, None], (1, side)), np.full((side, side), 128.0)], 2)
    image = Image.fromarray(array.astype(np.uint8))
    image.paste((20, 20, 60), (side // 4, side // 4, side // 2, side // 2))
    return load_source(_png(image))


def _png(image: Image.Image) -> bytes:
    import io

    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def run(ctx: Context) -> list[Row]:
    """Upscale vs text to image at 4× native, and masked-only vs whole-image inpaint of a small region."""
    config = config_for(ctx)
    target = 4 * config.native
    pipeline = Pipeline(components(ctx, config), EngineOptions(preview_every=0), ctx.device, ctx.half_dtype)
    ctx.log(f"image: {config.name}")
    common = {"steps": config.steps, "seed": 1}
    text = GenerationRequest(PROMPT, width=target, height=target, refine_strength=config.strength, **common)
    upscale = GenerationRequest.for_source(
        PROMPT, "upscale", _source(config.native), width=target, height=target, strength=config.strength, **common
    )
    big = _source(target)
    mask_image = Image.new("L", (target, target), 0)
    corner = target * 5 // 8
    mask_image.paste(255, (corner, corner, corner + config.region, corner + config.region))
    mask = load_mask(_png(mask_image))
    whole = GenerationRequest.for_source(PROMPT, "inpaint", big, mask=mask, **common)
    only = GenerationRequest.for_source(PROMPT, "inpaint", big, mask=mask, masked_only=True, **common)

    measured = {
        "text to image": measure(ctx, pipeline, text, "refining"),
        "upscale": measure(ctx, pipeline, upscale, "sampling"),
        "whole-image inpaint": measure(ctx, pipeline, whole, "sampling"),
        "masked-only inpaint": measure(ctx, pipeline, only, "sampling"),
    }
    pipeline.close()
    rows = []
    size = f"{target}²"
    for name, job in measured.items():
        what = f"{name} ({config.native} native → {size}, sampled {job.sampled[0]}×{job.sampled[1]})"
        rows.append(Row(FAMILY, f"{what}, whole job", job.seconds, "s", data={"config": config.name}))
        rows.append(Row(FAMILY, f"{what}, per step at the sampled size", job.per_step, "s"))
        rows.append(Row(FAMILY, f"{what}, peak memory", *in_memory_units(job.peak), "above weights"))
    up, txt = measured["upscale"], measured["text to image"]
    rows.append(
        Row(
            FAMILY,
            f"upscale ÷ text to image at {size}, whole job",
            up.seconds / txt.seconds,
            "×",
            compare=f"{up.seconds:.3g} s vs {txt.seconds:.3g} s; per step {up.per_step:.3g} vs {txt.per_step:.3g} s",
        )
    )
    masked, full = measured["masked-only inpaint"], measured["whole-image inpaint"]
    rows.append(
        Row(
            FAMILY,
            f"masked-only ÷ whole-image inpaint of a {config.region}² region of a {size} image",
            masked.seconds / full.seconds,
            "×",
            compare=f"{masked.seconds:.3g} s vs {full.seconds:.3g} s",
        )
    )
    return rows
