"""The user's preferences as one typed JSON file, saved atomically on every change; the CLI and the server read it.

Every key the app remembers between runs lives here: theme, output folder, engine options, the active model,
the window's layout, the last generation parameters, prompt history and style presets. The window's Qt
`Preferences` object wraps this file and announces changes; nothing else writes it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from app.core.engine_options import EngineOptions
from app.core.paths import AppPaths
from app.core.resources import DEMO_MODEL_NAME
from app.core.styles import DEFAULT_STYLES, StylePreset
from app.store.settings_file import SettingsFile

log = logging.getLogger(__name__)

PREFERENCES_FILE = "preferences.json"
FORMAT_VERSION = 1
MAX_PROMPTS = 50


@dataclass(frozen=True)
class SavedPreferences:
    """Every remembered value; a missing or damaged one reads as its default."""

    theme: str = "dark"  # a value of the UI's Theme enum
    output_folder: str = ""  # empty: the default gallery folder
    engine_options: EngineOptions = field(default_factory=EngineOptions)
    model: str = DEMO_MODEL_NAME  # "demo", a model folder, or a Hub id in the local cache
    transformer: str = ""  # a converted transformer file used with the model, if any
    render_on_server: bool = False  # Settings → "Where images are made": this computer or the server below
    server_url: str = ""  # the server's address; its token lives in the system keyring, never here
    demo_notice_dismissed: bool = False  # the demo model's notice, once closed, stays closed
    measured_rates: dict[str, Any] = field(default_factory=dict)  # core.estimates.MeasuredRates, by kind of job
    window_geometry: str = ""  # base64 of the window's geometry and dock layout (Qt's opaque formats)
    window_state: str = ""
    gallery_info_open: bool = True  # the gallery's info panel under the grid
    generation: dict[str, Any] = field(default_factory=dict)  # the controls' last values
    prompt_history: tuple[str, ...] = ()  # newest first
    style_presets: tuple[StylePreset, ...] = DEFAULT_STYLES

    def to_dict(self) -> dict[str, Any]:
        """The file's JSON form."""
        data: dict[str, Any] = {"version": FORMAT_VERSION}
        for item in fields(self):
            data[item.name] = getattr(self, item.name)
        data["engine_options"] = self.engine_options.to_dict()
        data["prompt_history"] = list(self.prompt_history)
        # The built-in styles are not written, so a user who never edited them gets the next version's.
        if self.style_presets == DEFAULT_STYLES:
            del data["style_presets"]
        else:
            data["style_presets"] = [{"name": s.name, "text": s.text} for s in self.style_presets]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SavedPreferences:
        """Read the file's form; each value of the wrong type falls back to its default alone."""
        defaults = cls()
        values: dict[str, Any] = {}
        for name in ("theme", "output_folder", "model", "transformer", "server_url", "window_geometry", "window_state"):
            value = data.get(name)
            values[name] = value if isinstance(value, str) else getattr(defaults, name)
        values["render_on_server"] = data.get("render_on_server") is True
        values["demo_notice_dismissed"] = data.get("demo_notice_dismissed") is True
        values["gallery_info_open"] = data.get("gallery_info_open") is not False  # open unless closed
        options = data.get("engine_options")
        values["engine_options"] = EngineOptions.from_dict(options if isinstance(options, dict) else {})
        rates = data.get("measured_rates")
        values["measured_rates"] = rates if isinstance(rates, dict) else {}
        generation = data.get("generation")
        values["generation"] = generation if isinstance(generation, dict) else {}
        values["prompt_history"] = _prompts(data.get("prompt_history"))
        values["style_presets"] = _styles(data.get("style_presets"), defaults.style_presets)
        if not values["model"]:
            values["model"] = defaults.model
        return cls(**values)


def _prompts(raw: object) -> tuple[str, ...]:
    if not isinstance(raw, list):
        return ()
    return tuple(p for p in raw if isinstance(p, str) and p.strip())[:MAX_PROMPTS]


def _styles(raw: object, default: tuple[StylePreset, ...]) -> tuple[StylePreset, ...]:
    if not isinstance(raw, list):
        return default
    styles = []
    for item in raw:
        if isinstance(item, dict) and isinstance(item.get("name"), str) and isinstance(item.get("text"), str):
            styles.append(StylePreset(item["name"], item["text"]))
    return tuple(styles)


class PreferencesFile:
    """The preferences on disk: load once, then `save` or `update` on every change (atomic, fsynced)."""

    def __init__(self, path: Path) -> None:
        self._file = SettingsFile(path)

    @property
    def path(self) -> Path:
        """Where the file lives."""
        return self._file.path

    def exists(self) -> bool:
        """True once any preference has been saved."""
        return self._file.path.is_file()

    def load(self) -> SavedPreferences:
        """The saved preferences (defaults when the file is missing; a damaged file is moved aside)."""
        return SavedPreferences.from_dict(self._file.load())

    def save(self, preferences: SavedPreferences) -> None:
        """Replace the file atomically; StoreError naming the folder when the disk refuses."""
        self._file.save(preferences.to_dict())

    def update(self, preferences: SavedPreferences, **changes: Any) -> SavedPreferences:
        """The preferences with `changes`, saved when they differ; returns what is now stored."""
        changed = replace(preferences, **changes)
        if changed != preferences:
            self.save(changed)
        return changed


def preferences_path(paths: AppPaths) -> Path:
    """The preferences file under the config folder (so PIXART_STUDIO_HOME isolates it too)."""
    return paths.config / PREFERENCES_FILE


def load_preferences(paths: AppPaths) -> SavedPreferences:
    """The app's saved preferences, for the CLI and the server (e.g. `.engine_options` as flag defaults)."""
    return PreferencesFile(preferences_path(paths)).load()
