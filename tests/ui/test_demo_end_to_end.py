"""End to end with the real engine and the shipped demo model: type, Generate, see the image."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.application import build_studio
from app.core.resources import demo_model_dir
from app.engine.jobs import ModelState

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


@pytest.fixture
def chatty_libraries() -> Iterator[None]:
    """The libraries as a fresh GUI process finds them: bars on, warnings shown (a CLI test may have quieted them);
    afterwards, as they were."""
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    bars = diffusers_logging.is_progress_bar_enabled(), transformers_logging.is_progress_bar_enabled()
    verbosity = transformers_logging.get_verbosity()
    diffusers_logging.enable_progress_bar()
    transformers_logging.enable_progress_bar()
    transformers_logging.set_verbosity_warning()
    yield
    for enabled, library in zip(bars, (diffusers_logging, transformers_logging), strict=True):
        if enabled:
            library.enable_progress_bar()
        else:
            library.disable_progress_bar()
    transformers_logging.set_verbosity(verbosity)


@pytest.mark.usefixtures("chatty_libraries")
def test_loading_the_model_from_the_window_prints_no_library_bars(
    qtbot: QtBot, capfd: pytest.CaptureFixture[str]
) -> None:
    """Models → Load the model now shows progress in the window; the terminal gets no "Loading weights" bars."""
    studio = build_studio(use_system_trash=False)  # the real pipeline factory, as the app runs
    window = studio.window
    window.show()
    qtbot.waitExposed(window)
    try:
        capfd.readouterr()
        window.actions_["load_model"].trigger()
        qtbot.waitUntil(lambda: studio.controller.model_status.state is ModelState.READY, timeout=120_000)
        err = capfd.readouterr().err
        assert "Loading" not in err and "it/s]" not in err, err
    finally:
        studio.controller.shutdown()
        window.close()
