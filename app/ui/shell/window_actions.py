"""The window's commands as a table of specs, and the QActions, menus and toolbar built from that table."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QSizePolicy, QToolBar, QToolButton, QWidget

from app.ui.widgets.icons import icon


class ToolbarSide(Enum):
    """Where a command sits on the toolbar: before the spacer with its text, or after it as an icon."""

    LEADING = "leading"
    TRAILING = "trailing"


@dataclass(frozen=True)
class Command:
    """One window command: what it says, its keys and icon, where it is placed, and what it runs."""

    id: str
    text: str
    run: Callable[[], object]
    keys: tuple[str, ...] = ()
    icon: str | None = None
    menu: str | None = None
    key_hint: str = ""  # a single key the viewer handles itself (typing "f" in the prompt stays an "f")
    separator_before: bool = False
    toolbar: ToolbarSide | None = None
    toolbar_order: int = 0  # the toolbar's order where it differs from the menus'
    checked: Callable[[], bool] | None = None  # a check mark showing this state, refreshed as its menu opens


class WindowActions:
    """Creates one QAction per command, then the menu bar (menus in table order) and the toolbar."""

    def __init__(self, window: QMainWindow, commands: Sequence[Command]) -> None:
        ids = [command.id for command in commands]
        if len(set(ids)) != len(ids):
            raise ValueError(f"command ids must be unique: {ids}")
        self._window = window
        self.commands = tuple(commands)
        self._actions = {command.id: self._action(command) for command in self.commands}
        self._build_menus()
        self.toolbar = self._build_toolbar()

    def __getitem__(self, command_id: str) -> QAction:
        """The QAction of a command."""
        return self._actions[command_id]

    def _action(self, command: Command) -> QAction:
        action = QAction(command.text, self._window)
        action.setObjectName(command.id)
        action.setCheckable(command.checked is not None)
        action.triggered.connect(lambda _checked=False: command.run())
        if command.keys:
            action.setShortcuts([QKeySequence(key) for key in command.keys])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if command.key_hint:
            action.setText(f"{command.text}\t{command.key_hint}")
        if command.icon:
            action.setIcon(icon(command.icon))
        shown_keys = command.key_hint or (command.keys[0] if command.keys else "")
        action.setToolTip(f"{command.text} ({shown_keys})" if shown_keys else command.text)
        action.setStatusTip(command.text)
        self._window.addAction(action)  # shortcuts work even while the menu bar is hidden (full screen)
        return action

    def _build_menus(self) -> None:
        menus: dict[str, list[Command]] = {}
        for command in self.commands:
            if command.menu is not None:
                menus.setdefault(command.menu, []).append(command)
        bar = self._window.menuBar()
        for title, entries in menus.items():
            menu = bar.addMenu(title)
            menu.aboutToShow.connect(lambda entries=entries: self._refresh_checks(entries))
            for command in entries:
                if command.separator_before:
                    menu.addSeparator()
                menu.addAction(self._actions[command.id])

    def _refresh_checks(self, commands: list[Command]) -> None:
        for command in commands:
            if command.checked is not None:
                self._actions[command.id].setChecked(command.checked())

    def _build_toolbar(self) -> QToolBar:
        toolbar = QToolBar("Toolbar", self._window)
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        toolbar.setIconSize(QSize(18, 18))
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for side in ToolbarSide:
            if side is ToolbarSide.TRAILING:
                spacer = QWidget()
                spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
                toolbar.addWidget(spacer)
            placed = sorted((c for c in self.commands if c.toolbar is side), key=lambda c: c.toolbar_order)
            for command in placed:
                action = self._actions[command.id]
                toolbar.addAction(action)
                button = toolbar.widgetForAction(action)
                if side is ToolbarSide.TRAILING and isinstance(button, QToolButton):
                    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self._window.addToolBar(Qt.ToolBarArea.TopToolBarArea, toolbar)
        return toolbar
