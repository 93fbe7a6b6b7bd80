"""The window's preferences: saved when they change (a kill loses nothing), carried over from the old INI file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings
from pytestqt.qtbot import QtBot

from app.application import Studio
from app.core.engine_options import DeviceChoice, EngineOptions, VaeTiling
from app.core.errors import StoreError
from app.core.paths import AppPaths
from app.core.styles import StylePreset
from app.store.preferences import PreferencesFile, load_preferences
from app.ui.settings.settings_dialog import SettingsDialog
from app.ui.widgets.theme import Theme


def test_settings_survive_a_kill_right_after_they_change(qtbot: QtBot, make_studio: Callable[..., Studio]) -> None:
    """A second Studio on the same home, built while the first was never closed, sees every change."""
    first = make_studio()
    dialog = SettingsDialog(first.preferences, first.window)
    qtbot.addWidget(dialog)
    dialog.vae_tiling.setCurrentIndex(dialog.vae_tiling.findData(VaeTiling.ON))
    dialog.theme.setCurrentIndex(dialog.theme.findData(Theme.LIGHT))
    dialog.accept()
    first.window.history.add("a remembered prompt")
    first.window.styles.set_presets([StylePreset("Mine", "my look")])
    first.state.steps = 37
    qtbot.waitUntil(lambda: load_preferences(first.paths).generation.get("steps") == 37)  # saved soon after
    second = make_studio(show=False)  # the first window is still open: nothing was saved by closing it
    assert second.preferences.engine_options.vae_tiling is VaeTiling.ON
    assert second.preferences.theme is Theme.LIGHT
    assert second.window.history.prompts == ["a remembered prompt"]
    assert second.window.styles.presets == [StylePreset("Mine", "my look")]
    assert second.state.steps == 37


def test_the_old_ini_settings_are_carried_over_once(qtbot: QtBot, make_studio, studio_home: Path) -> None:
    """Upgrading keeps the theme, engine options, model, parameters, history and style presets of the INI file."""
    config = studio_home / "config"
    config.mkdir(parents=True)
    old = QSettings(str(config / "pixart-studio.ini"), QSettings.Format.IniFormat)
    old.setValue("ui/theme", "light")
    old.setValue("engine/options", json.dumps(EngineOptions(device=DeviceChoice.CPU, preview_every=4).to_dict()))
    old.setValue("engine/model", "demo")
    old.setValue("generation/parameters", json.dumps({"steps": 12, "prompt": "an old prompt"}))
    old.setValue("prompts/history", json.dumps(["old one", "old two"]))
    old.setValue("window/geometry", QByteArray(b"\x01\xd9\xd0\xcb"))
    old.sync()
    (config / "style-presets.json").write_text(json.dumps([{"name": "Old", "text": "old look"}]), encoding="utf-8")
    studio = make_studio(show=False)
    prefs = studio.preferences
    assert prefs.theme is Theme.LIGHT
    assert prefs.engine_options == EngineOptions(device=DeviceChoice.CPU, preview_every=4)
    assert studio.controller.options == prefs.engine_options
    assert studio.state.steps == 12 and studio.state.prompt == "an old prompt"
    assert prefs.prompt_history == ["old one", "old two"]
    assert prefs.style_presets == [StylePreset("Old", "old look")]
    assert (config / "preferences.json").is_file()
    old.setValue("ui/theme", "dark")  # read once: later INI edits are ignored
    old.sync()
    assert load_preferences(studio.paths).theme == "light"


def test_a_refused_save_shows_an_error_and_keeps_the_value(qtbot: QtBot, studio: Studio, monkeypatch) -> None:
    """When the disk refuses, the change still applies for this session and a banner says it was not saved."""

    def refuse(self: PreferencesFile, _preferences: object) -> None:
        raise StoreError("The disk holding /config is full.")

    monkeypatch.setattr(PreferencesFile, "save", refuse)
    studio.preferences.engine_options = EngineOptions(vae_tiling=VaeTiling.OFF)
    assert studio.controller.options.vae_tiling is VaeTiling.OFF
    assert any("Cannot save your preferences" in banner.title for banner in studio.window.banners.banners)
    studio.preferences.theme = Theme.LIGHT
    assert sum("Cannot save your preferences" in banner.title for banner in studio.window.banners.banners) == 1


KILLED_CHILD = """
import sys, time
from PySide6.QtWidgets import QApplication
app = QApplication([])
from app.application import build_studio
from app.core.engine_options import EngineOptions, VaeTiling
from app.ui.widgets.theme import Theme
studio = build_studio(use_system_trash=False)
studio.preferences.theme = Theme.LIGHT
studio.preferences.engine_options = EngineOptions(vae_tiling=VaeTiling.OFF)
print("changed", flush=True)
time.sleep(60)
"""


def test_a_real_kill_right_after_a_change_loses_nothing(studio_home: Path) -> None:
    """A child app changes two settings and is killed with SIGKILL at once; the file holds both."""
    env = os.environ | {"QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(Path(__file__).parents[2])}
    child = subprocess.Popen([sys.executable, "-c", KILLED_CHILD], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "changed"
    finally:
        child.kill()  # SIGKILL on POSIX: no clean close, no Qt teardown
        child.wait(30)
    saved = load_preferences(AppPaths.from_environment())
    assert saved.theme == "light" and saved.engine_options.vae_tiling is VaeTiling.OFF
