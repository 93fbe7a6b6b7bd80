"""GenerationRequest and GenerationResult: the immutable messages that flow from the UI to the store."""

from __future__ import annotations

import math
import unicodedata
from dataclasses import asdict, dataclass, field, fields, replace
from enum import Enum
from typing import TYPE_CHECKING, Any

from app.core.errors import InvalidRequestError
from app.core.schedulers import DEFAULT_SCHEDULER, SchedulerName
from app.core.sizes import GenerationPath, HighResMethod, validate_size

if TYPE_CHECKING:
    from PIL.Image import Image

MAX_SEED = 2**63 - 1
MAX_STEPS = 1000
MAX_BATCH = 16
MAX_PROMPT_CHARS = 20_000
MAX_GUIDANCE_SCALE = 50.0


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

    @property
    def has_prompt(self) -> bool:
        """False for an empty prompt, which is allowed but worth a warning."""
        return bool(self.prompt)

    def with_seed(self, seed: int) -> GenerationRequest:
        """The same request with another seed (a batch uses seed, seed+1, ...)."""
        return replace(self, seed=seed, batch_size=1)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings, enums as their values; `from_dict` reverses it exactly."""
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, Enum):
                data[key] = value.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GenerationRequest:
        """Build from `to_dict` output (or a subset); unknown keys are ignored, bad values raise."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


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
    rendered_on: str = ""  # the server that made the image; empty: this computer

    def metadata(self) -> dict[str, Any]:
        """Everything except the pixels, JSON-ready, for the image file and the gallery index."""
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("image", "request")}
        data["path"] = self.path.value
        data["kv_compression_layers"] = list(self.kv_compression_layers)
        data["warnings"] = list(self.warnings)
        data["request"] = self.request.to_dict()
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


def _check_float(name: str, value: object, low: float, high: float) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise InvalidRequestError(f"{name} must be a finite number, got {value!r}")
    if not low <= value <= high:
        raise InvalidRequestError(f"{name} {value} is out of range; use {low} to {high}")
