"""The left panel: prompt, size and sampling controls that scroll, over a fixed Generate / progress / queue footer."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QScrollArea, QVBoxLayout, QWidget

from app.ui.create.aspect_presets import AspectPresets
from app.ui.create.generation_panel import GenerationPanel
from app.ui.create.image_panel import ImagePanel
from app.ui.create.progress_panel import ProgressPanel
from app.ui.create.prompt_editor import PromptEditor
from app.ui.create.prompt_history import PromptHistory
from app.ui.create.queue_panel import QueuePanel
from app.ui.create.size_summary import SizeSummary
from app.ui.create.state import GenerationSettings
from app.ui.create.style_presets import StylePresets
from app.ui.settings.preferences import Preferences
from app.ui.widgets.wheel_guard import guard_wheel

if TYPE_CHECKING:
    from app.engine.controller import EngineController
    from app.engine.token_counter import TokenCounter

PANEL_WIDTH = 400


def _separator() -> QFrame:
    line = QFrame()
    line.setFrameShape(QFrame.Shape.HLine)
    line.setProperty("role", "separator")
    line.setStyleSheet("color: palette(mid);")
    return line


class SidePanel(QWidget):
    """Holds the controls; each child binds to the state or the controller on its own."""

    def __init__(
        self,
        state: GenerationSettings,
        preferences: Preferences,
        history: PromptHistory,
        styles: StylePresets,
        controller: EngineController,
        counter_provider: Callable[[], TokenCounter | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("sidePanel")
        self.image_panel = ImagePanel(state.image)
        self.prompt_editor = PromptEditor(state, history, styles, counter_provider)
        self.aspect_presets = AspectPresets(state)
        self.size_summary = SizeSummary(state, preferences)
        self.generation_panel = GenerationPanel(state)
        self.progress_panel = ProgressPanel(controller)
        self.queue_panel = QueuePanel(controller)

        controls = QWidget()
        controls.setObjectName("sidePanelControls")
        column = QVBoxLayout(controls)
        column.setContentsMargins(14, 12, 14, 12)
        column.setSpacing(10)
        column.addWidget(self.image_panel)
        column.addWidget(_separator())
        column.addWidget(self.prompt_editor)
        column.addWidget(_separator())
        column.addWidget(self.aspect_presets)
        column.addWidget(self.size_summary)
        column.addWidget(_separator())
        column.addWidget(self.generation_panel)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setObjectName("sidePanelScroll")
        scroll.setWidget(controls)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        footer = QWidget()
        footer.setObjectName("sidePanelFooter")
        bottom = QVBoxLayout(footer)
        bottom.setContentsMargins(14, 8, 14, 12)
        bottom.setSpacing(6)
        # The queue grows upwards above Generate, so the button stays under the pointer when jobs are queued.
        bottom.addWidget(self.queue_panel)
        bottom.addWidget(self.generation_panel.action_bar)
        bottom.addWidget(self.progress_panel)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(scroll, 1)
        layout.addWidget(_separator())
        layout.addWidget(footer)
        # Inpaint, outpaint and upscale take their size from the source, so the size picker steps aside.
        state.image.changed.connect(lambda: self.aspect_presets.setVisible(state.image.uses_size_picker))
        self.aspect_presets.setVisible(state.image.uses_size_picker)
        self.setMinimumWidth(PANEL_WIDTH - 60)
        controls.setMinimumWidth(PANEL_WIDTH - 80)
        guard_wheel(self)
