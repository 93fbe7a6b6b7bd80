"""ImageSettings: what a job starts from (text, or a source image and a mode), with `<name>_changed` signals."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from app.core.errors import InvalidRequestError
from app.core.presets import ASPECT_PRESETS
from app.core.request import NO_EXTEND, GenerationRequest
from app.core.sizes import MAX_SIDE, validate_size
from app.core.source_image import (
    DEFAULT_STRENGTH,
    GenerationMode,
    MaskImage,
    SourceImage,
    extend_to_ratio,
    upscale_size,
)
from app.ui.create.signalled_field import signalled_field

EXTEND_ASPECTS = tuple(preset for preset in ASPECT_PRESETS if preset.name != "1:1")


class ExtendBy(str, Enum):
    """How outpaint's new canvas is given: pixels on each side, or an aspect ratio to reach."""

    PIXELS = "pixels"
    ASPECT = "aspect"


class UpscaleTarget(str, Enum):
    """Where an upscale goes: twice the size, a 2K or 4K long side, or typed pixels."""

    DOUBLE = "2x"
    TIER_2K = "2k"
    TIER_4K = "4k"
    CUSTOM = "custom"


_TIERS = {UpscaleTarget.TIER_2K: 2048, UpscaleTarget.TIER_4K: 4096}  # as `pixart-studio upscale --tier`


def upscale_target_size(width: int, height: int, target: UpscaleTarget, custom: tuple[int, int]) -> tuple[int, int]:
    """The pixels an upscale of a width×height image to `target` makes (the source's aspect kept)."""
    if target is UpscaleTarget.CUSTOM:
        return custom
    if target is UpscaleTarget.DOUBLE:
        factor = min(2.0, MAX_SIDE / max(width, height))
        return max(1, round(width * factor)), max(1, round(height * factor))
    return upscale_size(width, height, _TIERS[target])


def aspect_ratio(name: str) -> tuple[float, float]:
    """The ratio of the aspect preset called `name` (ValueError names the valid ones)."""
    for preset in ASPECT_PRESETS:
        if preset.name == name:
            return preset.ratio_w, preset.ratio_h
    raise ValueError(f"aspect {name!r} is unknown; choose one of: {', '.join(p.name for p in ASPECT_PRESETS)}")


_DEFAULTS: dict[str, Any] = {
    "mode": GenerationMode.TEXT,
    "source": None,
    "strength": DEFAULT_STRENGTH[GenerationMode.TEXT],
    "keep_source_size": True,
    "mask_blur": 4,
    "masked_only": False,
    "masked_padding": 32,
    "extend_by": ExtendBy.ASPECT,
    "extend_pixels": (0, 0, 256, 0),
    "extend_aspect": "16:9",
    "upscale_target": UpscaleTarget.DOUBLE,
    "upscale_width": 2048,
    "upscale_height": 2048,
}
_ENUMS: dict[str, type[Enum]] = {
    "mode": GenerationMode,
    "extend_by": ExtendBy,
    "upscale_target": UpscaleTarget,
}


def _field(name: str) -> property:
    return signalled_field(name, _ENUMS)


class ImageSettings(QObject):
    """The mode, its source and each mode's controls; the request takes its image fields from here."""

    mode_changed = Signal(object)
    source_changed = Signal(object)  # SourceImage or None
    strength_changed = Signal(float)
    keep_source_size_changed = Signal(bool)
    mask_blur_changed = Signal(int)
    masked_only_changed = Signal(bool)
    masked_padding_changed = Signal(int)
    extend_by_changed = Signal(object)
    extend_pixels_changed = Signal(object)  # (left, top, right, bottom)
    extend_aspect_changed = Signal(str)
    upscale_target_changed = Signal(object)
    upscale_width_changed = Signal(int)
    upscale_height_changed = Signal(int)
    changed = Signal()  # anything above

    mode = _field("mode")
    source = _field("source")
    strength = _field("strength")
    keep_source_size = _field("keep_source_size")
    mask_blur = _field("mask_blur")
    masked_only = _field("masked_only")
    masked_padding = _field("masked_padding")
    extend_by = _field("extend_by")
    extend_pixels = _field("extend_pixels")
    extend_aspect = _field("extend_aspect")
    upscale_target = _field("upscale_target")
    upscale_width = _field("upscale_width")
    upscale_height = _field("upscale_height")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._values: dict[str, Any] = dict(_DEFAULTS)
        self.source_image = QImage()  # the decoded source, for the thumbnail and the viewer
        self.source_name = ""  # where it came from, in words ("gallery image #12", a file name, "pasted image")
        # The shell supplies the mask painted on the viewer (the create panel never sees the viewer).
        self.mask_provider: Callable[[], MaskImage | None] = lambda: None
        self._mode_strength = {mode: DEFAULT_STRENGTH[mode] for mode in GenerationMode}
        self.mode_changed.connect(self._on_mode_changed)
        self.strength_changed.connect(self._remember_strength)

    # -- the source --------------------------------------------------------------------------

    def set_source(self, source: SourceImage, image: QImage, name: str) -> None:
        """Work from `source` (decoded as `image`); text mode switches to image to image."""
        self.source_image, self.source_name = image, name
        self._values["source"] = None  # a new object with the same pixels still counts as a new source
        self.source = source
        if self.mode is GenerationMode.TEXT:
            self.mode = GenerationMode.IMAGE_TO_IMAGE

    def clear_source(self) -> None:
        """Back to text to image."""
        self.source_image, self.source_name = QImage(), ""
        self.source = None
        self.mode = GenerationMode.TEXT

    def apply_request(self, request: GenerationRequest, source_name: str = "") -> None:
        """Restore a request's mode and its controls; without its source (not in the gallery), text to image."""
        if request.mode is GenerationMode.TEXT or request.source is None:
            self.mode = GenerationMode.TEXT
            return
        image = QImage.fromData(request.source.png)  # the format is read from the bytes
        self.set_source(request.source, image, source_name or f"{request.source.width}×{request.source.height} source")
        self.mode = request.mode
        self.strength = float(request.strength)
        self.mask_blur = request.mask_blur
        self.masked_only = request.masked_only
        self.masked_padding = request.masked_padding
        if request.mode is GenerationMode.OUTPAINT:
            self.extend_by = ExtendBy.PIXELS
            self.extend_pixels = tuple(request.extend)
        elif request.mode is GenerationMode.UPSCALE:
            self.upscale_target = UpscaleTarget.CUSTOM
            self.upscale_width, self.upscale_height = request.width, request.height

    # -- what the job is ---------------------------------------------------------------------

    @property
    def uses_size_picker(self) -> bool:
        """Text (and image to image at another size) take the size controls; the other modes follow the source."""
        if self.mode is GenerationMode.IMAGE_TO_IMAGE:
            return not self.keep_source_size or self.source is None
        return self.mode is GenerationMode.TEXT

    def extension(self) -> tuple[int, int, int, int]:
        """Outpaint's new pixels (left, top, right, bottom)."""
        if self.source is None:
            return NO_EXTEND
        if self.extend_by is ExtendBy.PIXELS:
            left, top, right, bottom = self.extend_pixels
            return left, top, right, bottom
        ratio_w, ratio_h = aspect_ratio(self.extend_aspect)
        return extend_to_ratio(self.source.width, self.source.height, ratio_w, ratio_h)

    def fixed_size(self) -> tuple[int, int] | None:
        """The size a mode makes regardless of the size controls, or None when they decide."""
        source = self.source
        if source is None or self.uses_size_picker:
            return None
        if self.mode in (GenerationMode.INPAINT, GenerationMode.IMAGE_TO_IMAGE):
            return source.size
        if self.mode is GenerationMode.OUTPAINT:
            left, top, right, bottom = self.extension()
            return source.width + left + right, source.height + top + bottom
        custom = (self.upscale_width, self.upscale_height)
        return upscale_target_size(source.width, source.height, self.upscale_target, custom)

    def request_fields(self) -> dict[str, Any]:
        """The request's image fields; InvalidRequestError says what is missing (source, mask, extension)."""
        mode = self.mode
        if mode is GenerationMode.TEXT:
            return {}
        if self.source is None:
            raise InvalidRequestError(
                f"{mode.label} needs a source image: right-click a gallery image → Use as source, or drop or "
                "paste an image"
            )
        fields: dict[str, Any] = {"mode": mode, "source": self.source, "strength": self.strength}
        if mode is GenerationMode.INPAINT:
            mask = self.mask_provider()
            if mask is None:
                raise InvalidRequestError("the mask is empty: paint the area to change on the image")
            fields |= {
                "mask": mask,
                "mask_blur": self.mask_blur,
                "masked_only": self.masked_only,
                "masked_padding": self.masked_padding,
            }
        elif mode is GenerationMode.OUTPAINT:
            extend = self.extension()
            if extend == NO_EXTEND:
                raise InvalidRequestError("the extension is zero: give at least one side new pixels")
            fields |= {"extend": extend, "mask_blur": self.mask_blur}
        return fields

    def describe(self) -> str:
        """What the job will do, in a designer's words (the size line says how the size is made)."""
        source = self.source
        if self.mode is GenerationMode.TEXT:
            return "A new image from the prompt."
        if source is None:
            return "Choose a source image: right-click one in the gallery → Use as source, or drop or paste one."
        size = f"{source.width}×{source.height}"
        keep = round((1 - self.strength) * 100)
        if self.mode is GenerationMode.IMAGE_TO_IMAGE:
            return f"Redraws the {size} source at strength {self.strength:.2f}: about {keep}% of its look is kept."
        if self.mode is GenerationMode.INPAINT:
            where = (
                f"only a box around the mask (+{self.masked_padding} px), at the model's size, pasted back"
                if self.masked_only
                else "the whole image, then the unmasked pixels are put back"
            )
            return f"Repaints the masked area of the {size} source: {where}; seam feathered {self.mask_blur} px."
        if self.mode is GenerationMode.OUTPAINT:
            left, top, right, bottom = self.extension()
            width, height = self.fixed_size() or source.size
            if (left, top, right, bottom) == NO_EXTEND:
                return f"The {size} source already has this shape: give a side new pixels or another aspect."
            return (
                f"Extends the {size} source to {width}×{height} (left {left}, top {top}, right {right}, "
                f"bottom {bottom} px) and paints the new area to continue the picture."
            )
        width, height = self.fixed_size() or source.size
        return (
            f"Upscales the {size} source to {width}×{height} ({width / source.width:.1f}×) and refines it at "
            f"strength {self.strength:.2f}, as the refine pass of a 4K image does."
        )

    def check_size(self) -> None:
        """InvalidRequestError when a fixed size (outpaint's canvas, the upscale) cannot be made."""
        size = self.fixed_size()
        if size is not None:
            validate_size(*size)

    def _on_mode_changed(self, mode: GenerationMode) -> None:
        # Each mode keeps its own strength: inpaint repaints fully, a variation keeps the layout.
        self.strength = self._mode_strength[mode]

    def _remember_strength(self, strength: float) -> None:
        self._mode_strength[self.mode] = strength
