"""Window-level behaviour: settings dialog, shortcuts help, full screen, accessibility of controls."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit, QPlainTextEdit
from pytestqt.qtbot import QtBot

from app.application import Studio
from app.core.engine_options import VaeTiling
from app.ui.settings.settings_dialog import SettingsDialog
from app.ui.shell.shortcuts import ShortcutsDialog
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
    studio.window.actions_.shortcuts.trigger()
    dialog = studio.window.findChild(ShortcutsDialog)
    table = dialog.findChild(object, "shortcutsTable")
    keys = {table.item(row, 2).text() for row in range(table.rowCount())}
    assert {"Ctrl+Enter", "Esc", "F", "1", "F11"} <= keys
    assert studio.window.actions_.generate.shortcut().toString() == "Ctrl+Return"


def test_full_screen_shows_only_the_viewer_and_esc_leaves_it(qtbot: QtBot, studio: Studio) -> None:
    """F11 hides the panels around the viewer; Esc brings them back without cancelling anything."""
    window = studio.window
    window.actions_.full_screen.trigger()
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


def test_file_dialogs_open_in_the_users_folders_not_the_apps(qtbot: QtBot, studio: Studio, monkeypatch) -> None:
    """Load settings from image… opens in Pictures (or home), never the working directory the app was started in."""
    import os
    from pathlib import Path

    from app.ui.shell import main_window

    asked: list[str] = []
    monkeypatch.setattr(
        main_window.QFileDialog, "getOpenFileName", lambda _p, _t, folder, _f: (asked.append(folder), ("", ""))[1]
    )
    studio.window.open_import_dialog()
    assert asked and Path(asked[0]).is_dir() and Path(asked[0]).resolve() != Path(os.getcwd()).resolve()


def test_full_screen_shows_the_jobs_progress_over_the_image(qtbot: QtBot, make_studio) -> None:
    """With the panels hidden (F11), the viewer itself says how far the running job is, and stops when it ends."""
    from tests.ui.conftest import JOB_TIMEOUT_MS
    from tests.ui.fakes import fake_factory

    studio = make_studio(fake_factory(step_s=0.05))  # a one-second job: its progress is there to be seen
    window = studio.window
    window.actions_.full_screen.trigger()
    studio.state.prompt = "full screen poster"
    window.generate()
    qtbot.waitUntil(lambda: "/20" in window.viewer.progress_text, timeout=JOB_TIMEOUT_MS)
    qtbot.waitUntil(lambda: window.viewer.progress_text == "", timeout=JOB_TIMEOUT_MS)
