"""End to end with the real engine and the shipped demo model: type, Generate, see the image."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.application import build_studio
from app.core.resources import demo_model_dir

pytestmark = pytest.mark.skipif(
    not (demo_model_dir() / "model_index.json").is_file(),
    reason=f"the demo model is not built yet ({demo_model_dir()} is missing); `pixart-studio train-demo` makes it",
)


def test_demo_model_generates_an_image_into_gallery_and_viewer(qtbot: QtBot) -> None:
    """With the real pipeline and the demo model, Generate saves an image, shows it and names the model."""
    studio = build_studio(use_system_trash=False)  # the real pipeline factory: torch loads in the worker
    window = studio.window
    window.show()
    qtbot.waitExposed(window)
    try:
        studio.state.steps = 4
        qtbot.keyClicks(window.prompt_editor.prompt_edit, "a red circle on a blue background")
        qtbot.mouseClick(window.generation_panel.generate_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: studio.gallery.count() == 1, timeout=300_000)
        window.flow.wait_for_saves()
        qtbot.waitUntil(lambda: window.viewer.has_image and not window.viewer.is_preview, timeout=30_000)
        item = studio.gallery.page(0, 1)[0]
        assert item.prompt == "a red circle on a blue background" and item.path.is_file()
        assert window.viewer.item.image.size().toTuple() == (item.width, item.height)
        assert studio.controller.model_status.is_demo
    finally:
        window.close()
