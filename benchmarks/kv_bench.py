"""KV compression on PixArt-Σ XL: time per step (GPU) or per block (CPU), plain vs compressed, beside the FLOP ideal.

For steps, every block carries a compression processor and each mode switches processors on or off (a bypassed
processor is diffusers' own attention), so the modes differ only in the attention they run. The block-level
measurement (one block of the XL width at 2K's 16,384 tokens) is what a CPU can do: a CPU step at 2K takes
many minutes.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

import torch
from torch import nn

from app.engine.device_policy import pick_dtype
from app.model.kv_compression import (
    KVCompressionConfig,
    KVCompressionProcessor,
    apply_kv_compression,
    released_config,
    set_kv_compression_enabled,
)
from benchmarks.flops import TEXT_TOKENS, block_flops, step_flops
from benchmarks.harness import Context, Row, alternate, median, paired_ratios
from benchmarks.models import check_sigma_parameters, dit_config, random_transformer

FAMILY = "kv"
RATIO = 2
GOAL_OF_IDEAL = 0.9
PAPER_STEP_CHANGE = -0.34  # the paper's change in time per step with compression, at 2K and 4K
STEP_SIZES = {"1K": 1024, "2K": 2048, "4K": 4096}  # square images, pixels per side
BLOCK_GRID = 128  # 128×128 = 16,384 tokens: a 2K image after the VAE (÷8) and patchify (÷2)
PROMPT_TOKENS = 120  # real tokens in the 300-token caption; the rest is padding, masked as the pipeline masks it
GUIDED_BATCH = 2  # classifier-free guidance runs the negative and positive prompt together


def run(ctx: Context) -> list[Row]:
    """Parameter check, the block timing, and per-step timings (GPU; a tiny stand-in when smoke-testing)."""
    count = check_sigma_parameters()
    rows = [
        Row(FAMILY, "PixArt-Σ XL parameters (random weights)", count, "count", "released: 610,856,096", "equal", True)
    ]
    rows += block_rows(ctx)
    if ctx.is_cuda or ctx.smoke:
        rows += step_rows(ctx)
    else:
        rows.append(Row.skip(FAMILY, "time per step at 1K / 2K / 4K", "GPU only (a CPU step at 2K takes minutes)"))
    return rows


def _text_inputs(batch: int, width: int, dtype: torch.dtype, device: torch.device) -> tuple[torch.Tensor, ...]:
    """Caption states and their padding mask, as the pipeline passes them."""
    generator = torch.Generator().manual_seed(1)
    text = torch.randn(batch, TEXT_TOKENS, width, generator=generator).to(device, dtype)
    mask = torch.zeros(batch, TEXT_TOKENS, device=device)
    mask[:, :PROMPT_TOKENS] = 1
    return text, mask


def block_dtypes(ctx: Context) -> list[torch.dtype]:
    """fp32 (the FLOP reference), plus the app's own precision on this CPU when that is bf16 (AVX512-BF16, AMX)."""
    app_dtype = pick_dtype(torch.device("cpu"))
    return [torch.float32] if ctx.is_cuda or app_dtype == torch.float32 else [torch.float32, app_dtype]


def block_rows(ctx: Context) -> list[Row]:
    """One XL block at 16,384 tokens in each block precision."""
    return [row for dtype in block_dtypes(ctx) for row in _block_rows(ctx, dtype)]


def _block_rows(ctx: Context, dtype: torch.dtype) -> list[Row]:
    """Plain vs compressed self-attention in one block (the same weights), alternated."""
    config = dit_config(ctx.smoke, num_layers=1)
    grid = 8 if ctx.smoke else BLOCK_GRID
    width = config["num_attention_heads"] * config["attention_head_dim"]
    model = random_transformer(config, ctx.device, dtype)
    apply_kv_compression(model, KVCompressionConfig(layers=(0,), ratio=RATIO, sampling="conv"))
    block = model.transformer_blocks[0]
    generator = torch.Generator().manual_seed(0)
    hidden = torch.randn(1, grid * grid, width, generator=generator).to(ctx.device, dtype)
    text, mask = _text_inputs(1, width, dtype, ctx.device)
    bias = ((1 - mask) * -10000.0).unsqueeze(1).to(dtype)  # the transformer turns the mask into this bias
    adaln = torch.randn(1, 6 * width, generator=generator).to(ctx.device, dtype)

    def forward(compressed: bool) -> None:
        set_kv_compression_enabled(model, compressed)
        with torch.no_grad():
            block(hidden, encoder_hidden_states=text, encoder_attention_mask=bias, timestep=adaln)

    precision = {torch.float32: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[dtype]
    ctx.log(f"kv: one block at {grid * grid:,} tokens in {precision}, plain vs compressed")
    times = alternate(
        ctx,
        {"plain": lambda: forward(False), "compressed": lambda: forward(True)},
        repeats=ctx.repeats(5, 3),
        warmup=0 if ctx.quick or ctx.smoke else 1,  # a block takes tens of seconds on a CPU: nothing to warm
    )
    plain_flops = sum(block_flops(grid, grid, width, TEXT_TOKENS, 1).values())
    compressed_flops = sum(block_flops(grid, grid, width, TEXT_TOKENS, RATIO).values())
    where = f"{grid * grid:,} tokens, {precision}, {ctx.device.type}"
    rows = [
        _timing_row(f"block, plain self-attention ({where})", times["plain"], plain_flops),
        _timing_row(f"block, compressed R={RATIO} ({where})", times["compressed"], compressed_flops),
        _speedup_row(f"block speedup ({where})", times["plain"], times["compressed"], plain_flops / compressed_flops),
    ]
    return rows


def _timing_row(name: str, times: list[float], flops: int) -> Row:
    seconds = median(times)
    return Row(
        FAMILY,
        name,
        seconds,
        "s",
        compare=f"{flops / 1e9:,.0f} GFLOP → {flops / seconds / 1e9:,.0f} GFLOP/s",
        data={"times_s": times, "flops": flops},
    )


def _speedup_row(name: str, plain: list[float], compressed: list[float], ideal: float, paper: bool = False) -> Row:
    """Measured speedup (median of round-by-round ratios) beside the FLOP ideal and the share of it achieved."""
    speedups = paired_ratios(plain, compressed)
    measured = median(speedups)
    fraction = measured / ideal
    time_change, ideal_change = 1 / measured - 1, 1 / ideal - 1
    compare = f"FLOP ideal {ideal:.2f}× → {fraction:.0%} of ideal; time {time_change:+.0%} (ideal {ideal_change:+.0%}"
    compare += f", paper {PAPER_STEP_CHANGE:+.0%})" if paper else ")"
    return Row(
        FAMILY,
        name,
        measured,
        "×",
        compare=compare,
        goal=f"≥ {GOAL_OF_IDEAL:.0%} of ideal",
        met=fraction >= GOAL_OF_IDEAL,
        data={"speedups": speedups, "ideal": ideal, "fraction_of_ideal": fraction, "time_change": time_change},
    )


def _enable_layers(model: nn.Module, layers: Iterable[int]) -> None:
    """Compress exactly `layers`; every other block runs diffusers' plain attention."""
    wanted = set(layers)
    for index, block in enumerate(model.transformer_blocks):
        processor = block.attn1.processor
        if isinstance(processor, KVCompressionProcessor):
            processor.enabled = index in wanted


def _step(model: nn.Module, inputs: dict[str, Any], layers_on: tuple[int, ...]) -> None:
    """One guided denoising step with compression on exactly `layers_on`."""
    _enable_layers(model, layers_on)
    with torch.no_grad():
        model(**inputs)


def step_sizes(ctx: Context) -> dict[str, int]:
    """Image sides timed per step: 1K, 2K and 4K (a 64-pixel stand-in when smoke-testing)."""
    return {"smoke 64px": 64} if ctx.smoke else STEP_SIZES


def step_inputs(
    config: dict[str, Any],
    pixels: int,
    dtype: torch.dtype,
    device: torch.device,
) -> dict[str, Any]:
    """The transformer's arguments for one guided step on a square `pixels`² image: seeded noise and caption."""
    latent = pixels // 8
    states, mask = _text_inputs(GUIDED_BATCH, config["caption_channels"], dtype, device)
    generator = torch.Generator().manual_seed(2)
    noise = torch.randn(GUIDED_BATCH, config["in_channels"], latent, latent, generator=generator)
    return {
        "hidden_states": noise.to(device, dtype),
        "encoder_hidden_states": states,
        "encoder_attention_mask": mask,
        "timestep": torch.full((GUIDED_BATCH,), 999, device=device),
        "added_cond_kwargs": {"resolution": None, "aspect_ratio": None},
        "return_dict": False,
    }


def step_times(ctx: Context) -> dict[str, Any]:
    """Seconds per guided denoising step by size and mode (off / released / all), measured once per run."""
    if "kv_steps" in ctx.cache:
        return ctx.cache["kv_steps"]
    config = dit_config(ctx.smoke)
    layers = config["num_layers"]
    modes = {"off": (), "released": released_config(layers).layers, "all": tuple(range(layers))}
    model = random_transformer(config, ctx.device, ctx.half_dtype)
    apply_kv_compression(model, KVCompressionConfig(layers=modes["all"], ratio=RATIO, sampling="conv"))
    results: dict[str, Any] = {
        "config": config,
        "dtype": str(ctx.half_dtype).removeprefix("torch."),
        "released_layers": modes["released"],
        "sizes": {},
    }
    for label, pixels in step_sizes(ctx).items():
        latent = pixels // 8
        inputs = step_inputs(config, pixels, ctx.half_dtype, ctx.device)
        ctx.log(f"kv: steps at {label}, compression off / released / all")
        times = alternate(
            ctx,
            {mode: partial(_step, model, inputs, on) for mode, on in modes.items()},
            repeats=ctx.repeats(7, 3),
            warmup=ctx.repeats(2, 1),
        )
        flops = {mode: step_flops(config, latent, latent, GUIDED_BATCH, on, RATIO) for mode, on in modes.items()}
        results["sizes"][label] = {"pixels": pixels, "times_s": times, "flops": flops}
    del model, inputs
    if ctx.is_cuda:
        torch.cuda.empty_cache()
    ctx.cache["kv_steps"] = results
    return results


def step_rows(ctx: Context) -> list[Row]:
    """Per size: ms per step in each mode, and the speedups of released and all-layer compression."""
    measured = step_times(ctx)
    dtype, rows = measured["dtype"], []
    for label, size in measured["sizes"].items():
        times, flops = size["times_s"], size["flops"]
        for mode in times:
            rows.append(
                Row(
                    FAMILY,
                    f"step at {label}, compression {mode} (batch 2, {dtype})",
                    median(times[mode]) * 1000,
                    "ms",
                    compare=f"{flops[mode] / 1e12:,.1f} TFLOP",
                    data={"times_s": times[mode], "flops": flops[mode]},
                )
            )
        paper = label in ("2K", "4K")
        released = measured["released_layers"]
        for mode, what in (("released", f"released (layers {released[0]}–{released[-1]})"), ("all", "all layers")):
            ideal = flops["off"] / flops[mode]
            rows.append(_speedup_row(f"step speedup at {label}, {what}", times["off"], times[mode], ideal, paper=paper))
    return rows
