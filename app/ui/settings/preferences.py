"""Preferences: theme, output folder, engine options and the active model, saved in the INI settings file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QSettings, Signal

from app.core.engine_options import EngineOptions
from app.core.paths import AppPaths
from app.ui.widgets.theme import Theme

SETTINGS_FILE = "pixart-studio.ini"


def open_settings(paths: AppPaths) -> QSettings:
    """The settings file under the config folder (so PIXART_STUDIO_HOME isolates it too)."""
    paths.config.mkdir(parents=True, exist_ok=True)
    return QSettings(str(paths.config / SETTINGS_FILE), QSettings.Format.IniFormat)


def read_json(settings: QSettings, key: str, default: Any) -> Any:
    """A JSON value stored as text (INI files keep no types); the default when missing or damaged."""
    raw = settings.value(key)
    if not isinstance(raw, str):
        return default
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return default


def write_json(settings: QSettings, key: str, value: Any) -> None:
    """Store a JSON-ready value as text."""
    settings.setValue(key, json.dumps(value))


class Preferences(QObject):
    """What the Settings dialog edits; every change is written at once and announced."""

    theme_changed = Signal(object)
    output_folder_changed = Signal(str)
    engine_options_changed = Signal(object)
    model_changed = Signal(str)
    server_changed = Signal(bool, str)  # render on the server, its address (the token lives in the keyring)

    def __init__(self, settings: QSettings, default_output: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self._default_output = default_output

    @property
    def settings(self) -> QSettings:
        """The underlying settings file, for window state and other per-widget values."""
        return self._settings

    @property
    def theme(self) -> Theme:
        """The chosen theme; dark unless the user picked another."""
        try:
            return Theme(self._settings.value("ui/theme", Theme.DARK.value))
        except ValueError:
            return Theme.DARK

    @theme.setter
    def theme(self, value: Theme) -> None:
        if Theme(value) is not self.theme:
            self._settings.setValue("ui/theme", Theme(value).value)
            self.theme_changed.emit(Theme(value))

    @property
    def output_folder(self) -> Path:
        """Where images (and the gallery index) are written."""
        stored = self._settings.value("output/folder")
        return Path(stored) if isinstance(stored, str) and stored else self._default_output

    @output_folder.setter
    def output_folder(self, value: Path) -> None:
        if Path(value) != self.output_folder:
            self._settings.setValue("output/folder", str(value))
            self.output_folder_changed.emit(str(value))

    @property
    def engine_options(self) -> EngineOptions:
        """Device, precision, text-encoder placement, VAE tiling and preview interval."""
        return EngineOptions.from_dict(read_json(self._settings, "engine/options", {}))

    @engine_options.setter
    def engine_options(self, value: EngineOptions) -> None:
        if value != self.engine_options:
            write_json(self._settings, "engine/options", value.to_dict())
            self.engine_options_changed.emit(value)

    @property
    def model(self) -> str:
        """The active model: 'demo', a folder, or a Hub id found in the local cache."""
        stored = self._settings.value("engine/model", "demo")
        return stored if isinstance(stored, str) and stored else "demo"

    @model.setter
    def model(self, value: str) -> None:
        if value != self.model:
            self._settings.setValue("engine/model", value)
            self.model_changed.emit(value)

    @property
    def render_on_server(self) -> bool:
        """True when Settings → Engine says "Server" (and an address is saved)."""
        return self._settings.value("engine/location", "local") == "server" and bool(self.server_url)

    @property
    def server_url(self) -> str:
        """The server's address, e.g. http://gpu-box:7860; empty when none was entered."""
        stored = self._settings.value("engine/server_url", "")
        return stored if isinstance(stored, str) else ""

    def set_server(self, enabled: bool, url: str) -> None:
        """Render on the server at `url` (enabled) or on this computer; announced when it changes."""
        url = url.strip().rstrip("/")
        if (enabled, url) == (self.render_on_server, self.server_url):
            return
        self._settings.setValue("engine/location", "server" if enabled else "local")
        self._settings.setValue("engine/server_url", url)
        self.server_changed.emit(self.render_on_server, url)

    @property
    def seconds_per_unit(self) -> float | None:
        """Measured sampling speed on this machine (see size_estimate), or None before the first image."""
        value = self._settings.value("engine/seconds_per_unit")
        try:
            return float(value) if value is not None else None
        except (TypeError, ValueError):
            return None

    @seconds_per_unit.setter
    def seconds_per_unit(self, value: float) -> None:
        self._settings.setValue("engine/seconds_per_unit", float(value))

    def sync(self) -> None:
        """Write pending changes to disk."""
        self._settings.sync()
