"""Start-up: no torch before the window shows, first run on the demo model, settings restored on restart."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from pytestqt.qtbot import QtBot

from app.core.sizes import HighResMethod
from app.engine.jobs import ModelState
from app.ui.create.state import SizeMode
from app.ui.widgets.theme import Theme

_SHOW_WINDOW = """
import sys, time
started = time.perf_counter()
from PySide6.QtWidgets import QApplication
app = QApplication([])
from app.application import build_studio
studio = build_studio(use_system_trash=False)
studio.window.show()
app.processEvents()
print(__import__("json").dumps({
    "torch": "torch" in sys.modules,
    "diffusers": "diffusers" in sys.modules,
    "visible": studio.window.isVisible(),
    "title": studio.window.windowTitle(),
    "seconds": time.perf_counter() - started,
}))
studio.window.close()
"""


def test_window_appears_without_importing_torch(tmp_path: Path) -> None:
    """In a fresh process the window is shown before torch or diffusers are imported (and we time it)."""
    env = dict(os.environ, PIXART_STUDIO_HOME=str(tmp_path), QT_QPA_PLATFORM="offscreen")
    done = subprocess.run(
        [sys.executable, "-c", _SHOW_WINDOW],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"window shown {report['seconds']:.2f} s after the process started importing Qt")
    assert report == {**report, "torch": False, "diffusers": False, "visible": True, "title": "PixArt Studio"}


def test_first_run_shows_the_demo_notice(qtbot: QtBot, make_studio) -> None:
    """A fresh home opens on the demo model with a notice saying how to get real weights."""
    studio = make_studio()
    assert studio.controller.model == "demo"
    notices = [b for b in studio.window.banners.banners if b.property("level") == "info"]
    assert notices and "demo model" in notices[0].title and "PixArt-Sigma" in notices[0].message


def test_parameters_layout_and_preferences_survive_a_restart(qtbot: QtBot, make_studio) -> None:
    """Prompt, size, steps, theme and the dock layout come back after closing and reopening."""
    first = make_studio()
    first.state.prompt = "keep me"
    first.state.size_mode = SizeMode.EXACT
    first.state.exact = "QHD 2560×1440"
    first.state.steps = 33
    first.preferences.theme = Theme.LIGHT
    first.window.gallery_dock.hide()
    first.window.close()
    second = make_studio()
    assert second.state.prompt == "keep me"
    assert second.window.prompt_editor.prompt_edit.toPlainText() == "keep me"
    assert (second.state.target_size().width, second.state.target_size().height) == (2560, 1440)
    assert second.window.generation_panel.steps_spin.value() == 33
    assert second.preferences.theme is Theme.LIGHT
    assert second.window.gallery_dock.isHidden()  # the dock layout came back


def test_a_closed_demo_notice_stays_closed_after_a_restart(qtbot: QtBot, make_studio) -> None:
    """Dismissing the demo notice once is enough: the next launch does not show it again."""
    first = make_studio()
    notice = next(b for b in first.window.banners.banners if "demo model" in b.title)
    notice.dismiss()
    first.window.close()
    second = make_studio()
    qtbot.wait(50)
    assert not any("demo model" in b.title for b in second.window.banners.banners)


def test_before_the_demo_loads_the_window_already_follows_its_studio_json(qtbot: QtBot, make_studio) -> None:
    """At start, from the demo's files alone: its 128-px tiers, its guidance 2 (so the first job uses it) and its
    enlarging above native size, which the size line names; the model itself has not loaded."""
    studio = make_studio()
    state, panel = studio.state, studio.window.generation_panel
    qtbot.waitUntil(lambda: state.model_above_native is HighResMethod.ENLARGE, timeout=10_000)
    assert studio.controller.model_status.state is ModelState.UNLOADED
    assert state.native_resolution == 128 and panel.guidance_spin.value() == 2.0
    state.tier_scale = 4.0
    line = studio.window.side_panel.size_summary.text()
    assert "the model's own resolution (128×128), then enlarged 4.0× to 512×512" in line
