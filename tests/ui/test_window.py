"""Window-level behaviour: settings dialog, shortcuts help, full screen, accessibility of controls."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit, QMainWindow, QPlainTextEdit
from pytestqt.qtbot import QtBot

from app.application import Studio
from app.core.engine_options import VaeTiling
from app.ui.settings.settings_dialog import SettingsDialog
from app.ui.shell.shortcuts import SHORTCUTS, ShortcutsDialog
from app.ui.shell.window_actions import WindowActions
from app.ui.widgets.theme import Theme


def test_settings_dialog_saves_preferences_and_updates_the_engine(qtbot: QtBot, studio: Studio, tmp_path) -> None:
    """OK in Settings stores engine options, output folder and theme, and the controller gets the options."""
    dialog = SettingsDialog(studio.preferences, studio.window)
    qtbot.addWidget(dialog)
    dialog.vae_tiling.setCurrentIndex(dialog.vae_tiling.findData(VaeTiling.ON))
    dialog.preview_every.setValue(5)
    dialog.output_folder.setText(str(tmp_path / "posters"))
    dialog.theme.setCurrentIndex(dialog.theme.findData(Theme.LIGHT))
    dialog.accept()
    assert studio.controller.options.vae_tiling is VaeTiling.ON and studio.controller.options.preview_every == 5
    assert studio.preferences.output_folder == tmp_path / "posters"
    assert studio.window.gallery_model.gallery.root == tmp_path / "posters"
    assert studio.preferences.theme is Theme.LIGHT


def test_help_lists_the_shortcuts(qtbot: QtBot, studio: Studio) -> None:
    """Help → Keyboard shortcuts shows the generate, cancel, viewer and full-screen keys."""
    studio.window.actions_["shortcuts"].trigger()
    dialog = studio.window.findChild(ShortcutsDialog)
    table = dialog.findChild(object, "shortcutsTable")
    keys = {table.item(row, 2).text() for row in range(table.rowCount())}
    assert {"Ctrl+Enter", "Esc", "F", "1", "F11"} <= keys
    assert studio.window.actions_["generate"].shortcut().toString() == "Ctrl+Return"


def test_full_screen_shows_only_the_viewer_and_esc_leaves_it(qtbot: QtBot, studio: Studio) -> None:
    """F11 hides the panels around the viewer; Esc brings them back without cancelling anything."""
    window = studio.window
    window.actions_["full_screen"].trigger()
    assert window.isFullScreen() and window.side_dock.isHidden() and window.gallery_dock.isHidden()
    qtbot.keyClick(window.viewer, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not window.isFullScreen())
    assert window.side_dock.isVisible() and window.gallery_dock.isVisible()


def test_every_input_has_an_accessible_name_or_visible_label(studio: Studio) -> None:
    """Screen readers can name every edit, spin box, combo box and icon button in the window."""
    window = studio.window
    unnamed = []
    for kind in (QPlainTextEdit, QLineEdit, QAbstractSpinBox, QComboBox):
        for widget in window.findChildren(kind):
            if (
                widget.isVisibleTo(window)
                and not widget.accessibleName()
                and not isinstance(widget.parent(), (QAbstractSpinBox, QComboBox))
            ):
                unnamed.append(widget)
    for button in window.findChildren(QAbstractButton):
        if button.isVisibleTo(window) and not (button.text() or button.accessibleName() or button.toolTip()):
            unnamed.append(button)
    assert [f"{type(w).__name__} {w.objectName()} in {type(w.parent()).__name__}" for w in unnamed] == []


def test_every_menu_entry_and_toolbar_button_comes_from_the_command_table(studio: Studio) -> None:
    """The menus hold exactly the table's commands, in its order; the toolbar holds the ones placed on it."""
    window = studio.window
    expected: dict[str, list[str]] = {}
    for command in window.actions_.commands:
        if command.menu:
            expected.setdefault(command.menu, []).append(command.id)
    menus = {
        entry.text(): [action.objectName() for action in entry.menu().actions() if not action.isSeparator()]
        for entry in window.menuBar().actions()
    }
    assert menus == expected
    assert list(menus) == ["&File", "&Edit", "&View", "&Generate", "&Models", "&Help"]
    on_toolbar = [action.objectName() for action in window.actions_.toolbar.actions() if action.objectName()]
    assert on_toolbar == ["models", "settings", "fit", "actual", "zoom_out", "zoom_in", "full_screen"]


def test_each_menu_entry_triggers_its_command(qtbot: QtBot, studio: Studio) -> None:
    """Built from the window's table with recording commands, every menu entry runs its own command once."""
    calls: list[str] = []
    recorded = [
        replace(command, run=lambda command_id=command.id: calls.append(command_id))
        for command in studio.window.actions_.commands
    ]
    host = QMainWindow()
    qtbot.addWidget(host)
    WindowActions(host, recorded)
    in_menus = [
        action for entry in host.menuBar().actions() for action in entry.menu().actions() if not action.isSeparator()
    ]
    for action in in_menus:
        action.trigger()
    assert calls == [command.id for command in recorded if command.menu]


def test_the_window_commands_keep_their_shortcuts_and_the_help_lists_them(studio: Studio) -> None:
    """Each command's keys are the ones users know, and Help → Keyboard shortcuts lists every one."""
    actions = studio.window.actions_
    keys = {
        command.id: [key.toString() for key in actions[command.id].shortcuts()]
        for command in actions.commands
        if command.keys
    }
    assert keys == {
        "import_settings": ["Ctrl+O"],
        "export": ["Ctrl+E"],
        "quit": ["Ctrl+Q"],
        "undo_delete": ["Ctrl+Z"],
        "search": ["Ctrl+F"],
        "show_details": ["Ctrl+I"],
        "settings": ["Ctrl+,"],
        "full_screen": ["F11"],
        "generate": ["Ctrl+Return", "Ctrl+Enter"],
        "cancel": ["Esc"],
        "new_seed": ["Ctrl+R"],
        "focus_prompt": ["Ctrl+L"],
        "models": ["Ctrl+M"],
        "shortcuts": ["F1"],
    }
    listed = {key for *_, keys_text in SHORTCUTS for key in keys_text.split(" / ")}
    missing = [c.id for c in actions.commands if (c.keys or c.key_hint) and not {*c.keys, c.key_hint} & listed]
    assert missing == []


def test_dock_toggles_in_the_view_menu_show_and_hide_the_panels(qtbot: QtBot, studio: Studio) -> None:
    """View → Gallery hides the gallery dock and brings it back; the menu's check mark follows the dock."""
    window = studio.window
    view_menu = next(entry.menu() for entry in window.menuBar().actions() if entry.text() == "&View")
    window.actions_["show_gallery"].trigger()
    assert window.gallery_dock.isHidden()
    view_menu.aboutToShow.emit()
    assert not window.actions_["show_gallery"].isChecked()
    window.actions_["show_gallery"].trigger()
    assert window.gallery_dock.isVisible()
    view_menu.aboutToShow.emit()
    assert window.actions_["show_gallery"].isChecked() and window.actions_["show_create"].isChecked()


def test_file_dialogs_open_in_the_users_folders_not_the_apps(qtbot: QtBot, studio: Studio, monkeypatch) -> None:
    """Load settings from image… opens in Pictures (or home), never the working directory the app was started in."""
    import os
    from pathlib import Path

    from app.ui.shell import settings_reuse

    asked: list[str] = []
    monkeypatch.setattr(
        settings_reuse.QFileDialog, "getOpenFileName", lambda _p, _t, folder, _f: (asked.append(folder), ("", ""))[1]
    )
    studio.window.settings_reuse.open_import_dialog()
    assert asked and Path(asked[0]).is_dir() and Path(asked[0]).resolve() != Path(os.getcwd()).resolve()


def test_full_screen_shows_the_jobs_progress_over_the_image(qtbot: QtBot, make_studio) -> None:
    """With the panels hidden (F11), the viewer itself says how far the running job is, and stops when it ends."""
    from tests.ui.conftest import JOB_TIMEOUT_MS
    from tests.ui.fakes import fake_factory

    studio = make_studio(fake_factory(step_s=0.05))  # a one-second job: its progress is there to be seen
    window = studio.window
    window.actions_["full_screen"].trigger()
    studio.state.prompt = "full screen poster"
    window.generate()
    qtbot.waitUntil(lambda: "/20" in window.viewer.progress_text, timeout=JOB_TIMEOUT_MS)
    qtbot.waitUntil(lambda: window.viewer.progress_text == "", timeout=JOB_TIMEOUT_MS)
