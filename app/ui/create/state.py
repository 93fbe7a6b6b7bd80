"""GenerationSettings: the controls' state, as a QObject with one `<name>_changed` signal per field."""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

from PySide6.QtCore import QObject, Signal

from app.core.presets import ASPECT_PRESETS, EXACT_PRESETS, AspectPreset, ExactSizePreset
from app.core.request import GenerationRequest, KVCompressionMode
from app.core.schedulers import DEFAULT_SCHEDULER, SCHEDULER_DEFAULTS, SchedulerName, default_guidance
from app.core.sizes import HighResMethod, SizePlan, plan_size, size_for_aspect, tiers
from app.ui.create.image_state import ImageSettings
from app.ui.create.signalled_field import signalled_field

RANDOM_SEED_LIMIT = 2**32  # random seeds stay short enough to read aloud and type back


class SizeMode(str, Enum):
    """Where the target size comes from: an aspect ratio at a tier, an exact preset, or typed pixels."""

    ASPECT = "aspect"
    EXACT = "exact"
    CUSTOM = "custom"


class SeedMode(str, Enum):
    """How the next seed is chosen."""

    RANDOM = "random"
    FIXED = "fixed"
    REUSE_LAST = "reuse-last"


@dataclass(frozen=True)
class TargetSize:
    """The pixels a user asked for and the DPI written into the file."""

    width: int
    height: int
    dpi: int = 72


_DEFAULTS: dict[str, Any] = {
    "prompt": "",
    "negative_prompt": "",
    "size_mode": SizeMode.ASPECT,
    "aspect": "1:1",
    "exact": EXACT_PRESETS[0].name,
    "custom_width": 1024,
    "custom_height": 1024,
    "tier_scale": 1.0,
    "steps": SCHEDULER_DEFAULTS[DEFAULT_SCHEDULER].steps,
    "guidance_scale": SCHEDULER_DEFAULTS[DEFAULT_SCHEDULER].guidance_scale,
    "seed_mode": SeedMode.RANDOM,
    "seed": 0,
    "scheduler": DEFAULT_SCHEDULER,
    "batch_count": 1,
    "kv_compression": KVCompressionMode.AUTO,
    "high_res": HighResMethod.AUTO,
    "refine_strength": 0.5,
    "native_resolution": 1024,
    "model_above_native": HighResMethod.AUTO,  # what the loaded model's `auto` does above native size
    "memory_profile": None,  # the loaded model's, for the estimates; None until one is ready
}
_ENUMS: dict[str, type[Enum]] = {
    "size_mode": SizeMode,
    "seed_mode": SeedMode,
    "scheduler": SchedulerName,
    "kv_compression": KVCompressionMode,
    "high_res": HighResMethod,
    "model_above_native": HighResMethod,
}
_SIZE_FIELDS = frozenset(
    {
        "size_mode",
        "aspect",
        "exact",
        "custom_width",
        "custom_height",
        "tier_scale",
        "high_res",
        "native_resolution",
        "model_above_native",
        "memory_profile",
    }
)
_MODEL_FIELDS = ("native_resolution", "model_above_native", "memory_profile")  # the loaded model's, not the user's
_PERSISTED = tuple(name for name in _DEFAULTS if name not in _MODEL_FIELDS)


def _field(name: str) -> property:
    return signalled_field(name, _ENUMS, lambda settings: settings.size_changed, _SIZE_FIELDS)


def aspect_preset(name: str) -> AspectPreset:
    """The aspect preset called `name`; ValueError names the valid ones."""
    for preset in ASPECT_PRESETS:
        if preset.name == name:
            return preset
    raise ValueError(f"aspect preset {name!r} is unknown; choose one of: {', '.join(p.name for p in ASPECT_PRESETS)}")


def exact_preset(name: str) -> ExactSizePreset:
    """The exact-size preset called `name`; ValueError names the valid ones."""
    for preset in EXACT_PRESETS:
        if preset.name == name:
            return preset
    raise ValueError(f"size preset {name!r} is unknown; choose one of: {', '.join(p.name for p in EXACT_PRESETS)}")


class ModelFacts(Protocol):
    """What the controls follow from a model: its folder's ModelInfo, or a loaded model's ModelStatus."""

    @property
    def native_resolution(self) -> int | None: ...
    @property
    def guidance_scale(self) -> float | None: ...
    @property
    def above_native(self) -> HighResMethod: ...


class GenerationSettings(QObject):
    """Every value the generation controls show; widgets bind to the signals and set the properties."""

    prompt_changed = Signal(str)
    negative_prompt_changed = Signal(str)
    size_mode_changed = Signal(object)
    aspect_changed = Signal(str)
    exact_changed = Signal(str)
    custom_width_changed = Signal(int)
    custom_height_changed = Signal(int)
    tier_scale_changed = Signal(object)  # float, or None for "smallest tier that covers the size"
    steps_changed = Signal(int)
    guidance_scale_changed = Signal(float)
    seed_mode_changed = Signal(object)
    seed_changed = Signal(object)  # int; seeds exceed a C int
    scheduler_changed = Signal(object)
    batch_count_changed = Signal(int)
    kv_compression_changed = Signal(object)
    high_res_changed = Signal(object)
    refine_strength_changed = Signal(float)
    native_resolution_changed = Signal(int)
    model_above_native_changed = Signal(object)
    memory_profile_changed = Signal(object)  # MemoryProfile | None
    size_changed = Signal()  # anything that changes the final size or how it is made
    changed = Signal()  # any value

    prompt = _field("prompt")
    negative_prompt = _field("negative_prompt")
    size_mode = _field("size_mode")
    aspect = _field("aspect")
    exact = _field("exact")
    custom_width = _field("custom_width")
    custom_height = _field("custom_height")
    tier_scale = _field("tier_scale")
    steps = _field("steps")
    guidance_scale = _field("guidance_scale")
    seed_mode = _field("seed_mode")
    seed = _field("seed")
    scheduler = _field("scheduler")
    batch_count = _field("batch_count")
    kv_compression = _field("kv_compression")
    high_res = _field("high_res")
    refine_strength = _field("refine_strength")
    native_resolution = _field("native_resolution")
    model_above_native = _field("model_above_native")
    memory_profile = _field("memory_profile")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._values: dict[str, Any] = dict(_DEFAULTS)
        self.image = ImageSettings(self)  # what the job starts from: text, or a source image and a mode
        self.image.changed.connect(self.size_changed)
        self.last_seed: int | None = None
        self._model_guidance: float | None = None  # what the loaded model recommends, if anything
        # Each kind of size keeps its own tier: aspect sizes are bins of a tier the user picks, while exact and
        # custom sizes start at Auto (the smallest tier that covers them), so a 4K wallpaper is not sampled at the
        # 1K an aspect choice left behind.
        self._shown_mode = self.size_mode
        self._other_tier: float | None = None  # the tier of the kind of size not shown
        self.size_mode_changed.connect(self._swap_tiers)
        self.native_resolution_changed.connect(self._keep_an_offered_tier)

    def default_guidance(self, scheduler: SchedulerName | None = None) -> float:
        """The guidance a job gets unless the user tunes it: the model's recommendation, else the sampler's default."""
        return default_guidance(scheduler or self.scheduler, self._model_guidance)

    def follow_model(self, info: ModelFacts | None) -> None:
        """Take what a model says of itself: its resolution, guidance and way above native size, from its folder
        before it loads (ModelInfo) or once loaded (ModelStatus). None: a model that says nothing, or a transformer
        override, whose loading will tell."""
        if info is not None and info.native_resolution:
            self.native_resolution = info.native_resolution
        self.use_model_guidance(None if info is None else info.guidance_scale)
        self.model_above_native = HighResMethod.AUTO if info is None else info.above_native

    def use_model_guidance(self, recommended: float | None) -> None:
        """Follow a newly loaded model's recommended guidance (None: the sampler's), unless tuned by hand."""
        untouched = self.guidance_scale == self.default_guidance()
        self._model_guidance = recommended
        if untouched:
            self.guidance_scale = self.default_guidance()

    def target_size(self) -> TargetSize:
        """The pixels the next image will have."""
        fixed = self.image.fixed_size()
        if fixed is not None:
            return TargetSize(*fixed)
        if self.size_mode is SizeMode.EXACT:
            preset = exact_preset(self.exact)
            return TargetSize(preset.width, preset.height, preset.dpi)
        if self.size_mode is SizeMode.CUSTOM:
            return TargetSize(self.custom_width, self.custom_height)
        aspect = aspect_preset(self.aspect)
        width, height = size_for_aspect(aspect.ratio_w, aspect.ratio_h, self._tier_resolution())
        return TargetSize(width, height)

    def plan(self) -> SizePlan:
        """How the target size will be made by the active model (raises InvalidRequestError for bad sizes)."""
        size = self.target_size()
        self.image.check_size()
        tier = self._request_tier()
        return plan_size(size.width, size.height, self.native_resolution, self.high_res, tier, self.model_above_native)

    def build_request(self, model: str) -> GenerationRequest:
        """The request for the next job; draws a random seed (and shows it) in random mode."""
        if self.seed_mode is SeedMode.RANDOM:
            self.seed = random.randrange(RANDOM_SEED_LIMIT)
        elif self.seed_mode is SeedMode.REUSE_LAST and self.last_seed is not None:
            self.seed = self.last_seed
        size = self.target_size()
        image_fields = self.image.request_fields()
        return GenerationRequest(
            prompt=self.prompt,
            negative_prompt=self.negative_prompt,
            width=size.width,
            height=size.height,
            steps=self.steps,
            guidance_scale=self.guidance_scale,
            seed=self.seed,
            scheduler=self.scheduler,
            batch_size=self.batch_count,
            kv_compression=self.kv_compression,
            high_res=self.high_res,
            tier_scale=self._request_tier(),
            refine_strength=self.refine_strength,
            dpi=size.dpi,
            model=model,
            **image_fields,
        )

    def apply_prompt(self, request: GenerationRequest) -> None:
        """Reuse a request's prompt and negative prompt."""
        self.prompt = request.prompt
        self.negative_prompt = request.negative_prompt

    def apply_seed(self, request: GenerationRequest) -> None:
        """Reuse a request's seed, fixed so the next job uses it."""
        self.seed = request.seed
        self.seed_mode = SeedMode.FIXED

    def apply_request(self, request: GenerationRequest) -> None:
        """Fill every control from a request: prompt, seed, sampler and size."""
        self.apply_prompt(request)
        self.apply_seed(request)
        self.steps = request.steps
        self.guidance_scale = float(request.guidance_scale)
        self.scheduler = request.scheduler
        self.kv_compression = request.kv_compression
        self.high_res = request.high_res
        self.refine_strength = float(request.refine_strength)
        self.batch_count = 1
        self.image.apply_request(request)
        if self.image.uses_size_picker:
            self._apply_size(request.width, request.height, request.tier_scale)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values for restoring the controls on the next start."""
        return {
            name: (value.value if isinstance(value, Enum) else value)
            for name, value in self._values.items()
            if name in _PERSISTED
        }

    def restore(self, data: dict[str, Any]) -> None:
        """Set the values saved by `to_dict`; unknown names and bad values are skipped."""
        for name in _PERSISTED:
            if name not in data:
                continue
            try:
                value = data[name]
                if isinstance(_DEFAULTS[name], float) and isinstance(value, int):
                    value = float(value)
                nullable = name == "tier_scale" and value is None
                if name in _ENUMS or nullable or type(value) is type(_DEFAULTS[name]):
                    setattr(self, name, value)
            except ValueError:
                continue

    def _swap_tiers(self, mode: SizeMode) -> None:
        was_aspect, self._shown_mode = self._shown_mode is SizeMode.ASPECT, mode
        if was_aspect == (mode is SizeMode.ASPECT):
            return  # exact and custom share a tier: both are pixel sizes the planner covers
        shown, self._other_tier = self._other_tier, self.tier_scale
        if mode is SizeMode.ASPECT and shown is None:
            shown = 1.0  # an aspect size needs a tier; native at first
        self.tier_scale = shown

    def _keep_an_offered_tier(self, native_resolution: int) -> None:
        # A tier chosen on another model (the 1024 model's 512) may not exist on this one (the 128-px demo's 64).
        offered = {tier.scale for tier in tiers(native_resolution)}
        if self.tier_scale is not None and self.tier_scale not in offered:
            self.tier_scale = 1.0
        if self._other_tier not in offered:
            self._other_tier = None

    def _tier_resolution(self) -> int:
        scale = self.tier_scale if self.tier_scale is not None else 1.0
        return int(self.native_resolution * scale)

    def _request_tier(self) -> float | None:
        # Aspect sizes are bins of the chosen tier; exact, custom and source-given sizes leave it to the planner.
        if self.image.fixed_size() is not None:
            return None
        if self.size_mode is SizeMode.ASPECT:
            return self.tier_scale if self.tier_scale is not None else 1.0
        return self.tier_scale

    def _apply_size(self, width: int, height: int, tier_scale: float | None) -> None:
        for preset in EXACT_PRESETS:
            if (preset.width, preset.height) == (width, height):
                self.exact = preset.name
                self.size_mode = SizeMode.EXACT
                self.tier_scale = tier_scale
                return
        for tier in tiers(self.native_resolution):
            for aspect in ASPECT_PRESETS:
                if size_for_aspect(aspect.ratio_w, aspect.ratio_h, tier.resolution) == (width, height):
                    self.size_mode = SizeMode.ASPECT  # before the tier: each kind of size keeps its own
                    self.aspect = aspect.name
                    self.tier_scale = tier.scale
                    return
        self.custom_width, self.custom_height = width, height
        self.size_mode = SizeMode.CUSTOM
        self.tier_scale = tier_scale
