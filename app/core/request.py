"""GenerationRequest and GenerationResult: the immutable messages that flow from the UI to the store."""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, field, fields, replace
from enum import Enum
from typing import TYPE_CHECKING, Any

from app.core.errors import InvalidRequestError
from app.core.schedulers import DEFAULT_SCHEDULER, SchedulerName
from app.core.sizes import GenerationPath, HighResMethod, validate_size
from app.core.source_image import DEFAULT_STRENGTH, VARIATION_STRENGTH, GenerationMode, MaskImage, SourceImage

if TYPE_CHECKING:
    from PIL.Image import Image

MAX_SEED = 2**63 - 1
MAX_STEPS = 1000
MAX_BATCH = 16
MAX_PROMPT_CHARS = 20_000
MAX_GUIDANCE_SCALE = 50.0
MAX_MASK_BLUR = 256
MAX_MASKED_PADDING = 2048
NO_EXTEND = (0, 0, 0, 0)


class KVCompressionMode(str, Enum):
    """Whether self-attention keys and values are compressed 2×2 (auto: above native size)."""

    AUTO = "auto"
    ON = "on"
    OFF = "off"


def clean_text(text: str) -> str:
    """Drop control characters and collapse whitespace (newlines and tabs become single spaces)."""
    kept = []
    for char in text:
        if char in "\n\t\r":
            kept.append(" ")
        elif unicodedata.category(char) not in ("Cc", "Cf", "Cs", "Co"):
            kept.append(char)
    return " ".join("".join(kept).split())


@dataclass(frozen=True)
class GenerationRequest:
    """Everything that determines an image; validated and cleaned once, when it is built."""

    prompt: str
    negative_prompt: str = ""
    width: int = 1024
    height: int = 1024
    steps: int = 20
    guidance_scale: float = 4.5
    seed: int = 0
    scheduler: SchedulerName = DEFAULT_SCHEDULER
    batch_size: int = 1
    kv_compression: KVCompressionMode = KVCompressionMode.AUTO
    high_res: HighResMethod = HighResMethod.AUTO
    tier_scale: float | None = None  # None: the smallest tier that covers the size
    refine_strength: float = 0.5
    dpi: int = 72
    model: str = "demo"
    # Working from an image (every default keeps a request text to image).
    mode: GenerationMode = GenerationMode.TEXT
    source: SourceImage | None = None
    mask: MaskImage | None = None  # inpaint only; resized to the image
    strength: float = 0.75  # share of the schedule re-run from the noised source; 1.0 ignores its content
    mask_blur: int = 4  # feather of the pasted-back seam, in pixels of the image
    masked_only: bool = False  # inpaint a padded box around the mask at native size, then paste it back
    masked_padding: int = 32  # pixels around the mask's box, in pixels of the image
    extend: tuple[int, int, int, int] = NO_EXTEND  # outpaint: new pixels (left, top, right, bottom)

    def __post_init__(self) -> None:
        for name in ("prompt", "negative_prompt", "model"):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise InvalidRequestError(f"{name} must be text, got {type(value).__name__}")
            if len(value) > MAX_PROMPT_CHARS:
                raise InvalidRequestError(f"{name} is {len(value):,} characters; at most {MAX_PROMPT_CHARS:,}")
            if name != "model":
                object.__setattr__(self, name, clean_text(value))
        object.__setattr__(self, "scheduler", _coerce(SchedulerName, self.scheduler, "scheduler"))
        object.__setattr__(self, "kv_compression", _coerce(KVCompressionMode, self.kv_compression, "kv_compression"))
        object.__setattr__(self, "high_res", _coerce(HighResMethod, self.high_res, "high_res"))
        validate_size(self.width, self.height)
        _check_int("steps", self.steps, 1, MAX_STEPS)
        _check_int("seed", self.seed, 0, MAX_SEED)
        _check_int("batch_size", self.batch_size, 1, MAX_BATCH)
        _check_int("dpi", self.dpi, 1, 10_000)
        _check_float("guidance_scale", self.guidance_scale, 0.0, MAX_GUIDANCE_SCALE)
        _check_float("refine_strength", self.refine_strength, 0.05, 1.0)
        if self.tier_scale is not None:
            _check_float("tier_scale", self.tier_scale, 0.25, 8.0)
        object.__setattr__(self, "mode", _coerce(GenerationMode, self.mode, "mode"))
        _check_float("strength", self.strength, 0.05, 1.0)
        _check_int("mask_blur", self.mask_blur, 0, MAX_MASK_BLUR)
        _check_int("masked_padding", self.masked_padding, 0, MAX_MASKED_PADDING)
        if not isinstance(self.masked_only, bool):
            raise InvalidRequestError(f"masked_only must be true or false, got {self.masked_only!r}")
        object.__setattr__(self, "extend", _check_extend(self.extend))
        _check_mode(self)

    @property
    def has_prompt(self) -> bool:
        """False for an empty prompt, which is allowed but worth a warning."""
        return bool(self.prompt)

    @classmethod
    def from_settings(
        cls, data: dict[str, Any], source: SourceImage | None = None, mask: MaskImage | None = None
    ) -> GenerationRequest:
        """A recorded request in its own mode when its images are at hand, else as text to image with the same
        prompt and settings (image metadata records only its source's hash); other bad values raise."""
        mode = _coerce(GenerationMode, data.get("mode", GenerationMode.TEXT.value), "mode")
        has_source = source is not None or SourceImage.from_dict(data.get("source")) is not None
        has_mask = mask is not None or MaskImage.from_dict(data.get("mask")) is not None
        if mode.needs_source and (not has_source or (mode is GenerationMode.INPAINT and not has_mask)):
            text_only = {k: v for k, v in data.items() if k not in ("mode", "source", "mask", "extend", "masked_only")}
            return cls.from_dict(text_only)
        return cls.from_dict(data, source, mask)

    @classmethod
    def for_source(
        cls,
        prompt: str,
        mode: GenerationMode | str,
        source: SourceImage,
        width: int | None = None,
        height: int | None = None,
        **settings: Any,
    ) -> GenerationRequest:
        """A request in an image mode whose size follows the source unless given (inpaint and outpaint always do)."""
        mode = _coerce(GenerationMode, mode, "mode")
        extend = tuple(settings.get("extend", NO_EXTEND))
        if mode is GenerationMode.OUTPAINT:
            left, top, right, bottom = (int(v) for v in extend) if len(extend) == 4 else NO_EXTEND
            width, height = source.width + left + right, source.height + top + bottom
        elif mode is GenerationMode.INPAINT or width is None or height is None:
            width, height = source.size
        if "strength" not in settings:
            settings["strength"] = DEFAULT_STRENGTH[mode]
        return cls(prompt, width=width, height=height, mode=mode, source=source, **settings)

    def variations(
        self, source: SourceImage, count: int, seed: int, strength: float = VARIATION_STRENGTH
    ) -> GenerationRequest:
        """`count` variations of an image this request made: image to image from it with new seeds, same settings."""
        return replace(
            self,
            mode=GenerationMode.IMAGE_TO_IMAGE,
            source=source,
            mask=None,
            extend=NO_EXTEND,
            masked_only=False,
            width=source.width,
            height=source.height,
            strength=strength,
            seed=seed,
            batch_size=count,
        )

    def with_seed(self, seed: int) -> GenerationRequest:
        """The same request with another seed (a batch uses seed, seed+1, ...)."""
        return replace(self, seed=seed, batch_size=1)

    @property
    def canvas_size(self) -> tuple[int, int]:
        """Outpaint: the source's size plus the extension; else the request's size."""
        if self.mode is GenerationMode.OUTPAINT and self.source is not None:
            left, top, right, bottom = self.extend
            return self.source.width + left + right, self.source.height + top + bottom
        return self.width, self.height

    def to_dict(self, images: bool = True) -> dict[str, Any]:
        """JSON-ready settings, enums as their values; `from_dict` reverses it exactly.

        With `images` the source and mask travel as base64 PNG (a request sent to a server); without, only
        what identifies them (SHA-256, size, gallery id), as image metadata records them.
        """
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        for key, value in data.items():
            if isinstance(value, Enum):
                data[key] = value.value
        data["source"] = self.source.to_dict(images) if self.source is not None else None
        data["mask"] = self.mask.to_dict(images) if self.mask is not None else None
        data["extend"] = list(self.extend)
        return data

    @classmethod
    def from_dict(
        cls, data: dict[str, Any], source: SourceImage | None = None, mask: MaskImage | None = None
    ) -> GenerationRequest:
        """Build from `to_dict` output (or a subset); unknown keys are ignored, bad values raise.

        `source` and `mask` stand in for images the data only identifies (metadata); images in the data win.
        """
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["source"] = SourceImage.from_dict(data.get("source")) or source
        values["mask"] = MaskImage.from_dict(data.get("mask")) or mask
        if isinstance(values.get("extend"), list):
            values["extend"] = tuple(values["extend"])
        return cls(**values)


@dataclass(frozen=True)
class GenerationResult:
    """One finished image with the exact settings that made it and how it was made."""

    image: Image
    request: GenerationRequest  # batch_size 1, the image's own seed
    path: GenerationPath = GenerationPath.NATIVE
    sampled_width: int = 0
    sampled_height: int = 0
    kv_compression_layers: tuple[int, ...] = ()
    kv_compression_ratio: int = 1
    model_name: str = ""
    model_hash: str = ""
    is_demo_model: bool = False
    device: str = "cpu"
    dtype: str = "float32"
    duration_s: float = 0.0
    prompt_tokens: int = 0
    prompt_truncated: bool = False
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def metadata(self) -> dict[str, Any]:
        """Everything except the pixels, JSON-ready, for the image file and the gallery index."""
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("image", "request")}
        data["path"] = self.path.value
        data["kv_compression_layers"] = list(self.kv_compression_layers)
        data["warnings"] = list(self.warnings)
        data["request"] = self.request.to_dict(images=False)
        return data


def _coerce(enum_type: type[Enum], value: object, name: str) -> Any:
    if isinstance(value, enum_type):
        return value
    try:
        return enum_type(str(value).strip().lower())
    except ValueError:
        valid = ", ".join(str(m.value) for m in enum_type)
        raise InvalidRequestError(f"{name} {value!r} is not valid; choose one of: {valid}") from None


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidRequestError(f"{name} must be a whole number, got {value!r}")
    if not low <= value <= high:
        raise InvalidRequestError(f"{name} {value} is out of range; use {low} to {high}")


def _check_extend(value: object) -> tuple[int, int, int, int]:
    if not isinstance(value, (tuple, list)) or len(value) != 4:
        raise InvalidRequestError(f"extend must be four pixel counts (left, top, right, bottom), got {value!r}")
    for side, pixels in zip(("left", "top", "right", "bottom"), value, strict=True):
        _check_int(f"extend {side}", pixels, 0, 8192)
    return tuple(value)  # type: ignore[return-value]


def _check_mode(request: GenerationRequest) -> None:
    """The source, mask, extension and size that each mode needs, each missing one named."""
    mode, source = request.mode, request.source
    if not mode.needs_source:
        if source is not None or request.mask is not None or request.extend != NO_EXTEND:
            raise InvalidRequestError("a source image, mask or extension needs an image mode (img2img, inpaint...)")
        return
    if source is None:
        raise InvalidRequestError(f"{mode.label} needs a source image; choose one (the settings only record its hash)")
    if not isinstance(source, SourceImage):
        raise InvalidRequestError(f"source must be a SourceImage (use load_source), got {type(source).__name__}")
    if request.mask is not None and not isinstance(request.mask, MaskImage):
        raise InvalidRequestError(f"mask must be a MaskImage (use load_mask), got {type(request.mask).__name__}")
    if mode is GenerationMode.INPAINT and request.mask is None:
        raise InvalidRequestError("inpaint needs a mask: paint the area to change (white repaints, black keeps)")
    if mode is not GenerationMode.INPAINT and request.mask is not None:
        raise InvalidRequestError(f"{mode.label} takes no mask; a mask means inpaint")
    if mode is GenerationMode.OUTPAINT:
        if request.extend == NO_EXTEND:
            raise InvalidRequestError("the extension is zero: give at least one side new pixels (--extend 0,0,256,0)")
        width, height = request.canvas_size
        try:
            validate_size(width, height)
        except InvalidRequestError as exc:
            raise InvalidRequestError(f"the extended canvas is too large or too narrow: {exc}") from None
    elif request.extend != NO_EXTEND:
        raise InvalidRequestError(f"{mode.label} takes no extension; an extension means outpaint")
    if request.masked_only and mode is not GenerationMode.INPAINT:
        raise InvalidRequestError("masked-only needs inpaint (a mask)")
    fixed = {
        GenerationMode.INPAINT: ("the source size", source.size),
        GenerationMode.OUTPAINT: ("the extended canvas", request.canvas_size),
    }
    if mode in fixed and (request.width, request.height) != fixed[mode][1]:
        what, (width, height) = fixed[mode]
        raise InvalidRequestError(
            f"{mode.label} makes an image of {width}×{height} ({what}), not {request.width}×{request.height}"
        )


def _check_float(name: str, value: object, low: float, high: float) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise InvalidRequestError(f"{name} must be a finite number, got {value!r}")
    if not low <= value <= high:
        raise InvalidRequestError(f"{name} {value} is out of range; use {low} to {high}")
