"""Reads the INI settings and style-presets file of versions before the preferences file, once, to carry them over."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from app.store.preferences import SavedPreferences

log = logging.getLogger(__name__)

LEGACY_SETTINGS_FILE = "pixart-studio.ini"
LEGACY_STYLES_FILE = "style-presets.json"


def read_legacy_settings(config: Path) -> SavedPreferences | None:
    """The old files' values as preferences; None when neither file exists. The old files stay as they were."""
    ini, styles = config / LEGACY_SETTINGS_FILE, config / LEGACY_STYLES_FILE
    if not ini.is_file() and not styles.is_file():
        return None
    data: dict[str, Any] = {}
    if ini.is_file():
        settings = QSettings(str(ini), QSettings.Format.IniFormat)
        for name, key in (
            ("theme", "ui/theme"),
            ("output_folder", "output/folder"),
            ("model", "engine/model"),
            ("transformer", "engine/transformer"),
        ):
            data[name] = settings.value(key)
        for name, key in (
            ("engine_options", "engine/options"),
            ("generation", "generation/parameters"),
            ("prompt_history", "prompts/history"),
        ):
            data[name] = _json(settings.value(key))
        for name, key in (("window_geometry", "window/geometry"), ("window_state", "window/state")):
            value = settings.value(key)
            if isinstance(value, QByteArray):
                data[name] = bytes(value.toBase64().data()).decode("ascii")
    if styles.is_file():
        try:
            data["style_presets"] = json.loads(styles.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            log.warning("old style presets in %s are unreadable (%s); using the built-in ones", styles, error)
    return SavedPreferences.from_dict(data)


def _json(raw: object) -> Any:
    if not isinstance(raw, str):
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return None
