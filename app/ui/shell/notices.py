"""The window's banners and the rules for when each comes and goes: errors, the demo notice, settings that cannot
make an image, a model that failed to load, the trash's Undo and a lost server."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from app.core.errors import InvalidRequestError
from app.core.wording import counted
from app.engine.jobs import ModelState, ModelStatus
from app.ui.shell.banner import Banner
from app.ui.shell.help_dialogs import REAL_WEIGHTS_HELP

if TYPE_CHECKING:
    from app.ui.shell.main_window import MainWindow

log = logging.getLogger(__name__)


class Notices(QObject):
    """Shows the window's banners; each kind replaces or dismisses its own stale ones."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self._banners = window.banners
        self._demo_notice: Banner | None = None
        # Once closed, the demo notice stays closed on later launches too (it said all it has to say).
        self._demo_notice_dismissed = window.preferences.demo_notice_dismissed
        self._connection_banner: Banner | None = None

    def show_error(self, message: str, details: str = "") -> Banner:
        """An error banner above the viewer, with details to copy."""
        log.warning("%s %s", message, details)
        one_line = details if details and "\n" not in details.strip() and len(details) < 300 else ""
        return self._banners.show_banner(Banner("error", message, one_line, details))

    def show_demo_notice(self) -> None:
        """The first-run notice: this is the demo model, and how to get real weights."""
        if self._demo_notice is not None or self._demo_notice_dismissed:
            return
        notice = Banner(
            "info",
            "You are using the built-in demo model",
            "It is tiny and only knows simple shapes, so it is for trying the app. " + REAL_WEIGHTS_HELP,
            actions=(("Open Models…", self._window.open_model_manager),),
            rich_message=True,
        )
        notice.dismissed.connect(self._on_demo_notice_dismissed)
        self._demo_notice = self._banners.show_banner(notice)

    def model_status(self, status: ModelStatus) -> None:
        """A loaded demo shows the notice; a loaded real model takes it away."""
        if status.state is not ModelState.READY:
            return
        if status.is_demo:
            self.show_demo_notice()
        elif self._demo_notice is not None:
            self._demo_notice.dismiss()

    def invalid_settings(self, message: str) -> None:
        """Why the settings cannot make an image, until the size is fixed."""
        state = self._window.state
        banner = self._banners.show_banner(
            Banner("error", "These settings cannot make an image.", message, key="invalid-settings")
        )

        def dismiss_once_valid() -> None:
            try:
                state.plan()
            except InvalidRequestError:
                return
            banner.dismiss()

        # The banner goes as soon as the size is fixed, instead of staying to contradict the size line.
        state.size_changed.connect(dismiss_once_valid)
        banner.dismissed.connect(lambda: state.size_changed.disconnect(dismiss_once_valid))

    def load_failed(self, message: str) -> None:
        """A model that failed to load, with where its settings are changed."""
        window = self._window
        self._banners.show_banner(
            Banner(
                "error",
                "The model could not be loaded.",
                f"{message.rstrip('.')}. The device, precision and text encoder are chosen in Settings; "
                "the model in Models.",
                actions=(("Open Settings…", window.open_settings), ("Open Models…", window.open_model_manager)),
            )
        )

    def deleted(self, count: int) -> None:
        """Images moved to the trash, with Undo until they are restored."""
        actions = self._window.gallery_actions
        banner = self._banners.show_banner(
            Banner(
                "info",
                f"Moved {counted(count, 'image')} to the trash",
                "Ctrl+Z brings them back.",
                actions=(("Undo", actions.undo_delete),),
                key="trash",  # Undo restores only the last deletion, so older offers go
            )
        )
        actions.restored.connect(banner.dismiss)

    def connection_changed(self, reachable: bool, message: str) -> None:
        """A lost server gets a banner (jobs wait in the queue); it goes away when the server is back."""
        if self._connection_banner is not None:
            self._connection_banner.dismiss()
            self._connection_banner = None
        if reachable:
            self._window.status.show_message(message)
            return
        banner = Banner(
            "warning",
            "The server is not reachable",
            f"{message}. Queued jobs wait; the app reconnects when the server is back.",
        )
        banner.dismissed.connect(lambda: setattr(self, "_connection_banner", None))
        self._connection_banner = self._banners.show_banner(banner)

    def _on_demo_notice_dismissed(self) -> None:
        self._demo_notice = None
        self._demo_notice_dismissed = True
        self._window.preferences.demo_notice_dismissed = True
