"""VAE decode levers at 4K (issue #33): channels-last weights and the tile size, against the app's tiled decode.

The app decodes a 4K image in 768-px tiles with a 192-px overlap (`app/engine/vae_decode.py`; above 2048² the
policy tiles). Each lever decodes the same latents with the same weights (channels-last is a copy of the VAE in
that memory layout) and alternates with the current decode. A different tile size moves the seams and the
GroupNorm statistics of each tile, so its image differs from the current one by more than rounding; the
difference is reported in the image's own units ([-1, 1]) and in 8-bit levels.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch

from app.core.engine_options import VaeTiling
from app.core.memory_estimate import tiles_by_policy
from app.engine.vae_decode import OVERLAP_LATENTS, TILE_LATENTS, decode_latents
from benchmarks.budget import Budget
from benchmarks.harness import Context, Row, alternate, in_memory_units, median, paired_ratios

FAMILY = "levers"
ROUNDS = 1  # a 4K decode takes seconds and varies little between rounds
_VAE_FACTOR = 8


@dataclass(frozen=True)
class _Geometry:
    """Image side, the app's tile, the tiles tried instead and the overlap, in latent cells but the side."""

    side: int
    tile: int
    tiles: tuple[int, ...]
    overlap: int


# 512-, 1,024- and 1,536-px tiles against the app's 768; a tiny stand-in when smoke-testing.
_GPU = _Geometry(4096, TILE_LATENTS, (64, 128, 192), OVERLAP_LATENTS)
_SMOKE = _Geometry(64, 4, (3, 6), 1)


def vae_rows(ctx: Context, vae: torch.nn.Module, budget: Budget) -> list[Row]:
    """The current 4K decode, then each lever that fits the open budget section (a skip row for the others)."""
    shape = _SMOKE if ctx.smoke else _GPU
    if not ctx.smoke and not tiles_by_policy(shape.side, shape.side, VaeTiling.AUTO):
        raise AssertionError(f"the app no longer tiles a {shape.side}² decode by policy: this current path is not it")
    latent = shape.side // _VAE_FACTOR
    generator = torch.Generator().manual_seed(3)
    latents = torch.randn(1, 4, latent, latent, generator=generator).to(ctx.device, vae.dtype)
    dtype = str(vae.dtype).removeprefix("torch.")

    def decode(model: torch.nn.Module, tile: int) -> torch.Tensor:
        with torch.no_grad():
            return decode_latents(model, latents, VaeTiling.ON, tile=tile, overlap=shape.overlap)

    current = partial(decode, vae, shape.tile)
    # Lever → (its VAE, made only when the lever runs so the channels-last copy exists only then; its tile).
    levers: dict[str, tuple[Callable[[], torch.nn.Module], int]] = {
        "channels-last weights": (lambda: copy.deepcopy(vae).to(memory_format=torch.channels_last), shape.tile),
        **{f"{cells * _VAE_FACTOR}-px tiles": (lambda: vae, cells) for cells in shape.tiles},
    }
    reference, reference_peak = _peak(ctx, current)  # also the warm-up: kernel selection, the allocator's blocks
    current_times = [ctx.time_once(current)]
    rows: list[Row] = []
    for name, (make_vae, tile) in levers.items():
        estimate = (1 + 2 * ROUNDS) * current_times[0]
        label = f"VAE decode {shape.side}²: {name} (overlap {shape.overlap * _VAE_FACTOR} px, as the app's)"
        if not budget.fits(estimate):
            rows.append(Row.skip(FAMILY, label, budget.refusal(estimate)))
            continue
        action = partial(decode, make_vae(), tile)
        output, peak = _peak(ctx, action)
        times = alternate(ctx, {"current": current, name: action}, repeats=ROUNDS, warmup=0)
        current_times += times["current"]
        ratios = paired_ratios(times[name], times["current"])
        delta = (output - reference).abs()
        biggest, mean = delta.max().item(), delta.mean().item()
        compare = f"{median(ratios):.3f}× the current decode ({median(times[name]):.3g} vs "
        compare += f"{median(times['current']):.3g} s{_peak_words(peak, reference_peak)}); image Δ max {biggest:.2g} "
        compare += f"({biggest * 127.5:.1f}/255), mean {mean:.2g} ({dtype} VAE)"
        data = {"times_s": times, "ratios": ratios, "peak_bytes": peak}
        data |= {"max_abs_difference": biggest, "mean_abs_difference": mean}
        rows.append(Row(FAMILY, label, median(ratios), "×", compare=compare, data=data))
        del action, output, delta
    current_row = Row(
        FAMILY,
        f"VAE decode {shape.side}²: current path ({shape.tile * _VAE_FACTOR}-px tiles, {dtype})",
        median(current_times),
        "s",
        compare=_peak_words(reference_peak, None).removeprefix("; "),
        data={"times_s": current_times, "peak_bytes": reference_peak},
    )
    return [current_row, *rows]


def _peak(ctx: Context, action: Callable[[], torch.Tensor]) -> tuple[torch.Tensor, int | None]:
    """The output of one call and the CUDA allocator's peak above what it held before (None off CUDA)."""
    if not ctx.is_cuda:
        return action(), None
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    before = torch.cuda.memory_allocated()
    output = action()
    torch.cuda.synchronize()
    return output, torch.cuda.max_memory_allocated() - before


def _peak_words(peak: int | None, current: int | None) -> str:
    """The peak memory for a row's comparison ("; peak 1.20 GiB (current 1.59 GiB)"); nothing off CUDA."""
    if peak is None:
        return ""
    value, unit = in_memory_units(peak)
    words = f"; peak {value:,.2f} {unit}"
    if current is not None:
        value, unit = in_memory_units(current)
        words += f" (current {value:,.2f} {unit})"
    return words
