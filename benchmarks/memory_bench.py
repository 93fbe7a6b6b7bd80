"""Memory at 4K: VAE decode with the SDXL VAE architecture tiled vs untiled, and whole 4K requests (GPU).

On the CPU every decode runs in a fresh child process and its peak resident set above the loaded VAE and
latents is read from the kernel; a child is stopped if it crosses a memory guard. Larger sizes are skipped,
with the reason, when the smaller ones predict they would not fit in RAM or in the time budget. On a GPU
the CUDA allocator's peak is read in process.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass

import torch

from app.core.engine_options import VaeTiling
from app.core.errors import InsufficientMemoryError
from app.core.memory_estimate import vae_activation_bytes, vae_tiled_activation_bytes
from app.engine.memory import element_size
from app.engine.vae_decode import OVERLAP_LATENTS, TILE_LATENTS, decode_latents
from benchmarks.harness import Context, Row, in_memory_units
from benchmarks.models import random_vae
from benchmarks.system import GIB, ChildError, available_memory, current_rss, peak_rss, reset_peak_rss, run_child

FAMILY = "memory"
VAE_FACTOR = 8
MEMORY_GUARD = 0.8  # share of the available RAM a CPU decode may use
_CPU_SECONDS = {"quick": 150.0, "full": 1500.0}  # longest single CPU decode a run will start


@dataclass(frozen=True)
class DecodeCase:
    """One decode: image side in pixels, tiled or not, and the tile geometry in latent cells."""

    side: int
    tiled: bool
    tile: int = TILE_LATENTS
    overlap: int = OVERLAP_LATENTS

    @property
    def label(self) -> str:
        """How the case reads in the table."""
        if not self.tiled:
            return f"{self.side}² untiled"
        default = (self.tile, self.overlap) == (TILE_LATENTS, OVERLAP_LATENTS)
        return f"{self.side}² tiled" + ("" if default else f" ({self.tile * VAE_FACTOR}-px tiles)")

    @property
    def decoded_pixels(self) -> int:
        """Pixels the decoder computes, overlaps counted each time (time grows with this)."""
        if not self.tiled:
            return self.side * self.side
        latent = self.side // VAE_FACTOR
        span = min(self.tile, latent)
        count = 1 if latent <= self.tile else math.ceil((latent - self.overlap) / (self.tile - self.overlap))
        return (count * span * VAE_FACTOR) ** 2


def decode_cases(ctx: Context) -> list[DecodeCase]:
    """Smallest first, so each measurement can predict the next; untiled before tiled at each size."""
    if ctx.smoke:
        return [DecodeCase(64, False), DecodeCase(64, True, tile=4, overlap=1)]
    if ctx.is_cuda:
        return [DecodeCase(side, tiled) for side in (2048, 4096) for tiled in (False, True)]
    if ctx.quick:  # a 1K decode takes minutes on a small CPU: the same comparison at half the scale
        return [DecodeCase(512, False), DecodeCase(512, True, tile=32, overlap=8)]
    return [DecodeCase(side, tiled) for side in (1024, 2048) for tiled in (False, True)]


def decode_once(case: DecodeCase, device: torch.device, dtype: torch.dtype, smoke: bool) -> tuple[int, float, int]:
    """(peak bytes above the loaded VAE and latents, seconds, the engine's estimate in bytes) of one decode."""
    vae = random_vae(device, dtype, smoke)
    latent = case.side // VAE_FACTOR
    latents = torch.randn(1, 4, latent, latent, generator=torch.Generator().manual_seed(0)).to(device, dtype)
    tiling = VaeTiling.ON if case.tiled else VaeTiling.OFF
    channels, size = tuple(vae.config.block_out_channels), element_size(dtype)
    if case.tiled:
        tile = case.tile * VAE_FACTOR
        estimate = vae_tiled_activation_bytes(channels, case.side, case.side, tile, size, device.type)
    else:
        estimate = vae_activation_bytes(channels, case.side, case.side, size, device.type)
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
    else:
        reset_peak_rss()
        before = current_rss()
    clock = time.perf_counter if device.type == "cuda" else time.process_time  # CPU: steady on a shared machine
    started = clock()
    with torch.no_grad():
        image = decode_latents(vae, latents, tiling, tile=case.tile, overlap=case.overlap)
    if device.type == "cuda":
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() - before
    else:
        peak = peak_rss() - before
    seconds = clock() - started
    del image, vae, latents
    return peak, seconds, estimate


def run(ctx: Context) -> list[Row]:
    """VAE decode rows, then the whole-request rows (GPU only)."""
    rows = vae_rows(ctx)
    if ctx.is_cuda:
        from benchmarks.request_memory import request_rows

        rows += request_rows(ctx)
    else:
        rows.append(Row.skip(FAMILY, "whole 4K request by path and text-encoder placement", "GPU only"))
    return rows


def vae_rows(ctx: Context) -> list[Row]:
    """Peak memory and time of each decode case, and tiled ÷ untiled at each size."""
    dtype = ctx.half_dtype
    rows: list[Row] = []
    measured: dict[DecodeCase, tuple[int, float]] = {}
    for case in decode_cases(ctx):
        name = f"VAE decode {case.label}, peak memory"
        reason = _reason_to_skip(ctx, case, measured)
        if reason:
            rows.append(Row.skip(FAMILY, name, reason))
            continue
        ctx.log(f"memory: VAE decode {case.label}")
        try:
            peak, seconds, estimate = _measure(ctx, case, dtype)
        except (ChildError, InsufficientMemoryError, torch.cuda.OutOfMemoryError) as error:  # a result, not a crash
            rows.append(Row.skip(FAMILY, name, f"failed: {error}"))
            if ctx.is_cuda:
                torch.cuda.empty_cache()
            continue
        peak = max(peak, 1)  # a decode that fitted in memory freed just before reads as 0 bytes
        measured[case] = (peak, seconds)
        rows.append(
            Row(
                FAMILY,
                name,
                *in_memory_units(peak),
                compare=f"{seconds:.3g} s; engine estimate {estimate / GIB:.2f} GiB ({estimate / peak:.2f}× measured)",
                data={"peak_bytes": peak, "seconds": seconds, "engine_estimate_bytes": estimate, "case": vars(case)},
            )
        )
    for case, (peak, seconds) in measured.items():
        whole = DecodeCase(case.side, tiled=False)
        if case.tiled and whole in measured:
            whole_peak, whole_seconds = measured[whole]
            rows.append(
                Row(
                    FAMILY,
                    f"VAE decode {case.label} ÷ untiled, peak memory",
                    peak / whole_peak,
                    "×",
                    compare=f"time {seconds / whole_seconds:.2f}× of untiled",
                )
            )
    return rows


def _measure(ctx: Context, case: DecodeCase, dtype: torch.dtype) -> tuple[int, float, int]:
    if ctx.is_cuda:
        return decode_once(case, ctx.device, dtype, ctx.smoke)
    args = ["--side", str(case.side), "--tile", str(case.tile), "--overlap", str(case.overlap)]
    args += ["--tiled"] if case.tiled else []
    args += ["--smoke"] if ctx.smoke else []
    budget = _CPU_SECONDS["quick" if ctx.quick or ctx.smoke else "full"]
    guard = int(MEMORY_GUARD * available_memory())
    result = run_child("benchmarks.memory_bench", args, 4 * budget, guard, ctx.threads)
    return result["peak_bytes"], result["seconds"], result["estimate_bytes"]


def _reason_to_skip(ctx: Context, case: DecodeCase, measured: dict[DecodeCase, tuple[int, float]]) -> str:
    """Why a CPU decode should not start, predicted from the largest measured case of the same kind; else ''."""
    if ctx.is_cuda or not measured:
        return ""
    same_kind = [c for c in measured if c.tiled == case.tiled] or list(measured)
    reference = max(same_kind, key=lambda c: c.side)
    peak, seconds = measured[reference]
    # Untiled memory grows with the image; tiled memory with its output buffers, which also grow with it.
    predicted_peak = peak * case.side**2 / reference.side**2
    predicted_seconds = seconds * case.decoded_pixels / reference.decoded_pixels
    budget = _CPU_SECONDS["quick" if ctx.quick else "full"]
    if predicted_peak > MEMORY_GUARD * available_memory():
        return f"would need about {predicted_peak / GIB:.0f} GiB; {available_memory() / GIB:.0f} GiB is available"
    if predicted_seconds > budget:
        return f"would take about {predicted_seconds / 60:.0f} min on this CPU (budget {budget / 60:.0f} min)"
    return ""


def _child(argv: list[str]) -> int:
    """Child process: one CPU decode; prints its peak, time and the engine's estimate as JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--side", type=int, required=True)
    parser.add_argument("--tiled", action="store_true")
    parser.add_argument("--tile", type=int, default=TILE_LATENTS)
    parser.add_argument("--overlap", type=int, default=OVERLAP_LATENTS)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    case = DecodeCase(args.side, args.tiled, args.tile, args.overlap)
    peak, seconds, estimate = decode_once(case, torch.device("cpu"), torch.float32, args.smoke)
    print(json.dumps({"peak_bytes": peak, "seconds": seconds, "estimate_bytes": estimate}))
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))
