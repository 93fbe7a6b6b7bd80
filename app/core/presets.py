"""Named sizes designers ask for: aspect ratios, wallpapers, phones and print formats."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum


class PresetKind(str, Enum):
    """Groups of presets, as the UI shows them."""

    ASPECT = "aspect"
    WALLPAPER = "wallpaper"
    PHONE = "phone"
    PRINT = "print"


@dataclass(frozen=True)
class AspectPreset:
    """An aspect ratio whose pixel size comes from the model's bins at the chosen tier."""

    name: str
    ratio_w: float
    ratio_h: float


@dataclass(frozen=True)
class ExactSizePreset:
    """A size in exact pixels; print formats also carry the DPI written into the PNG."""

    name: str
    width: int
    height: int
    kind: PresetKind
    dpi: int = 72


_A_SERIES = math.sqrt(2)

ASPECT_PRESETS: tuple[AspectPreset, ...] = (
    AspectPreset("1:1", 1, 1),
    AspectPreset("4:3", 4, 3),
    AspectPreset("3:4", 3, 4),
    AspectPreset("3:2", 3, 2),
    AspectPreset("2:3", 2, 3),
    AspectPreset("16:9", 16, 9),
    AspectPreset("9:16", 9, 16),
    AspectPreset("21:9", 21, 9),
    AspectPreset("32:9", 32, 9),
    AspectPreset("A portrait", 1, _A_SERIES),
    AspectPreset("A landscape", _A_SERIES, 1),
)


def _print_size(name: str, width_in: float, height_in: float, dpi: int = 300) -> ExactSizePreset:
    return ExactSizePreset(name, round(width_in * dpi), round(height_in * dpi), PresetKind.PRINT, dpi)


_MM_PER_INCH = 25.4

EXACT_PRESETS: tuple[ExactSizePreset, ...] = (
    ExactSizePreset("4K UHD 3840×2160", 3840, 2160, PresetKind.WALLPAPER),
    ExactSizePreset("QHD 2560×1440", 2560, 1440, PresetKind.WALLPAPER),
    ExactSizePreset("Full HD 1920×1080", 1920, 1080, PresetKind.WALLPAPER),
    ExactSizePreset("Super ultrawide 5120×1440", 5120, 1440, PresetKind.WALLPAPER),
    ExactSizePreset("Ultrawide 3440×1440", 3440, 1440, PresetKind.WALLPAPER),
    ExactSizePreset("iPhone 15 Pro 1179×2556", 1179, 2556, PresetKind.PHONE),
    ExactSizePreset("iPhone 15 Pro Max 1290×2796", 1290, 2796, PresetKind.PHONE),
    ExactSizePreset("Pixel 8 1080×2400", 1080, 2400, PresetKind.PHONE),
    ExactSizePreset("Galaxy S24 1080×2340", 1080, 2340, PresetKind.PHONE),
    _print_size("A4 portrait 300 DPI", 210 / _MM_PER_INCH, 297 / _MM_PER_INCH),
    _print_size("A3 portrait 300 DPI", 297 / _MM_PER_INCH, 420 / _MM_PER_INCH),
    _print_size("A2 portrait 300 DPI", 420 / _MM_PER_INCH, 594 / _MM_PER_INCH),
    _print_size("US Letter 300 DPI", 8.5, 11),
    _print_size("Tabloid 11×17 in 300 DPI", 11, 17),
    _print_size("Poster 18×24 in 300 DPI", 18, 24),
)
