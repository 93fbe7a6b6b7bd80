"""Recently generated prompts, newest first, kept in the settings file."""

from __future__ import annotations

from PySide6.QtCore import QObject, QSettings, Signal

from app.ui.settings.preferences import read_json, write_json

MAX_PROMPTS = 50
_KEY = "prompts/history"


class PromptHistory(QObject):
    """A most-recent-first list of distinct prompts that survives restarts."""

    history_changed = Signal(list)

    def __init__(self, settings: QSettings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        stored = read_json(settings, _KEY, [])
        self._prompts: list[str] = [p for p in stored if isinstance(p, str) and p.strip()][:MAX_PROMPTS]

    @property
    def prompts(self) -> list[str]:
        """The remembered prompts, newest first."""
        return list(self._prompts)

    def add(self, prompt: str) -> None:
        """Remember a prompt (moving it to the front if it was there already)."""
        prompt = prompt.strip()
        if not prompt:
            return
        self._prompts = [prompt, *(p for p in self._prompts if p != prompt)][:MAX_PROMPTS]
        write_json(self._settings, _KEY, self._prompts)
        self.history_changed.emit(self.prompts)

    def clear(self) -> None:
        """Forget every prompt."""
        self._prompts = []
        write_json(self._settings, _KEY, [])
        self.history_changed.emit([])
