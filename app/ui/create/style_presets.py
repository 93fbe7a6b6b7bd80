"""Style presets the user edits: named phrases appended to a prompt, kept in the preferences."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from app.core.styles import StylePreset
from app.ui.settings.preferences import Preferences


class StylePresets(QObject):
    """The user's style presets; the built-in ones until the user edits them."""

    presets_changed = Signal(list)

    def __init__(self, preferences: Preferences, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._preferences = preferences
        preferences.style_presets_changed.connect(self.presets_changed)

    @property
    def presets(self) -> list[StylePreset]:
        """The presets, in the order the user arranged them."""
        return self._preferences.style_presets

    def set_presets(self, presets: list[StylePreset]) -> None:
        """Replace the presets (those with an empty name or text are dropped) and save them."""
        self._preferences.style_presets = [p for p in presets if p.name.strip() and p.text.strip()]
