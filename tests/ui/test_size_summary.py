"""The size line: final pixels, how they are made, and the engine's memory and this machine's measured time."""

from __future__ import annotations

import pytest

from app.core.estimates import MeasuredRates, finish_megapixels, work_units
from app.core.memory_estimate import estimate_memory, format_gib
from app.core.sizes import GenerationPath
from app.store.preferences import PreferencesFile
from app.ui.create.size_summary import SizeSummary
from app.ui.create.state import GenerationSettings, SizeMode
from app.ui.settings.preferences import Preferences
from tests.ui.conftest import generate_and_wait
from tests.ui.fakes import FAKE_PROFILE


@pytest.fixture
def line(qtbot, tmp_path):
    """A size line on its own settings, for a 1024-px model whose profile is known."""
    state = GenerationSettings()
    preferences = Preferences(PreferencesFile(tmp_path / "preferences.json"), tmp_path)
    summary = SizeSummary(state, preferences)
    qtbot.addWidget(summary)
    state.native_resolution, state.size_mode, state.tier_scale = 1024, SizeMode.CUSTOM, None
    return state, preferences, summary


def _custom(state: GenerationSettings, width: int, height: int) -> None:
    state.custom_width, state.custom_height = width, height


def test_before_the_model_is_loaded_the_line_says_when_cost_is_known(line):
    """No profile yet: pixels and path are shown, time and memory wait for the model."""
    state, _, summary = line
    _custom(state, 1024, 1024)
    assert "1024 × 1024 px" in summary.text() and "1.0 MP" in summary.text()
    assert "Sampled directly at" in summary.text()
    assert "time and memory shown once the model is loaded" in summary.text()


def test_the_line_names_the_path(line):
    """Native, direct and refine sizes each say in plain words how they are made, and a resized one its pixels."""
    state, _, summary = line
    state.memory_profile = FAKE_PROFILE
    _custom(state, 1536, 1536)
    assert "Sampled in one pass at 2K (2048×2048), then scaled down and cropped to 1536×1536" in summary.text()
    _custom(state, 3840, 2160)
    assert "enlarged to" in summary.text() and "redrawn for detail" in summary.text()
    assert "3840×2160" in summary.text()


def test_memory_is_the_core_estimate_in_gib(line):
    """With a profile the line shows the engine's working-memory figure for the current settings."""
    state, preferences, summary = line
    state.memory_profile = FAKE_PROFILE
    _custom(state, 2048, 2048)
    expected = estimate_memory(
        FAKE_PROFILE, state.plan(), state.guidance_scale, state.kv_compression, preferences.engine_options.vae_tiling
    )
    assert f"≈ {format_gib(expected.activations)} working memory" in summary.text()
    assert "time measured on the first image" in summary.text()


def test_time_is_one_number_for_a_measured_path_and_a_range_for_another(line):
    """Native measured: native sizes get ≈ N s; a refine size gets a range until refine was measured."""
    state, preferences, summary = line
    state.memory_profile = FAKE_PROFILE
    _custom(state, 1024, 1024)
    plan = state.plan()
    units = work_units(FAKE_PROFILE, plan, state.steps, state.kv_compression, state.refine_strength)
    preferences.measured_rates = MeasuredRates({}).measured(
        FAKE_PROFILE, GenerationPath.NATIVE, 11.0, units, 1.0, finish_megapixels(plan)
    )
    summary.refresh()
    assert "≈ 12 s ·" in summary.text()
    _custom(state, 3840, 2160)
    assert " – " in summary.text() and "(first refine image here)" in summary.text()


def test_an_invalid_size_is_shown_in_place_of_the_line(line):
    """A size the model cannot make says why, in the line."""
    state, _, summary = line
    _custom(state, 9000, 9000)
    assert "9000" in summary.text() and "px</b>" not in summary.text()


def test_a_finished_image_teaches_the_window_its_speed(studio, qtbot):
    """After one image the window's rates hold that path, and the size line shows a time instead of waiting."""
    window = studio.window
    summary = window.side_panel.size_summary
    generate_and_wait(qtbot, studio)
    qtbot.waitUntil(lambda: studio.preferences.measured_rates.rates != {}, timeout=10000)
    (key,) = studio.preferences.measured_rates.rates
    assert key.endswith("/native") and window.state.memory_profile == FAKE_PROFILE
    guess = summary.time_estimate()
    assert guess is not None and guess.measured and f"{guess} ·" in summary.text()
