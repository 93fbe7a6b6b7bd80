"""In-window banners: errors with copyable details, the demo-model notice, and undo offers."""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.ui.widgets.icons import icon
from app.ui.widgets.theme import current_colors

_LEVEL_ICONS = {"info": "info", "warning": "warning", "error": "error"}


class Banner(QFrame):
    """A dismissible message above the viewer; errors carry details the user can expand and copy."""

    dismissed = Signal()

    def __init__(
        self,
        level: str,
        title: str,
        message: str = "",
        details: str = "",
        actions: tuple[tuple[str, Callable[[], object]], ...] = (),  # what a callback returns is ignored
        parent: QWidget | None = None,
        rich_message: bool = False,
        key: str = "",
        timeout_ms: int = 0,
    ) -> None:
        super().__init__(parent)
        if level not in _LEVEL_ICONS:
            raise ValueError(f"level {level!r} is not one of {', '.join(_LEVEL_ICONS)}")
        self.setProperty("role", "banner")
        self.setProperty("level", level)
        self.setObjectName(f"{level}Banner")
        self.setAccessibleName(f"{level.capitalize()}: {title}")
        self.title = title
        self.message = message
        self.details = details
        self.key = key  # a newer banner with the same key replaces this one (the last deletion's Undo, say)
        if timeout_ms:
            QTimer.singleShot(timeout_ms, self, self.dismiss)  # news of a finished action goes by itself

        colors = current_colors()
        tint = {"info": colors.accent, "warning": colors.warning, "error": colors.danger}[level]
        symbol = QLabel()
        symbol.setPixmap(icon(_LEVEL_ICONS[level], tint).pixmap(20, 20))
        symbol.setAlignment(Qt.AlignmentFlag.AlignTop)
        # Titles and messages quote file names, errors and imported metadata: shown as typed, never as markup,
        # unless the caller wrote the message as rich text itself.
        body = message if rich_message else html.escape(message)
        text = QLabel(f"<b>{html.escape(title)}</b>" + (f"<br>{body}" if message else ""))
        text.setWordWrap(True)
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        text.setOpenExternalLinks(True)

        row = QHBoxLayout()
        row.setSpacing(10)
        row.addWidget(symbol)
        row.addWidget(text, 1)
        # Actions go on a row under a message, so the text keeps the banner's width in a narrow viewer.
        action_row = QHBoxLayout() if message else row
        for label, callback in actions:
            button = QPushButton(label)
            button.setAccessibleName(label)
            button.clicked.connect(callback)
            action_row.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
        self.details_edit: QPlainTextEdit | None = None
        if details:
            toggle = QPushButton("Details")
            toggle.setCheckable(True)
            toggle.setToolTip("Show the technical details")
            copy = QPushButton(icon("copy"), "Copy")
            copy.setToolTip("Copy the message and details, e.g. for a bug report")
            copy.clicked.connect(self.copy_details)
            row.addWidget(toggle, 0, Qt.AlignmentFlag.AlignTop)
            row.addWidget(copy, 0, Qt.AlignmentFlag.AlignTop)
            self.details_edit = QPlainTextEdit(details)
            self.details_edit.setReadOnly(True)
            self.details_edit.setAccessibleName("Error details")
            self.details_edit.setMaximumHeight(160)
            self.details_edit.setVisible(False)
            toggle.toggled.connect(self.details_edit.setVisible)
        close = QToolButton()
        close.setIcon(icon("close"))
        close.setProperty("flat", True)
        close.setToolTip("Dismiss")
        close.setAccessibleName("Dismiss")
        close.clicked.connect(self.dismiss)
        row.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 8, 8)
        layout.addLayout(row)
        if action_row is not row:
            action_row.insertSpacing(0, 30)  # under the text, past the icon
            action_row.addStretch(1)
            layout.addLayout(action_row)
        if self.details_edit is not None:
            layout.addWidget(self.details_edit)

    def same_as(self, other: Banner) -> bool:
        """True when both say the same thing or share a key (a repeat replaces the banner instead of stacking)."""
        if self.key and self.key == other.key:
            return True
        return (self.property("level"), self.title, self.message) == (
            other.property("level"),
            other.title,
            other.message,
        )

    def copy_details(self) -> None:
        """Put the title, message and details on the clipboard."""
        QApplication.clipboard().setText("\n\n".join(part for part in (self.title, self.message, self.details) if part))

    def dismiss(self) -> None:
        """Remove the banner."""
        self.hide()
        self.dismissed.emit()
        self.deleteLater()


class BannerArea(QWidget):
    """A column of banners; at most a few are kept so a burst of errors cannot bury the viewer."""

    MAX_BANNERS = 3

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(10, 8, 10, 0)
        self._layout.setSpacing(6)
        self.banners: list[Banner] = []
        self.setVisible(False)

    def show_banner(self, banner: Banner) -> Banner:
        """Add a banner at the top, replacing one that says the same, dropping the oldest beyond the limit."""
        for shown in [b for b in self.banners if b.same_as(banner)]:
            shown.dismiss()
        self.banners.insert(0, banner)
        self._layout.insertWidget(0, banner)
        banner.dismissed.connect(lambda: self._forget(banner))
        while len(self.banners) > self.MAX_BANNERS:
            self.banners[-1].dismiss()
        self.setVisible(True)
        return banner

    def _forget(self, banner: Banner) -> None:
        if banner in self.banners:
            self.banners.remove(banner)
        self.setVisible(bool(self.banners))
