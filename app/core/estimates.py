"""Rough time and memory estimates for a planned size, calibrated by the jobs this machine has run."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.engine_options import Precision, VaeTiling
from app.core.request import GenerationRequest, KVCompressionMode
from app.core.sizes import GenerationPath, SizePlan, plan_size

# PixArt-Σ XL/2: hidden size 1152, patch 2 on a VAE with 8× downsampling, so one token per 16×16 pixels.
_HIDDEN = 1152
_PIXELS_PER_TOKEN = 16 * 16
_VAE_CHANNELS = 128  # widest decoder block at full resolution; it sets the decode peak
_VAE_TILE = 512
_SMOOTHING = 0.5  # weight of the newest measurement in the running speed estimate


@dataclass(frozen=True)
class Estimate:
    """Expected seconds (None until a job has been timed here) and peak working memory in bytes."""

    seconds: float | None
    memory_bytes: int


def _tokens(width: int, height: int) -> int:
    return max(1, (width * height) // _PIXELS_PER_TOKEN)


def _step_units(width: int, height: int, compressed: bool) -> float:
    # Per token and layer: the linear layers cost ~28·d², attention ~4·N_kv·d; compression quarters N_kv.
    tokens = _tokens(width, height)
    kv_tokens = tokens / 4 if compressed else tokens
    return tokens * (28 * _HIDDEN + 4 * kv_tokens) / 1e9


def _compressed(mode: KVCompressionMode, width: int, height: int, native: int) -> bool:
    if mode is KVCompressionMode.AUTO:
        return width * height > native * native
    return mode is KVCompressionMode.ON


def work_units(plan: SizePlan, steps: int, kv: KVCompressionMode, refine_strength: float, batch: int = 1) -> float:
    """Machine-independent cost of a job: sampling steps weighted by tokens and attention size."""
    native = int(plan.tier.resolution / plan.tier.scale)
    sampled = _step_units(plan.width, plan.height, _compressed(kv, plan.width, plan.height, native))
    if plan.path is GenerationPath.REFINE:
        base = _step_units(plan.base_width, plan.base_height, False)
        return batch * steps * (base + refine_strength * sampled)
    return batch * steps * sampled


def request_units(request: GenerationRequest, native_resolution: int) -> float:
    """work_units for a finished or queued request."""
    plan = plan_size(request.width, request.height, native_resolution, request.high_res, request.tier_scale)
    return work_units(plan, request.steps, request.kv_compression, request.refine_strength, request.batch_size)


def update_speed(previous: float | None, elapsed_s: float, units: float) -> float | None:
    """Blend a finished job's measured seconds per unit into the running estimate."""
    if units <= 0 or elapsed_s <= 0:
        return previous
    measured = elapsed_s / units
    return measured if previous is None else (1 - _SMOOTHING) * previous + _SMOOTHING * measured


def estimate(
    plan: SizePlan,
    steps: int,
    kv: KVCompressionMode,
    refine_strength: float,
    seconds_per_unit: float | None,
    precision: Precision = Precision.AUTO,
    vae_tiling: VaeTiling = VaeTiling.AUTO,
    batch: int = 1,
) -> Estimate:
    """Time from the measured speed, and activation plus VAE-decode memory (weights not included)."""
    units = work_units(plan, steps, kv, refine_strength, batch)
    seconds = units * seconds_per_unit if seconds_per_unit is not None else None
    bytes_per_value = 4 if precision is Precision.FP32 else 2
    # Classifier-free guidance doubles the batch; ~12 hidden-sized buffers are alive per block.
    activations = 2 * _tokens(plan.width, plan.height) * _HIDDEN * bytes_per_value * 12
    decode_pixels = plan.target_width * plan.target_height
    if vae_tiling is VaeTiling.ON or (vae_tiling is VaeTiling.AUTO and decode_pixels > 2048 * 2048):
        decode_pixels = min(decode_pixels, _VAE_TILE * _VAE_TILE)
    decode = decode_pixels * _VAE_CHANNELS * bytes_per_value * 3
    return Estimate(seconds, int(max(activations, decode)))


def format_duration(seconds: float) -> str:
    """'45 s', '3 min 20 s', '1 h 5 min'."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def format_bytes(count: int) -> str:
    """'12 KB', '820 MB', '3.4 GB'."""
    if count < 1e6:
        return f"{count / 1e3:.0f} KB"
    if count < 1e9:
        return f"{count / 1e6:.0f} MB"
    return f"{count / 1e9:.1f} GB"
