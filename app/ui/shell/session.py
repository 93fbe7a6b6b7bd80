"""The window's session in the preferences: its layout and the controls' last values, saved soon after a change."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QEvent, QObject, QTimer
from PySide6.QtWidgets import QMainWindow

from app.ui.create.state import GenerationSettings
from app.ui.settings.preferences import Preferences

# Typing changes the prompt on every key: saving a quarter second after the last change keeps the disk quiet
# while a crash or kill loses at most that quarter second.
SAVE_DELAY_MS = 250


class Session(QObject):
    """Restores the window and the controls at start, and saves them shortly after each change."""

    def __init__(self, window: QMainWindow, state: GenerationSettings, preferences: Preferences) -> None:
        super().__init__(window)
        self._window, self._state, self._preferences = window, state, preferences
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SAVE_DELAY_MS)
        self._timer.timeout.connect(self.save)
        state.changed.connect(self._timer.start)
        window.installEventFilter(self)

    def restore(self) -> None:
        """Window geometry, dock layout and the controls' last values."""
        geometry, layout = self._preferences.window_geometry, self._preferences.window_state
        if not geometry.isEmpty():
            self._window.restoreGeometry(geometry)
        if not layout.isEmpty():
            self._window.restoreState(layout)
        self._state.restore(self._preferences.generation)
        self._timer.stop()  # restoring is not a change

    def save(self, layout: QByteArray | None = None) -> None:
        """Write the controls' values and the window's layout (`layout` stands in for it, e.g. in full screen)."""
        self._timer.stop()
        self._preferences.generation = self._state.to_dict()
        if layout is not None or not self._window.isFullScreen():
            self._preferences.save_window(self._window.saveGeometry(), layout or self._window.saveState())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Moving or resizing the window schedules a save, like a change of the controls."""
        if watched is self._window and event.type() in (QEvent.Type.Move, QEvent.Type.Resize):
            self._timer.start()
        return False
