"""Outpaint's canvas: the source placed in a larger image whose new area continues its edges."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

# The new area's blur, relative to its width: enough to hide edge-extension streaks, keeping the edge's colours.
_FILL_BLUR_FRACTION = 0.25
_MIN_FILL_BLUR = 4


def extend_canvas(source: Image.Image, extend: tuple[int, int, int, int]) -> tuple[Image.Image, Image.Image]:
    """(canvas, mask): the source at (left, top) of the extended canvas and the mask of the new area (white).

    The new area is filled before encoding by repeating the source's edge pixels outwards and blurring them, so
    the model continues the picture rather than starting from a flat colour.
    """
    left, top, right, bottom = extend
    array = np.asarray(source.convert("RGB"))
    padded = np.pad(array, ((top, bottom), (left, right), (0, 0)), mode="edge")
    filled = Image.fromarray(padded)
    radius = max(_MIN_FILL_BLUR, int(max(extend) * _FILL_BLUR_FRACTION))
    blurred = filled.filter(ImageFilter.GaussianBlur(radius))
    mask = Image.new("L", filled.size, 255)
    mask.paste(0, (left, top, left + source.width, top + source.height))
    return Image.composite(blurred, filled, mask), mask
