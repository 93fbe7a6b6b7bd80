"""Sampling controls (steps, guidance, seed, scheduler, batch, KV compression, refine) and Generate/Cancel."""

from __future__ import annotations

import random

from PySide6.QtCore import QRegularExpression, Qt, Signal
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import InvalidRequestError
from app.core.request import MAX_BATCH, MAX_GUIDANCE_SCALE, MAX_SEED, MAX_STEPS, KVCompressionMode
from app.core.schedulers import SCHEDULER_DEFAULTS, SchedulerName
from app.core.sizes import GenerationPath, HighResMethod
from app.ui.create.state import RANDOM_SEED_LIMIT, GenerationSettings, SeedMode
from app.ui.widgets.combo import labelled_combo
from app.ui.widgets.icons import icon

_SEED_MODES = ((SeedMode.RANDOM, "Random"), (SeedMode.FIXED, "Fixed"), (SeedMode.REUSE_LAST, "Reuse last"))
_KV_MODES = (
    (KVCompressionMode.AUTO, "Auto (large sizes only)"),
    (KVCompressionMode.ON, "Always"),
    (KVCompressionMode.OFF, "Never"),
)
_HIGH_RES = (
    (HighResMethod.AUTO, "Auto"),
    (HighResMethod.DIRECT, "In one pass"),
    (HighResMethod.REFINE, "Small, then redrawn larger"),
    (HighResMethod.ENLARGE, "Small, then enlarged (fast)"),
)


def _bind_combo(combo: QComboBox, state: GenerationSettings, name: str) -> None:
    combo.currentIndexChanged.connect(lambda index: setattr(state, name, combo.itemData(index)))

    def show(value: object) -> None:
        combo.setCurrentIndex(max(0, combo.findData(value)))

    getattr(state, f"{name}_changed").connect(show)
    show(getattr(state, name))


class GenerationPanel(QWidget):
    """Binds to GenerationSettings; asks the window to generate or cancel through signals."""

    generate_requested = Signal()
    cancel_requested = Signal()

    def __init__(self, state: GenerationSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        title = QLabel("SAMPLING")
        title.setProperty("role", "section")

        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(1, MAX_STEPS)  # the limits every request has, as in the CLI
        self.steps_spin.setAccessibleName("Steps")
        self.steps_spin.setToolTip("Denoising steps: more is slower and usually finer (20 suits DPM-Solver++)")
        self.steps_spin.valueChanged.connect(lambda value: setattr(state, "steps", value))
        state.steps_changed.connect(self.steps_spin.setValue)

        self.guidance_spin = QDoubleSpinBox()
        self.guidance_spin.setRange(0.0, MAX_GUIDANCE_SCALE)
        self.guidance_spin.setSingleStep(0.5)
        self.guidance_spin.setDecimals(1)
        self.guidance_spin.setAccessibleName("Guidance scale")
        self.guidance_spin.setToolTip(
            "How closely to follow the prompt (4.5 is PixArt-Σ's default; a model may recommend its own)"
        )
        self.guidance_spin.valueChanged.connect(lambda value: setattr(state, "guidance_scale", value))
        state.guidance_scale_changed.connect(self.guidance_spin.setValue)

        self.scheduler_combo = labelled_combo(
            tuple((s, s.value) for s in SchedulerName), "Scheduler", "Sampler; picking one sets its usual steps"
        )
        self._previous_scheduler = state.scheduler
        _bind_combo(self.scheduler_combo, state, "scheduler")
        state.scheduler_changed.connect(self._on_scheduler_changed)

        self.seed_edit = QLineEdit()
        self.seed_edit.setObjectName("seedEdit")
        self.seed_edit.setValidator(QRegularExpressionValidator(QRegularExpression(r"\d{0,19}"), self.seed_edit))
        self.seed_edit.setAccessibleName("Seed")
        self.seed_edit.setToolTip("The seed makes an image repeatable; typing one fixes it")
        self.seed_edit.textEdited.connect(self._on_seed_typed)
        state.seed_changed.connect(lambda seed: self.seed_edit.setText(str(seed)))
        self.seed_mode_combo = labelled_combo(
            _SEED_MODES, "Seed mode", "Random: a new seed each time · Fixed: the seed shown · Reuse last"
        )
        _bind_combo(self.seed_mode_combo, state, "seed_mode")
        dice = QToolButton()
        dice.setIcon(icon("dice"))
        dice.setToolTip("New random seed, kept fixed")
        dice.setAccessibleName("New random seed")
        dice.clicked.connect(self.roll_seed)
        seed_row = QHBoxLayout()
        seed_row.setSpacing(4)
        seed_row.addWidget(self.seed_edit, 1)
        seed_row.addWidget(self.seed_mode_combo)
        seed_row.addWidget(dice)

        self.batch_spin = QSpinBox()
        self.batch_spin.setRange(1, MAX_BATCH)
        self.batch_spin.setAccessibleName("Batch count")
        self.batch_spin.setToolTip("Images per job; they use seed, seed+1, …")
        self.batch_spin.valueChanged.connect(lambda value: setattr(state, "batch_count", value))
        state.batch_count_changed.connect(self.batch_spin.setValue)

        self.kv_combo = labelled_combo(
            _KV_MODES,
            "KV compression",
            "Attention speed-up (KV compression): 2K–4K images are made about a third faster with a little less fine "
            "detail; at the model's own size it would be slower, so Auto uses it only above it",
        )
        _bind_combo(self.kv_combo, state, "kv_compression")
        self.high_res_combo = labelled_combo(
            _HIGH_RES,
            "High-resolution method",
            "Sizes above the model's own resolution: in one pass at full size, made small, enlarged and redrawn for "
            "detail, or made small and only enlarged (fast, no new detail). Auto: what the model draws best, for "
            "PixArt-Σ one pass up to 2× and redrawn beyond; the demo model's redraws are worse than its own size "
            "enlarged, so it enlarges",
        )
        _bind_combo(self.high_res_combo, state, "high_res")

        self.refine_slider = QSlider(Qt.Orientation.Horizontal)
        self.refine_slider.setRange(5, 100)
        self.refine_slider.setAccessibleName("Refine strength")
        self.refine_slider.setToolTip("How much the redraw may change the enlarged image (above 2× the model's size)")
        self.refine_value = QLabel()
        self.refine_slider.valueChanged.connect(lambda value: setattr(state, "refine_strength", value / 100))
        state.refine_strength_changed.connect(self._show_refine)
        refine_row = QHBoxLayout()
        refine_row.addWidget(self.refine_slider, 1)
        refine_row.addWidget(self.refine_value)

        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        form.setHorizontalSpacing(10)
        form.setVerticalSpacing(6)
        form.addRow("Sampler", self.scheduler_combo)
        form.addRow("Steps", self.steps_spin)
        form.addRow("Guidance", self.guidance_spin)
        form.addRow("Seed", seed_row)
        form.addRow("Batch", self.batch_spin)
        form.addRow("Speed-up", self.kv_combo)
        form.addRow("Large sizes", self.high_res_combo)
        form.addRow("Redraw", refine_row)

        self.generate_button = QPushButton(icon("generate", "#ffffff"), "Generate")
        self.generate_button.setObjectName("generateButton")
        self.generate_button.setAccessibleName("Generate")
        self.generate_button.setToolTip("Generate (Ctrl+Enter); while a job runs, this adds to the queue")
        self.generate_button.clicked.connect(self.generate_requested)
        self.cancel_button = QPushButton(icon("stop"), "Cancel")
        self.cancel_button.setObjectName("cancelButton")
        self.cancel_button.setAccessibleName("Cancel generation")
        self.cancel_button.setToolTip("Stop the running job (Esc)")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_requested)
        # The buttons live in the side panel's footer (always visible), so they are a separate widget.
        self.action_bar = QWidget()
        buttons = QHBoxLayout(self.action_bar)
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.generate_button, 1)
        buttons.addWidget(self.cancel_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(title)
        layout.addLayout(form)

        state.size_changed.connect(self._update_refine_enabled)
        for value, setter in (
            (state.steps, self.steps_spin.setValue),
            (state.guidance_scale, self.guidance_spin.setValue),
            (state.batch_count, self.batch_spin.setValue),
        ):
            setter(value)
        self.seed_edit.setText(str(state.seed))
        self._show_refine(state.refine_strength)
        self._update_refine_enabled()

    def set_busy(self, busy: bool) -> None:
        """While a job runs, Generate queues another and Cancel is available."""
        self.generate_button.setText("Add to queue" if busy else "Generate")
        self.cancel_button.setEnabled(busy)

    def roll_seed(self) -> None:
        """Pick a new random seed and keep it fixed."""
        self._state.seed = random.randrange(RANDOM_SEED_LIMIT)
        self._state.seed_mode = SeedMode.FIXED

    def _on_seed_typed(self, text: str) -> None:
        if text and int(text) <= MAX_SEED:
            self._state.seed = int(text)
            self._state.seed_mode = SeedMode.FIXED

    def _on_scheduler_changed(self, scheduler: SchedulerName) -> None:
        # Follow the new sampler's defaults unless the user had tuned steps or guidance by hand.
        if self._state.steps == SCHEDULER_DEFAULTS[self._previous_scheduler].steps:
            self._state.steps = SCHEDULER_DEFAULTS[scheduler].steps
        if self._state.guidance_scale == self._state.default_guidance(self._previous_scheduler):
            self._state.guidance_scale = self._state.default_guidance(scheduler)
        self._previous_scheduler = scheduler

    def _show_refine(self, strength: float) -> None:
        self.refine_slider.setValue(round(strength * 100))
        self.refine_value.setText(f"{strength:.2f}")

    def _update_refine_enabled(self) -> None:
        try:
            refining = self._state.plan().path is GenerationPath.REFINE
        except InvalidRequestError:
            refining = False
        self.refine_slider.setEnabled(refining)
        self.refine_slider.setToolTip(
            "How much the redraw may change the enlarged image"
            if refining
            else "Used only when a size is made small and redrawn larger (above 2× the model's resolution)"
        )
