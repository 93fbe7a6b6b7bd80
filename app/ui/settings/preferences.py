"""Preferences: the window's handle on the preferences file; each change is saved at once and announced."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QObject, Signal

from app.core.engine_options import EngineOptions
from app.core.errors import StoreError
from app.core.estimates import MeasuredRates
from app.core.paths import AppPaths
from app.core.styles import StylePreset
from app.store.preferences import PreferencesFile, preferences_path
from app.ui.settings.legacy_settings import read_legacy_settings
from app.ui.widgets.theme import Theme

log = logging.getLogger(__name__)


def open_preferences(paths: AppPaths) -> Preferences:
    """The preferences under the config folder; the first run after an upgrade brings the old INI values over."""
    file = PreferencesFile(preferences_path(paths))
    if not file.exists():
        legacy = read_legacy_settings(paths.config)
        if legacy is not None:
            try:
                file.save(legacy)
                log.info("preferences moved from the old settings file to %s", file.path)
            except StoreError as error:  # a read-only config folder must not stop the app; the next run retries
                log.warning("cannot move the old settings to %s: %s", file.path, error)
    return Preferences(file, paths.gallery)


class Preferences(QObject):
    """Every value the app remembers; widgets bind to the `<name>_changed` signals and set the properties."""

    theme_changed = Signal(object)
    output_folder_changed = Signal(str)
    engine_options_changed = Signal(object)
    prompt_history_changed = Signal(list)
    style_presets_changed = Signal(list)
    server_changed = Signal(bool, str)  # render on the server, its address (the token lives in the keyring)
    save_failed = Signal(str)  # the disk refused; the value is kept for this session only

    def __init__(self, file: PreferencesFile, default_output: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._file = file
        self._default_output = default_output
        self._values = file.load()
        self._failing = False

    @property
    def theme(self) -> Theme:
        """The chosen theme; dark unless the user picked another."""
        try:
            return Theme(self._values.theme)
        except ValueError:
            return Theme.DARK

    @theme.setter
    def theme(self, value: Theme) -> None:
        if Theme(value) is not self.theme and self._update(theme=Theme(value).value):
            self.theme_changed.emit(Theme(value))

    @property
    def output_folder(self) -> Path:
        """Where images (and the gallery index) are written."""
        return Path(self._values.output_folder) if self._values.output_folder else self._default_output

    @output_folder.setter
    def output_folder(self, value: Path) -> None:
        if Path(value) != self.output_folder and self._update(output_folder=str(value)):
            self.output_folder_changed.emit(str(value))

    @property
    def engine_options(self) -> EngineOptions:
        """Device, precision, text-encoder placement, VAE tiling and preview interval."""
        return self._values.engine_options

    @engine_options.setter
    def engine_options(self, value: EngineOptions) -> None:
        if self._update(engine_options=value):
            self.engine_options_changed.emit(value)

    @property
    def model(self) -> str:
        """The active model: 'demo', a folder, or a Hub id found in the local cache."""
        return self._values.model

    @property
    def transformer(self) -> str:
        """A converted transformer file used with the active model; empty for the model's own."""
        return self._values.transformer

    def use_model(self, model: str, transformer: str = "") -> None:
        """Remember the active model (and transformer file) for the next start."""
        self._update(model=model, transformer=transformer)

    @property
    def measured_rates(self) -> MeasuredRates:
        """Sampling and finishing speeds measured on this machine, by kind of job (empty before the first image)."""
        return MeasuredRates.from_dict(self._values.measured_rates)

    @measured_rates.setter
    def measured_rates(self, value: MeasuredRates) -> None:
        self._update(measured_rates=value.to_dict())

    @property
    def render_on_server(self) -> bool:
        """True when Settings → Engine says "Server" (and an address is saved)."""
        return self._values.render_on_server and bool(self.server_url)

    @property
    def server_url(self) -> str:
        """The server's address, e.g. http://gpu-box:7860; empty when none was entered."""
        return self._values.server_url

    def set_server(self, enabled: bool, url: str) -> None:
        """Render on the server at `url` (enabled) or on this computer; announced when it changes."""
        url = url.strip().rstrip("/")
        if (enabled, url) == (self.render_on_server, self.server_url):
            return
        self._update(render_on_server=enabled, server_url=url)
        self.server_changed.emit(self.render_on_server, url)

    @property
    def demo_notice_dismissed(self) -> bool:
        """Whether the user closed the demo model's notice (it is not shown again)."""
        return self._values.demo_notice_dismissed

    @demo_notice_dismissed.setter
    def demo_notice_dismissed(self, value: bool) -> None:
        self._update(demo_notice_dismissed=bool(value))

    @property
    def gallery_info_open(self) -> bool:
        """Whether the gallery shows the selected image's details under its grid."""
        return self._values.gallery_info_open

    @gallery_info_open.setter
    def gallery_info_open(self, value: bool) -> None:
        self._update(gallery_info_open=bool(value))

    @property
    def window_geometry(self) -> QByteArray:
        """The main window's saved geometry (empty before the first save)."""
        return QByteArray.fromBase64(self._values.window_geometry.encode("ascii"))

    @property
    def window_state(self) -> QByteArray:
        """The main window's saved dock and toolbar layout (empty before the first save)."""
        return QByteArray.fromBase64(self._values.window_state.encode("ascii"))

    def save_window(self, geometry: QByteArray, state: QByteArray) -> None:
        """Remember the window's geometry and layout."""
        self._update(window_geometry=_base64(geometry), window_state=_base64(state))

    @property
    def generation(self) -> dict[str, Any]:
        """The generation controls' last values (GenerationSettings.to_dict)."""
        return dict(self._values.generation)

    @generation.setter
    def generation(self, value: dict[str, Any]) -> None:
        self._update(generation=dict(value))

    @property
    def prompt_history(self) -> list[str]:
        """Recently generated prompts, newest first."""
        return list(self._values.prompt_history)

    @prompt_history.setter
    def prompt_history(self, value: list[str]) -> None:
        if self._update(prompt_history=tuple(value)):
            self.prompt_history_changed.emit(self.prompt_history)

    @property
    def style_presets(self) -> list[StylePreset]:
        """The user's style presets, in their order."""
        return list(self._values.style_presets)

    @style_presets.setter
    def style_presets(self, value: list[StylePreset]) -> None:
        if self._update(style_presets=tuple(value)):
            self.style_presets_changed.emit(self.style_presets)

    def _update(self, **changes: Any) -> bool:
        """Apply and save changes; True when something changed (it stays changed even if the disk refused)."""
        before = self._values
        try:
            self._values = self._file.update(before, **changes)
            self._failing = False
        except StoreError as error:
            self._values = replace(before, **changes)
            log.warning("cannot save preferences: %s", error)
            if not self._failing:  # one message per run of failures, not one per keystroke
                self._failing = True
                self.save_failed.emit(f"Cannot save your preferences: {error}")
        return self._values != before


def _base64(data: QByteArray) -> str:
    return bytes(data.toBase64().data()).decode("ascii")
