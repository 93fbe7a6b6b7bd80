"""Demo-model training on the CPU: one process with every core as torch threads, against data-parallel processes.

The stage-2 workload of `train-demo --two-hours`: the demo transformer with its KV compression, batch 48 (the
default recipe's is 24) at the native 16×16 latents, 24-token captions. Both contestants train the same steps from
the same weights and data. The clock is wall time (the point is using more cores), so run it on an otherwise idle
machine. A data-parallel run first spends a few seconds starting its helper processes; a one-step run measures
that, and it is taken out of the per-step time (the recipe's stages run thousands of steps per start).
"""

from __future__ import annotations

import copy
import os
import time

import torch

from app.model.kv_compression import apply_kv_compression
from benchmarks.harness import Context, Row
from demo_training.architecture import NATIVE_RESOLUTION, TEXT_DIM, build_transformer
from demo_training.data import LatentSet
from demo_training.trainer import PROMPT_TOKENS, kv_layers
from demo_training.transformer_training import PromptTable, Schedule, train_transformer

FAMILY = "train"
BATCH = 48  # stage 2's in --two-hours, where these numbers were first taken
_LATENT_SIDE = NATIVE_RESOLUTION // 8
_EXAMPLES = 512
_PROMPTS = 64


def _workload(smoke: bool) -> tuple[torch.nn.Module, list[LatentSet], PromptTable]:
    """The demo transformer as stage 2 trains it, with random latents and caption states of the real sizes."""
    generator = torch.Generator().manual_seed(0)
    width, layers = (32, 2) if smoke else (128, 6)
    model = build_transformer(NATIVE_RESOLUTION, width, layers)
    apply_kv_compression(model, kv_layers(layers))
    latents = torch.randn(_EXAMPLES, 4, _LATENT_SIDE, _LATENT_SIDE, generator=generator)
    data = [LatentSet(latents, torch.randint(_PROMPTS, (_EXAMPLES,), generator=generator))]
    prompts = PromptTable(
        torch.randn(_PROMPTS + 1, PROMPT_TOKENS, TEXT_DIM, generator=generator), torch.ones(_PROMPTS + 1, PROMPT_TOKENS)
    )
    return model, data, prompts


def _seconds(model, data, prompts, steps: int, batch: int, processes: int) -> float:
    """Wall time of `steps` training steps from a copy of `model`."""
    schedule = Schedule(steps=steps, batch=batch, warmup=1)
    started = time.perf_counter()
    train_transformer(copy.deepcopy(model), data, [1.0], prompts, schedule, None, lambda _: None, "bench", 0, processes)
    return time.perf_counter() - started


def run(ctx: Context) -> list[Row]:
    """Per-step wall time with one process (all cores as threads) and with one single-thread process per core."""
    if ctx.is_cuda:
        return [Row.skip(FAMILY, "demo-model training, data parallel", "the demo trains on the CPU")]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if cores < 2 and not ctx.smoke:
        return [Row.skip(FAMILY, "demo-model training, data parallel", "needs at least 2 cores")]
    processes = max(2, cores) if not ctx.smoke else 2
    batch = 4 if ctx.smoke else BATCH
    steps = 3 if ctx.smoke else (30 if ctx.quick else 100)
    model, data, prompts = _workload(ctx.smoke)
    threads = torch.get_num_threads()
    torch.set_num_threads(max(1, cores))
    try:
        ctx.log(f"train: {steps} steps of {batch}, 1 process × {cores} threads vs {processes} processes × 1 thread")
        one = _seconds(model, data, prompts, steps, batch, 1)
        start_up = _seconds(model, data, prompts, 1, batch, processes)
        parallel = _seconds(model, data, prompts, steps + 1, batch, processes)
    finally:
        torch.set_num_threads(threads)
    per_step_one = one / steps
    per_step_parallel = (parallel - start_up) / steps
    what = f"batch {batch}, native 16×16 latents, wall time"
    return [
        Row(FAMILY, f"stage-2 step, 1 process × {cores} threads ({what})", per_step_one, "s"),
        Row(
            FAMILY,
            f"stage-2 step, {processes} processes × 1 thread ({what})",
            per_step_parallel,
            "s",
            compare=f"start-up of the helper processes {start_up:.1f} s once per stage (not included)",
        ),
        Row(
            FAMILY,
            "data-parallel speedup per training step",
            per_step_one / per_step_parallel,
            "×",
            compare=f"{per_step_one:.3f} s vs {per_step_parallel:.3f} s per step",
            data={"one_process_s": one, "parallel_s": parallel, "start_up_s": start_up, "steps": steps},
        ),
    ]
