"""The line under the size picker: final pixels, megapixels, how the size is made, time and memory."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from app.core.errors import InvalidRequestError
from app.core.estimates import TimeEstimate
from app.core.memory_estimate import MemoryEstimate, estimate_memory, format_gib
from app.core.sizes import GenerationPath, SizePlan
from app.ui.create.state import GenerationSettings
from app.ui.settings.preferences import Preferences
from app.ui.widgets.theme import current_colors

_RESERVED_LINES = 6


def describe_path(plan: SizePlan) -> str:
    """How a plan reaches its size, in a designer's words."""
    sampled = f"{plan.width}×{plan.height}"
    if plan.path is GenerationPath.NATIVE:
        how = f"Sampled directly at {plan.tier.label} ({sampled})"
    elif plan.path is GenerationPath.DIRECT:
        how = f"Sampled in one pass at {plan.tier.label} ({sampled})"
    elif plan.path is GenerationPath.ENLARGED:
        how = f"Made at the model's own resolution ({sampled})"
    else:
        how = f"Made at {plan.base_width}×{plan.base_height}, enlarged to {sampled} and redrawn for detail"
    if plan.needs_resize:
        target = f"{plan.target_width}×{plan.target_height}"
        # The same cover-then-centre-crop as the engine's resize (app/engine/images.py).
        scale = max(plan.target_width / plan.width, plan.target_height / plan.height)
        if scale > 1.0:
            how += f", then enlarged {scale:.1f}× to {target} (enlarging adds no detail)"
        elif scale == 1.0:
            how += f", then its edges cropped to {target}"
        else:
            how += f", then scaled down and cropped to {target}"
    return how


class SizeSummary(QLabel):
    """Updates whenever the size, steps or engine settings change."""

    def __init__(self, state: GenerationSettings, preferences: Preferences, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sizeSummary")
        self.setProperty("role", "summary")
        self.setWordWrap(True)
        self.setAccessibleName("Final image size")
        self._state, self._preferences = state, preferences
        # Room for the longest summary (six wrapped lines), so the controls below never jump as it changes.
        self.setText("<br>".join("x" * _RESERVED_LINES))
        self.setMinimumHeight(self.sizeHint().height())
        self.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        for signal in (
            state.size_changed,
            state.steps_changed,
            state.kv_compression_changed,
            state.refine_strength_changed,
            state.batch_count_changed,
            state.guidance_scale_changed,
            preferences.engine_options_changed,
        ):
            signal.connect(self.refresh)
        self.refresh()

    def refresh(self, *_: object) -> None:
        """Recompute the plan and the estimate."""
        state = self._state
        try:
            plan = state.plan()
        except InvalidRequestError as error:
            self.setText(f"<span style='color:{current_colors().danger}'>{error}</span>")
            self.setToolTip(str(error))
            return
        size = state.target_size()
        megapixels = size.width * size.height / 1e6
        dpi = f" · {size.dpi} DPI" if size.dpi != 72 else ""
        batch = f" × {state.batch_count}" if state.batch_count > 1 else ""
        self.setText(
            f"<b>{size.width} × {size.height} px</b> · {megapixels:.{1 if megapixels >= 1 else 2}f} MP{dpi}{batch}<br>"
            f"{describe_path(plan)}<br>"
            f"<span style='color:{current_colors().muted}'>{self._cost_text(plan)}</span>"
        )
        self.setToolTip(
            "Time is measured from the images made on this machine, by path; a range means this path was not"
            " measured yet.\nMemory is the engine's estimate of the job's working memory on its device, model"
            " weights excluded.\n"
            "Above 2× the model's resolution the image is made at native size first, then upscaled and refined."
        )

    def memory_estimate(self) -> MemoryEstimate | None:
        """The engine's estimate for the current settings; None before a model is loaded or for an invalid size."""
        state, profile = self._state, self._state.memory_profile
        try:
            plan = state.plan()
        except InvalidRequestError:
            return None
        if profile is None:
            return None
        tiling = self._preferences.engine_options.vae_tiling
        return estimate_memory(profile, plan, state.guidance_scale, state.kv_compression, tiling)

    def time_estimate(self) -> TimeEstimate | None:
        """Seconds for the whole job from this machine's measured rates; None before any image of this model ran."""
        state, profile = self._state, self._state.memory_profile
        if profile is None:
            return None
        rates = self._preferences.measured_rates
        return rates.estimate(
            profile, state.plan(), state.steps, state.kv_compression, state.refine_strength, state.batch_count
        )

    def _cost_text(self, plan: SizePlan) -> str:
        """'≈ 12 s · ≈ 3.2 GiB working memory', or what is not known yet."""
        memory = self.memory_estimate()
        if memory is None:
            return "time and memory shown once the model is loaded"
        guess = self.time_estimate()
        if guess is None:
            time_text = "time measured on the first image"
        elif guess.measured:
            time_text = str(guess)
        else:
            time_text = f"{guess} (first {plan.path.value} image here)"
        return f"{time_text} · ≈ {format_gib(memory.activations)} working memory"
