"""Aspect-ratio bins, size tiers and the plan that turns a requested size into what is sampled."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from enum import Enum
from functools import cache
from pathlib import Path

from app.core.errors import InvalidRequestError

_BINS_FILE = Path(__file__).with_name("data") / "aspect_ratio_bins.json"

# Tier scales relative to the model's native resolution (for the 1024 model: 512, 1K, 2K, 4K).
TIER_SCALES: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0)
MIN_SIDE = 64
MAX_SIDE = 8192
MAX_PIXELS = 8192 * 8192
# Bins cover height/width ratios 0.25 to 4; a little beyond is still reachable by cropping.
MIN_RATIO, MAX_RATIO = 0.2, 5.0


class HighResMethod(str, Enum):
    """How a user (or, for `auto`, the model's studio.json) wants sizes above the model's native resolution made."""

    AUTO = "auto"
    DIRECT = "direct"
    REFINE = "refine"
    ENLARGE = "enlarge"  # the native image resized up: fastest, adds no detail; the demo model's best (docs/engine.md)


class GenerationPath(str, Enum):
    """How a request was actually made; recorded in the result and the image metadata."""

    NATIVE = "native"
    DIRECT = "direct"
    REFINE = "refine"
    ENLARGED = "enlarged"


@dataclass(frozen=True)
class Tier:
    """A size tier of a model: a scale of its native resolution with a short label."""

    scale: float
    resolution: int

    @property
    def label(self) -> str:
        """'1K', '2K', '4K' for multiples of 1024, else the pixel count ('512')."""
        if self.resolution >= 1024 and self.resolution % 1024 == 0:
            return f"{self.resolution // 1024}K"
        return str(self.resolution)


@dataclass(frozen=True)
class SizePlan:
    """What is sampled for a requested size, and how the result reaches it exactly."""

    target_width: int
    target_height: int
    width: int  # sampled size: the tier's bin (the native bin when enlarged)
    height: int
    base_width: int  # native-resolution bin; the first pass of a refine
    base_height: int
    tier: Tier  # the tier asked for (an enlarged plan samples below it)
    path: GenerationPath

    @property
    def upscale(self) -> float:
        """Factor from the base pass to the sampled size (1 unless refining)."""
        return self.width / self.base_width

    @property
    def needs_resize(self) -> bool:
        """True when the sampled bin differs from the requested pixels."""
        return (self.width, self.height) != (self.target_width, self.target_height)


@cache
def _ported_tables() -> dict[int, dict[float, tuple[int, int]]]:
    raw = json.loads(_BINS_FILE.read_text(encoding="utf-8"))
    return {
        int(native): {float(ratio): (int(hw[1]), int(hw[0])) for ratio, hw in table.items()}
        for native, table in raw.items()
        if not native.startswith("_")
    }


def _round_to(value: float, multiple: int) -> int:
    return max(multiple, round(value / multiple) * multiple)


@cache
def aspect_ratio_bins(resolution: int, multiple: int = 16) -> dict[float, tuple[int, int]]:
    """Bins of a resolution as {height/width ratio: (width, height)}.

    PixArt's own tables are used for 256, 512, 1024 and 2048; other resolutions (the demo model,
    4096) scale the nearest table and round each side to `multiple` pixels.
    """
    if resolution <= 0:
        raise InvalidRequestError(f"resolution must be positive, got {resolution}")
    tables = _ported_tables()
    if resolution in tables:
        return tables[resolution]
    nearest = min(tables, key=lambda r: abs(math.log(r / resolution)))
    factor = resolution / nearest
    return {
        ratio: (_round_to(w * factor, multiple), _round_to(h * factor, multiple))
        for ratio, (w, h) in tables[nearest].items()
    }


def nearest_bin(width: int, height: int, resolution: int) -> tuple[int, int]:
    """The bin (width, height) whose ratio is closest to height/width, as diffusers' binning picks it."""
    bins = aspect_ratio_bins(resolution)
    ratio = height / width
    closest = min(bins, key=lambda r: abs(r - ratio))
    return bins[closest]


def tiers(native_resolution: int) -> tuple[Tier, ...]:
    """The size tiers of a model (for the 1024 model: 512, 1K, 2K, 4K).

    A tier is offered only when every aspect bin at it is a size the app can make, so any aspect preset works at
    any tier shown (the 128-px demo model has no 64-px tier, a 2048 model no 8K one); native is always offered.
    """
    candidates = (Tier(scale, int(native_resolution * scale)) for scale in TIER_SCALES)
    return tuple(tier for tier in candidates if tier.scale == 1.0 or _bins_are_valid_sizes(tier.resolution))


@cache
def _bins_are_valid_sizes(resolution: int) -> bool:
    try:
        for width, height in aspect_ratio_bins(resolution).values():
            validate_size(width, height)
    except InvalidRequestError:
        return False
    return True


def validate_size(width: int, height: int) -> None:
    """Raise InvalidRequestError when a size is not something the app can produce."""
    for name, side in (("width", width), ("height", height)):
        if not isinstance(side, int) or isinstance(side, bool):
            raise InvalidRequestError(f"{name} must be a whole number of pixels, got {side!r}")
        if not MIN_SIDE <= side <= MAX_SIDE:
            raise InvalidRequestError(f"{name} {side} is out of range; use {MIN_SIDE} to {MAX_SIDE} pixels")
    if width * height > MAX_PIXELS:
        raise InvalidRequestError(f"{width}×{height} has too many pixels; at most {MAX_PIXELS:,} are supported")
    ratio = height / width
    if not MIN_RATIO <= ratio <= MAX_RATIO:
        raise InvalidRequestError(
            f"{width}×{height} is too narrow or too wide; the height/width ratio must be between "
            f"{MIN_RATIO} and {MAX_RATIO}"
        )


def plan_size(
    width: int,
    height: int,
    native_resolution: int,
    method: HighResMethod = HighResMethod.AUTO,
    tier_scale: float | None = None,
    model_method: HighResMethod = HighResMethod.AUTO,
) -> SizePlan:
    """Plan how `width`×`height` is made by a model trained at `native_resolution`.

    Without a tier, the smallest tier whose bin covers the target on both sides is used (at most
    4× native). Above native, `auto` follows `model_method`, what the model's makers measured best (studio.json's
    `above_native`); a model that says nothing gets direct sampling up to 2× and refine (native pass, upscale,
    image-to-image) beyond. Enlarge samples the native bin and resizes it to the target.
    """
    validate_size(width, height)
    model_tiers = tiers(native_resolution)
    if tier_scale is None:
        chosen = model_tiers[-1]
        for tier in model_tiers:
            bin_w, bin_h = nearest_bin(width, height, tier.resolution)
            if bin_w >= width and bin_h >= height:
                chosen = tier
                break
    else:
        matching = [t for t in model_tiers if math.isclose(t.scale, tier_scale)]
        if not matching:
            valid = ", ".join(f"{t.scale:g}" for t in model_tiers)
            raise InvalidRequestError(f"tier scale {tier_scale} is not one of {valid}")
        chosen = matching[0]
    sampled_w, sampled_h = nearest_bin(width, height, chosen.resolution)
    base_w, base_h = nearest_bin(width, height, native_resolution)
    if method is HighResMethod.AUTO:
        method = model_method
    if method is HighResMethod.AUTO:
        method = HighResMethod.DIRECT if chosen.scale <= 2.0 else HighResMethod.REFINE
    if chosen.scale <= 1.0:
        path = GenerationPath.NATIVE
        base_w, base_h = sampled_w, sampled_h
    elif method is HighResMethod.ENLARGE:
        path = GenerationPath.ENLARGED
        sampled_w, sampled_h = base_w, base_h
    elif method is HighResMethod.DIRECT:
        path = GenerationPath.DIRECT
        base_w, base_h = sampled_w, sampled_h
    else:
        path = GenerationPath.REFINE
    return SizePlan(width, height, sampled_w, sampled_h, base_w, base_h, chosen, path)


_A_SIZE = re.compile(r"a(\d{0,2})?(?:[\s_-]*(portrait|landscape))?")


def parse_aspect(text: str) -> tuple[float, float]:
    """'16:9' as (16, 9); an A size ('A4', 'A3 landscape', 'A portrait', as the window offers) as (1, √2) or (√2, 1).

    Raise InvalidRequestError naming the text otherwise.
    """
    a_size = _A_SIZE.fullmatch(text.strip().lower())
    if a_size:
        # Every A size has the same 1:√2 shape, portrait unless asked otherwise.
        return (math.sqrt(2), 1.0) if a_size.group(2) == "landscape" else (1.0, math.sqrt(2))
    parts = text.replace("x", ":").split(":")
    try:
        w, h = (int(p) for p in parts)
    except ValueError:
        raise InvalidRequestError(
            f"aspect {text!r} is not of the form W:H (for example 16:9) or an A size (A4, 'A4 landscape')"
        ) from None
    if w <= 0 or h <= 0:
        raise InvalidRequestError(f"aspect {text!r} must have positive sides")
    return w, h


def aspect_bin(aspect_w: float, aspect_h: float, resolution: int) -> tuple[int, int]:
    """The bin (width, height) of a resolution sampled for an aspect ratio such as 16:9."""
    return nearest_bin(round(aspect_w * 1000), round(aspect_h * 1000), resolution)


def size_for_aspect(aspect_w: float, aspect_h: float, resolution: int) -> tuple[int, int]:
    """The largest size of exactly `aspect_w`:`aspect_h` inside its bin (16:9 at the 1344×768 bin: 1344×756).

    The bin is sampled and then centre-cropped to this size, so the image has the ratio its button names; a side
    that would fall under MIN_SIDE grows to it instead (the bin is then resized up a little before the crop).
    """
    bin_w, bin_h = aspect_bin(aspect_w, aspect_h, resolution)
    if float(aspect_w).is_integer() and float(aspect_h).is_integer():
        # Whole multiples of the reduced ratio (16:9 → 16k × 9k) keep it exact to the pixel.
        divisor = math.gcd(int(aspect_w), int(aspect_h))
        unit_w, unit_h = int(aspect_w) // divisor, int(aspect_h) // divisor
        k = max(min(bin_w // unit_w, bin_h // unit_h), math.ceil(MIN_SIDE / min(unit_w, unit_h)))
        return unit_w * k, unit_h * k
    # An irrational ratio (the A series' 1:√2) is kept to the nearest pixel.
    if bin_h * aspect_w >= bin_w * aspect_h:
        width, height = bin_w, round(bin_w * aspect_h / aspect_w)
    else:
        width, height = round(bin_h * aspect_w / aspect_h), bin_h
    scale = max(1.0, MIN_SIDE / min(width, height))
    return round(width * scale), round(height * scale)
