"""Image tensors in [-1, 1]: exact-size resize and centre crop, upscaling for refine, and PIL conversion."""

from __future__ import annotations

import torch
from diffusers.image_processor import VaeImageProcessor
from PIL import Image
from torch.nn.functional import interpolate

# Below this scale plain bilinear skips source pixels and aliases; diffusers' binning never goes that low.
ANTIALIAS_BELOW = 0.5


def resize_and_crop(images: torch.Tensor, width: int, height: int) -> torch.Tensor:
    """Scale (B, C, H, W) images to cover `width`×`height`, then centre-crop to exactly that size.

    The same arithmetic as diffusers' `PixArtImageProcessor.resize_and_crop_tensor`, with two guards: a side
    that float rounding leaves one pixel short is raised to the target, and strong downscales are antialiased.
    """
    orig_height, orig_width = images.shape[-2:]
    if (orig_height, orig_width) == (height, width):
        return images
    ratio = max(height / orig_height, width / orig_width)
    resized_width = max(width, int(orig_width * ratio))
    resized_height = max(height, int(orig_height * ratio))
    images = interpolate(
        images,
        size=(resized_height, resized_width),
        mode="bilinear",
        align_corners=False,
        antialias=ratio < ANTIALIAS_BELOW,
    )
    left = (resized_width - width) // 2
    top = (resized_height - height) // 2
    return images[:, :, top : top + height, left : left + width]


def upscale(images: torch.Tensor, width: int, height: int) -> torch.Tensor:
    """Bicubic upscale of decoded images to `width`×`height` for a refine pass, kept inside [-1, 1]."""
    resized = interpolate(images.float(), size=(height, width), mode="bicubic", align_corners=False)
    return resized.clamp(-1, 1)


def to_pil(images: torch.Tensor) -> list[Image.Image]:
    """(B, 3, H, W) images in [-1, 1] → PIL images, rounded as diffusers' postprocess does."""
    array = VaeImageProcessor.pt_to_numpy(VaeImageProcessor.denormalize(images.float()))
    return VaeImageProcessor.numpy_to_pil(array)
