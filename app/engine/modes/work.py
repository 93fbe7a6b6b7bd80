"""What each image mode samples from (its init image and mask) and how the sample becomes the final image."""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from app.core.request import GenerationRequest
from app.core.sizes import SizePlan, nearest_bin, plan_size
from app.core.source_image import GenerationMode
from app.engine.modes.masked_only import Box, masked_box, paste_box
from app.engine.modes.outpaint import extend_canvas
from app.engine.modes.pixels import feather, fit, paste_back, stretch


@dataclass(frozen=True)
class SourceWork:
    """One image mode's job: the init image and repaint mask at the sampled size, and how to finish."""

    init: Image.Image  # encoded as the starting latents, at the sampled size
    mask: Image.Image | None  # repaint mask at the sampled size (white repaints); None: image to image
    original: Image.Image  # the pixels the result is pasted back into, at the requested size
    paste_mask: Image.Image | None  # feathered mask over the work area: where generated pixels are used
    box: Box | None  # masked only: the work area inside `original`

    def finish(self, generated: Image.Image) -> Image.Image:
        """The decoded sample at the requested size, the source's own pixels pasted back outside the mask."""
        if self.paste_mask is None:
            return stretch(generated, *self.original.size)
        area = self.original if self.box is None else self.original.crop(self.box)
        patch = paste_back(stretch(generated, *area.size), area, self.paste_mask)
        return patch if self.box is None else paste_box(self.original, patch, self.box)


def source_plan(request: GenerationRequest, native_resolution: int) -> SizePlan:
    """What is sampled: the requested size as text to image plans it, or (masked only) a native bin of the box."""
    if request.masked_only and request.mask is not None:
        left, top, right, bottom = work_box(request, native_resolution)
        width, height = nearest_bin(right - left, bottom - top, native_resolution)
        return plan_size(width, height, native_resolution, tier_scale=1.0)
    return plan_size(request.width, request.height, native_resolution, request.high_res, request.tier_scale)


def work_box(request: GenerationRequest, native_resolution: int) -> Box:
    """Masked only: the padded box around the feathered mask, at the source's size."""
    assert request.mask is not None and request.source is not None
    mask = feather(request.mask.image(request.source.size), request.mask_blur)
    return masked_box(mask, request.masked_padding, native_resolution)


def prepare(request: GenerationRequest, plan: SizePlan, native_resolution: int) -> SourceWork:
    """The init image, mask and paste-back of `request`'s mode, for a sample of `plan`'s size."""
    assert request.source is not None
    source = request.source.image()
    sampled = (plan.width, plan.height)
    if request.mode is GenerationMode.OUTPAINT:
        canvas, mask = extend_canvas(source, request.extend)
        return SourceWork(
            stretch(canvas, *sampled), _resized(mask, sampled), canvas, feather(mask, request.mask_blur), None
        )
    original = fit(source, request.width, request.height)
    if request.mode is not GenerationMode.INPAINT:
        return SourceWork(stretch(original, *sampled), None, original, None, None)
    assert request.mask is not None
    mask = request.mask.image(original.size)
    feathered = feather(mask, request.mask_blur)
    if not request.masked_only:
        return SourceWork(stretch(original, *sampled), _resized(mask, sampled), original, feathered, None)
    box = work_box(request, native_resolution)
    crop = original.crop(box)
    return SourceWork(stretch(crop, *sampled), _resized(mask.crop(box), sampled), original, feathered.crop(box), box)


def _resized(mask: Image.Image, size: tuple[int, int]) -> Image.Image:
    """A mask at another size, bilinear so grey edges stay partial."""
    return mask if mask.size == size else mask.resize(size, Image.Resampling.BILINEAR)
