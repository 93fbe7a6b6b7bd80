"""The preferences file: one typed JSON file that the CLI and server read without Qt."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from app.core.engine_options import DeviceChoice, EngineOptions, Precision, VaeTiling
from app.core.paths import AppPaths
from app.core.styles import DEFAULT_STYLES, StylePreset
from app.store.preferences import PreferencesFile, SavedPreferences, load_preferences, preferences_path


def test_every_value_round_trips(tmp_path: Path) -> None:
    """Each saved value comes back as it was, with its type."""
    saved = SavedPreferences(
        theme="light",
        output_folder="/posters",
        engine_options=EngineOptions(device=DeviceChoice.CPU, vae_tiling=VaeTiling.ON, preview_every=5),
        model="/models/sigma",
        transformer="/models/sigma.pth",
        measured_rates={"native|cpu|fp32": {"sampling_s_per_unit": 0.25, "finish_s_per_megapixel": 1.0, "jobs": 2}},
        window_geometry="AdnQyw==",
        window_state="AAAA/w==",
        gallery_info_open=False,
        generation={"steps": 30, "prompt": "a fox"},
        prompt_history=("a fox", "a hare"),
        style_presets=(StylePreset("Mine", "my look"),),
    )
    file = PreferencesFile(tmp_path / "preferences.json")
    file.save(saved)
    assert PreferencesFile(file.path).load() == saved


def test_a_missing_file_gives_the_defaults_and_built_in_styles_are_not_written(tmp_path: Path) -> None:
    """No file reads as the defaults; saving them leaves the styles out so new built-ins reach the user."""
    file = PreferencesFile(tmp_path / "preferences.json")
    assert file.load() == SavedPreferences() and file.load().style_presets == DEFAULT_STYLES
    file.update(file.load(), theme="light")
    stored = json.loads(file.path.read_text(encoding="utf-8"))
    assert stored["theme"] == "light" and "style_presets" not in stored


def test_values_of_the_wrong_type_fall_back_one_by_one(tmp_path: Path) -> None:
    """A hand-edited file with bad values keeps the good ones."""
    path = tmp_path / "preferences.json"
    path.write_text(
        json.dumps(
            {
                "theme": 3,
                "model": "",
                "measured_rates": "fast",
                "engine_options": {"precision": "fp16", "device": "quantum"},
                "prompt_history": ["kept", 7, "  "],
                "style_presets": [{"name": "A", "text": "a"}, {"name": 1}],
                "generation": [],
                "gallery_info_open": "no",
            }
        ),
        encoding="utf-8",
    )
    loaded = PreferencesFile(path).load()
    assert (loaded.theme, loaded.model, loaded.measured_rates, loaded.generation) == ("dark", "demo", {}, {})
    assert loaded.engine_options == EngineOptions(precision=Precision.FP16)
    assert loaded.prompt_history == ("kept",) and loaded.style_presets == (StylePreset("A", "a"),)
    assert loaded.gallery_info_open  # only a real false closes the gallery's info panel


def test_update_saves_only_changes(tmp_path: Path) -> None:
    """An update that changes nothing does not write the file."""
    file = PreferencesFile(tmp_path / "preferences.json")
    file.update(SavedPreferences(), model="demo")
    assert not file.exists()
    file.update(SavedPreferences(), model="/models/sigma")
    assert file.load().model == "/models/sigma"


def test_the_cli_reads_the_saved_engine_options_without_qt(tmp_path: Path) -> None:
    """load_preferences(paths).engine_options gives the window's saved engine settings, and imports no Qt."""
    paths = AppPaths(tmp_path / "data", tmp_path / "config", tmp_path / "cache", tmp_path / "logs")
    options = EngineOptions(device=DeviceChoice.CPU, precision=Precision.BF16)
    PreferencesFile(preferences_path(paths)).save(SavedPreferences(engine_options=options))
    assert load_preferences(paths).engine_options == options
    code = (
        "import sys; from app.store.preferences import load_preferences; from app.core.paths import AppPaths; "
        "load_preferences(AppPaths.from_environment()); assert 'PySide6' not in sys.modules, 'Qt imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])
