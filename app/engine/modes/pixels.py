"""Pixel-space steps of the image modes: fitting a source to a size, feathering masks, pasting back."""

from __future__ import annotations

import numpy as np
import torch
from diffusers.image_processor import VaeImageProcessor
from PIL import Image, ImageFilter

# A large downscale is done in two stages (box, then bicubic) as PIL's reducing_gap does: sharp and fast.
_REDUCING_GAP = 3.0


def stretch(image: Image.Image, width: int, height: int) -> Image.Image:
    """Resize to exactly `width`×`height` (bicubic; the small aspect change of a bin is not cropped away)."""
    if image.size == (width, height):
        return image
    return image.resize((width, height), Image.Resampling.BICUBIC, reducing_gap=_REDUCING_GAP)


def fit(image: Image.Image, width: int, height: int) -> Image.Image:
    """Scale to cover `width`×`height` and centre-crop to it, as generated sizes are made."""
    if image.size == (width, height):
        return image
    ratio = max(width / image.width, height / image.height)
    cover_w, cover_h = max(width, round(image.width * ratio)), max(height, round(image.height * ratio))
    covered = stretch(image, cover_w, cover_h)
    left, top = (cover_w - width) // 2, (cover_h - height) // 2
    return covered.crop((left, top, left + width, top + height))


def to_tensor(image: Image.Image) -> torch.Tensor:
    """An RGB image → (1, 3, H, W) float32 in [-1, 1], normalised as diffusers' image processor does."""
    array = VaeImageProcessor.pil_to_numpy(image.convert("RGB"))
    return VaeImageProcessor.normalize(VaeImageProcessor.numpy_to_pt(array))


def feather(mask: Image.Image, blur: int) -> Image.Image:
    """The mask with its edge softened by a Gaussian of `blur` pixels (0: unchanged), for a seamless paste."""
    if blur <= 0:
        return mask
    return mask.filter(ImageFilter.GaussianBlur(blur))


def paste_back(generated: Image.Image, original: Image.Image, mask: Image.Image) -> Image.Image:
    """Generated pixels where the mask is white, the original's own where it is black, blended between."""
    return Image.composite(generated.convert("RGB"), original.convert("RGB"), mask)


def mask_array(mask: Image.Image) -> np.ndarray:
    """An L mask as float32 in [0, 1]."""
    return np.asarray(mask, dtype=np.float32) / 255.0
