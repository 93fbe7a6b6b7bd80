"""Recently generated prompts, newest first, kept in the preferences."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from app.store.preferences import MAX_PROMPTS
from app.ui.settings.preferences import Preferences


class PromptHistory(QObject):
    """A most-recent-first list of distinct prompts that survives restarts."""

    history_changed = Signal(list)

    def __init__(self, preferences: Preferences, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._preferences = preferences
        preferences.prompt_history_changed.connect(self.history_changed)

    @property
    def prompts(self) -> list[str]:
        """The remembered prompts, newest first."""
        return self._preferences.prompt_history

    def add(self, prompt: str) -> None:
        """Remember a prompt (moving it to the front if it was there already)."""
        prompt = prompt.strip()
        if prompt:
            self._preferences.prompt_history = [prompt, *(p for p in self.prompts if p != prompt)][:MAX_PROMPTS]

    def clear(self) -> None:
        """Forget every prompt."""
        self._preferences.prompt_history = []
