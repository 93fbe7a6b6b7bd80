"""How long a planned job takes, from the per-step and per-pixel rates measured on this machine; size formats."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from app.core.memory_estimate import MemoryProfile, kv_compression_active
from app.core.request import KVCompressionMode
from app.core.sizes import GenerationPath, SizePlan

# A rate averages the last jobs of its kind with this weight at most, so one odd job moves it by a sixth.
_AVERAGED_JOBS = 6
# For a kind of job this machine has not run yet, the time is shown as this band around another kind's rate: the
# paths differ by their extra passes (refine decodes, upscales and encodes its base image; direct compresses).
_UNMEASURED_BAND = (0.5, 2.0)


@dataclass(frozen=True)
class Rate:
    """Measured cost of one kind of job: seconds per sampling work unit, and per megapixel decoded and saved."""

    sampling_s_per_unit: float
    finish_s_per_megapixel: float
    jobs: int = 1

    def blend(self, other: Rate) -> Rate:
        """This rate with one more measurement averaged in (a running mean over the last jobs)."""
        weight = 1 / min(self.jobs + 1, _AVERAGED_JOBS)
        return Rate(
            (1 - weight) * self.sampling_s_per_unit + weight * other.sampling_s_per_unit,
            (1 - weight) * self.finish_s_per_megapixel + weight * other.finish_s_per_megapixel,
            self.jobs + 1,
        )


@dataclass(frozen=True)
class TimeEstimate:
    """Expected seconds: one value once this kind of job was measured here, else a band from another kind."""

    low_s: float
    high_s: float

    @property
    def measured(self) -> bool:
        """Whether the estimate comes from jobs of the same kind."""
        return self.low_s == self.high_s

    def __str__(self) -> str:
        if self.measured:
            return f"≈ {format_duration(self.low_s)}"
        return f"≈ {format_duration(self.low_s)} – {format_duration(self.high_s)}"


def _step_units(width: int, height: int, patch_pixels: int, hidden: int, compressed: bool) -> float:
    # Per token and layer: the linear layers cost ~28·d², attention ~4·N_kv·d; compression quarters N_kv.
    tokens = max(1, (width * height) // (patch_pixels * patch_pixels))
    kv_tokens = tokens / 4 if compressed else tokens
    return tokens * (28 * hidden + 4 * kv_tokens) * hidden / 1e12


def work_units(
    profile: MemoryProfile, plan: SizePlan, steps: int, kv: KVCompressionMode, refine_strength: float
) -> float:
    """Machine-independent sampling cost of one image: steps weighted by tokens and attention size."""
    hidden, trained = profile.shape.hidden_size, profile.has_trained_kv_weights
    patch = profile.shape.patch_size * profile.shape.vae_scale
    compressed = kv_compression_active(kv, plan.path, trained)
    sampled = _step_units(plan.width, plan.height, patch, hidden, compressed)
    if plan.path is GenerationPath.REFINE:
        base_compressed = kv_compression_active(kv, GenerationPath.NATIVE, trained)
        base = _step_units(plan.base_width, plan.base_height, patch, hidden, base_compressed)
        return steps * base + max(1, int(steps * refine_strength)) * sampled
    return steps * sampled


def finish_megapixels(plan: SizePlan) -> float:
    """Pixels decoded and resized (sampled) plus pixels encoded and written (final), in megapixels."""
    return (plan.width * plan.height + plan.target_width * plan.target_height) / 1e6


@dataclass(frozen=True)
class MeasuredRates:
    """Rates by kind of job (device, precision, architecture and path), learnt from the images made here."""

    rates: dict[str, Rate]

    @staticmethod
    def key(profile: MemoryProfile, path: GenerationPath) -> str:
        """The kind of job whose rates carry over: same speed key and same path."""
        return f"{profile.speed_key}/{path.value}"

    def measured(
        self, profile: MemoryProfile, path: GenerationPath, sampling_s: float, units: float, finish_s: float, mp: float
    ) -> MeasuredRates:
        """These rates with one image's sampling seconds (over `units`) and finish seconds (over `mp`) added."""
        if units <= 0 or mp <= 0 or sampling_s <= 0 or finish_s < 0:
            return self
        sample = Rate(sampling_s / units, finish_s / mp)
        key = self.key(profile, path)
        previous = self.rates.get(key)
        return replace(self, rates={**self.rates, key: previous.blend(sample) if previous else sample})

    def estimate(
        self,
        profile: MemoryProfile,
        plan: SizePlan,
        steps: int,
        kv: KVCompressionMode,
        refine_strength: float,
        batch: int = 1,
    ) -> TimeEstimate | None:
        """Seconds for the whole job; a band while only other paths were measured; None before any was."""
        rate = self.rates.get(self.key(profile, plan.path))
        low, high = 1.0, 1.0
        if rate is None:
            others = [r for path in GenerationPath if (r := self.rates.get(self.key(profile, path))) is not None]
            if not others:
                return None
            rate = max(others, key=lambda r: r.jobs)
            low, high = _UNMEASURED_BAND
        one = (
            work_units(profile, plan, steps, kv, refine_strength) * rate.sampling_s_per_unit
            + finish_megapixels(plan) * rate.finish_s_per_megapixel
        )
        return TimeEstimate(low * one * batch, high * one * batch)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for the settings file."""
        return {k: [r.sampling_s_per_unit, r.finish_s_per_megapixel, r.jobs] for k, r in self.rates.items()}

    @classmethod
    def from_dict(cls, data: object) -> MeasuredRates:
        """Rates read back from the settings file; entries that are not three positive numbers are dropped."""
        rates = {}
        if isinstance(data, dict):
            for key, value in data.items():
                if (
                    isinstance(key, str)
                    and isinstance(value, list)
                    and len(value) == 3
                    and all(isinstance(v, int | float) and not isinstance(v, bool) and v >= 0 for v in value)
                ):
                    rates[key] = Rate(float(value[0]), float(value[1]), max(1, int(value[2])))
        return cls(rates)


def format_duration(seconds: float) -> str:
    """'45 s', '3 min 20 s', '1 h 5 min'."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def format_bytes(count: int) -> str:
    """'12 KB', '820 MB', '3.4 GB'."""
    if count < 1e6:
        return f"{count / 1e3:.0f} KB"
    if count < 1e9:
        return f"{count / 1e6:.0f} MB"
    return f"{count / 1e9:.1f} GB"
