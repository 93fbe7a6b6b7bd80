"""Inpainting the masked area only: the padded box around a mask, shaped like a native bin, and pasting it back."""

from __future__ import annotations

from PIL import Image

from app.core.sizes import nearest_bin

Box = tuple[int, int, int, int]  # left, top, right, bottom in pixels of the image


def masked_box(mask: Image.Image, padding: int, native_resolution: int) -> Box:
    """The mask's bounding box grown by `padding`, then to the aspect of its native bin, kept inside the image.

    Growing to the bin's aspect (rather than stretching the crop to it) keeps the patch undistorted.
    """
    found = mask.getbbox()
    if found is None:  # an empty mask is refused at the edge; here it means a mask fully feathered away
        found = (0, 0, mask.width, mask.height)
    left, top, right, bottom = found
    left, top = max(0, left - padding), max(0, top - padding)
    right, bottom = min(mask.width, right + padding), min(mask.height, bottom + padding)
    bin_w, bin_h = nearest_bin(right - left, bottom - top, native_resolution)
    width, height = right - left, bottom - top
    if height / width < bin_h / bin_w:  # wider than its bin: grow the height
        top, bottom = _grow(top, bottom, round(width * bin_h / bin_w), mask.height)
    else:
        left, right = _grow(left, right, round(height * bin_w / bin_h), mask.width)
    return left, top, right, bottom


def _grow(start: int, end: int, length: int, limit: int) -> tuple[int, int]:
    """Widen [start, end) to `length` about its centre, shifted (then clipped) to stay inside [0, limit)."""
    length = min(max(length, end - start), limit)
    start = max(0, (start + end - length) // 2)
    end = start + length
    if end > limit:
        start, end = limit - length, limit
    return start, end


def paste_box(image: Image.Image, patch: Image.Image, box: Box) -> Image.Image:
    """A copy of `image` with `patch` pasted at `box`; nothing outside the box changes."""
    result = image.copy()
    result.paste(patch, box[:2])
    return result
