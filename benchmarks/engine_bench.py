"""The engine against diffusers' PixArtSigmaPipeline: the same request on the same component objects, alternated.

Each round uses a new prompt (the same for both), so the engine's prompt cache spares it no work diffusers
does, except re-encoding the empty negative prompt, which the app caches too. Peak memory is measured for
one request in a fresh child process per pipeline on the CPU (peak resident set, reset after loading and a
warm-up request), and with the CUDA allocator's peak on a GPU.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from diffusers import PixArtSigmaPipeline
from diffusers.utils.torch_utils import randn_tensor

from app.core.engine_options import DeviceChoice, EngineOptions, Precision
from app.core.request import GenerationRequest, KVCompressionMode
from app.engine.pipeline import Pipeline
from app.engine.schedulers import make_scheduler
from app.model.loading import PixArtComponents
from benchmarks.harness import Context, Row, alternate, in_memory_units, median, paired_ratios
from benchmarks.models import pipeline_folder, xl_components
from benchmarks.system import ChildError, current_rss, peak_rss, reset_peak_rss, run_child

FAMILY = "engine"
GOAL_RATIO = 1.03
PROMPT = "a large red circle in the middle on a white background"
_PEAK_TIMEOUT_S = 300


def load_pair(folder: Path, device: torch.device, preview_every: int = 0) -> tuple[Pipeline, PixArtSigmaPipeline]:
    """The engine on `folder` (fp32 on a CPU, its auto precision on a GPU) and diffusers on the same objects."""
    precision = Precision.FP32 if device.type == "cpu" else Precision.AUTO
    options = EngineOptions(device=DeviceChoice(device.type), precision=precision, preview_every=preview_every)
    engine = Pipeline.load(folder, options=options)
    return engine, diffusers_on(engine.components)


def diffusers_on(parts: PixArtComponents) -> PixArtSigmaPipeline:
    """diffusers' PixArt-Σ pipeline on the engine's own component objects, with the engine's default sampler."""
    reference = PixArtSigmaPipeline(
        tokenizer=parts.tokenizer,
        text_encoder=parts.text_encoder,
        vae=parts.vae,
        transformer=parts.transformer,
        scheduler=make_scheduler(GenerationRequest(PROMPT).scheduler, parts.scheduler.config),
    )
    reference.set_progress_bar_config(disable=True)
    return reference


def make_request(engine: Pipeline, number: int, steps: int) -> GenerationRequest:
    """Request `number` of a run: native size, compression off (diffusers has none), a prompt of its own."""
    side = engine.native_resolution
    return GenerationRequest(
        f"{PROMPT}, variation {number}",
        width=side,
        height=side,
        steps=steps,
        seed=number,
        kv_compression=KVCompressionMode.OFF,
    )


def run_engine(engine: Pipeline, request: GenerationRequest) -> np.ndarray:
    """The engine's image as pixels."""
    return np.asarray(engine.generate(request)[0].image)


def run_diffusers(reference: PixArtSigmaPipeline, request: GenerationRequest) -> np.ndarray:
    """diffusers' image for the same request as pixels, from the engine's initial latents.

    diffusers draws its noise in the sampling dtype, the engine in float32 then casts it (so a seed means one image
    on every device and dtype); in bf16 the two noises differ and 20 steps turn that into a different image. Passing
    the engine's noise makes the pixel difference a check of the sampling itself, at the cost of one draw either way.
    """
    transformer = reference.transformer
    factor = reference.vae_scale_factor
    shape = (1, transformer.config.in_channels, request.height // factor, request.width // factor)
    generator = torch.Generator("cpu").manual_seed(request.seed)
    noise = randn_tensor(shape, generator=generator, device=torch.device("cpu"), dtype=torch.float32)
    output = reference(
        prompt=request.prompt,
        negative_prompt=request.negative_prompt,
        num_inference_steps=request.steps,
        guidance_scale=request.guidance_scale,
        width=request.width,
        height=request.height,
        latents=noise.to(transformer.device, transformer.dtype),
        clean_caption=False,
        use_resolution_binning=False,
        output_type="pil",
    )
    return np.asarray(output.images[0])


def _counted(action: Callable[[int], object]) -> Callable[[], object]:
    """An action that passes 0, 1, 2, ... on its calls: round k of every contestant gets request k."""
    calls = itertools.count()
    return lambda: action(next(calls))


def run(ctx: Context) -> list[Row]:
    """The demo-sized comparison (previews off and on, and peak memory); on a GPU also PixArt-Σ XL at 1024²."""
    folder, origin = pipeline_folder(ctx.work)
    steps = 2 if ctx.smoke else 20
    engine, reference = load_pair(folder, ctx.device)
    rows = compare(ctx, engine, reference, origin, steps, with_previews=True)
    rows += _memory_rows(ctx, folder, engine, reference, steps)
    engine.close()
    if ctx.is_cuda:
        rows += xl_rows(ctx, steps)
    return rows


def xl_rows(ctx: Context, steps: int) -> list[Row]:
    """The comparison at the size that matters on a GPU: PixArt-Σ XL, T5-XXL and the SDXL VAE at 1024²."""
    components = xl_components(ctx)
    engine = Pipeline(components, EngineOptions(preview_every=0), ctx.device, ctx.half_dtype)
    reference = diffusers_on(components)
    rows = compare(ctx, engine, reference, "PixArt-Σ XL (random weights)", steps, with_previews=False)
    peaks = {which: _cuda_peak(which, engine, reference, steps) for which in ("engine", "diffusers")}
    rows += [
        Row(
            FAMILY, f"peak GPU memory of one XL 1024² request, {which}", *in_memory_units(peaks[which]), "above weights"
        )
        for which in ("engine", "diffusers")
    ]
    ratio = peaks["engine"] / max(1, peaks["diffusers"])
    rows.append(Row(FAMILY, "peak GPU memory of one XL request, engine ÷ diffusers", ratio, "×", data={"peaks": peaks}))
    return rows


def compare(
    ctx: Context, engine: Pipeline, reference: PixArtSigmaPipeline, origin: str, steps: int, with_previews: bool
) -> list[Row]:
    """Alternated end-to-end timings of the engine (and with previews every 2 steps) against diffusers."""
    assert engine.components.transformer is reference.transformer  # one set of weights serves both
    first = make_request(engine, 0, steps)
    difference = int(np.abs(run_engine(engine, first).astype(int) - run_diffusers(reference, first)).max())
    ctx.log(f"engine: {origin}, {first.width}×{first.height}, {steps} steps; images differ by ≤ {difference}/255")
    contestants = {
        "engine": _counted(lambda k: run_engine(engine, make_request(engine, k, steps))),
        "diffusers": _counted(lambda k: run_diffusers(reference, make_request(engine, k, steps))),
    }
    if with_previews:
        previewing = Pipeline(engine.components, replace(engine.options, preview_every=2), engine.device, engine.dtype)
        contestants["engine with previews"] = _counted(lambda k: run_engine(previewing, make_request(engine, k, steps)))
    times = alternate(ctx, contestants, repeats=ctx.repeats(15, 5), warmup=1)
    what = f"{origin}, {first.width}², {steps} steps, {str(engine.dtype).removeprefix('torch.')}"
    rows = [
        Row(
            FAMILY,
            f"diffusers PixArtSigmaPipeline ({what})",
            median(times["diffusers"]),
            "s",
            compare=f"same request through the engine: pixels differ ≤ {difference}/255",
            data={"times": times},
        )
    ]
    for name in [name for name in contestants if name != "diffusers"]:
        ratios = paired_ratios(times[name], times["diffusers"])
        ratio = median(ratios)
        rows.append(
            Row(
                FAMILY,
                f"{name} ÷ diffusers, end to end ({origin}, {first.width}²)",
                ratio,
                "×",
                compare=f"{median(times[name]):.3g} s vs {median(times['diffusers']):.3g} s",
                goal=f"≤ {GOAL_RATIO}" if name == "engine" else "",
                met=ratio <= GOAL_RATIO if name == "engine" else None,
                data={"ratios": ratios, "max_pixel_difference": difference},
            )
        )
    return rows


def _memory_rows(ctx: Context, folder: Path, engine: Pipeline, reference: PixArtSigmaPipeline, steps: int) -> list[Row]:
    """Peak memory above the loaded weights for one request through each pipeline."""
    peaks: dict[str, int] = {}
    for which in ("engine", "diffusers"):
        if ctx.is_cuda:
            peaks[which] = _cuda_peak(which, engine, reference, steps)
            continue
        try:
            measured = run_child(
                "benchmarks.engine_bench",
                ["--peak", which, "--folder", str(folder), "--steps", str(steps)],
                timeout_s=_PEAK_TIMEOUT_S,
                threads=ctx.threads,
            )
        except ChildError as error:
            return [Row.skip(FAMILY, "peak memory of one request", str(error))]
        peaks[which] = measured["peak_bytes"]
    kind = "allocated on the GPU" if ctx.is_cuda else "resident (RSS)"
    rows = [
        Row(FAMILY, f"peak memory of one request, {which}", *in_memory_units(peaks[which]), f"above weights, {kind}")
        for which in ("engine", "diffusers")
    ]
    ratio = peaks["engine"] / max(1, peaks["diffusers"])
    rows.append(Row(FAMILY, "peak memory, engine ÷ diffusers", ratio, "×", data={"peak_bytes": peaks}))
    return rows


def _cuda_peak(which: str, engine: Pipeline, reference: PixArtSigmaPipeline, steps: int) -> int:
    """Bytes the CUDA allocator held at its peak above what it held before one request."""
    request = make_request(engine, 10_000, steps)
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    before = torch.cuda.memory_allocated()
    run_engine(engine, request) if which == "engine" else run_diffusers(reference, request)
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() - before


def _child(argv: list[str]) -> int:
    """Child process: load, warm up, then print the peak resident bytes of one request above the loaded state."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--peak", choices=("engine", "diffusers"), required=True)
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--steps", type=int, required=True)
    args = parser.parse_args(argv)
    engine, reference = load_pair(args.folder, torch.device("cpu"))

    def once(number: int) -> object:
        request = make_request(engine, number, args.steps)
        return run_engine(engine, request) if args.peak == "engine" else run_diffusers(reference, request)

    once(0)  # first-call allocations (kernels, caches) belong to neither pipeline's request
    reset_peak_rss()
    before = current_rss()
    once(1)
    print(json.dumps({"peak_bytes": peak_rss() - before}))
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))
