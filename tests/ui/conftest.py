"""Fixtures that build the whole app around a fast fake pipeline (the real controller and worker still run)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from app.application import Studio, build_studio
from tests.ui.fakes import fake_factory

JOB_TIMEOUT_MS = 20000


@pytest.fixture(autouse=True)
def _release_the_asyncio_loop() -> Iterator[None]:
    """The app's loop marks the main thread as running a loop; later tests may need asyncio.run there."""
    yield
    asyncio._set_running_loop(None)


@pytest.fixture
def make_studio(qtbot: QtBot) -> Iterator[Callable[..., Studio]]:
    """Build (and show) a Studio; every one made is closed at the end, which shuts its engine down."""
    made: list[Studio] = []

    def make(factory: Any = None, show: bool = True) -> Studio:
        studio = build_studio(pipeline_factory=factory or fake_factory(), use_system_trash=False)
        made.append(studio)
        if show:
            studio.window.show()
            qtbot.waitExposed(studio.window)
        return studio

    yield make
    for studio in made:
        studio.controller.shutdown()  # a test may leave jobs in flight; closing must not stop to ask
        studio.window.close()
        studio.window.deleteLater()  # closed windows would otherwise pile up and slow every restyle
    qtbot.wait(1)


@pytest.fixture
def studio(make_studio: Callable[..., Studio]) -> Studio:
    """A shown Studio with the instant fake pipeline."""
    return make_studio()


def generate_and_wait(qtbot: QtBot, studio: Studio, prompt: str = "a lighthouse poster") -> None:
    """Type a prompt, click Generate and wait until the image is in the gallery."""
    window = studio.window
    before = window.gallery_model.total
    qtbot.keyClicks(window.prompt_editor.prompt_edit, prompt)
    qtbot.mouseClick(window.generation_panel.generate_button, qtbot_left())
    qtbot.waitUntil(lambda: window.gallery_model.total > before, timeout=JOB_TIMEOUT_MS)


def qtbot_left() -> Any:
    """The left mouse button."""
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton


def answer_quit_question(window: Any, button: str) -> list[str]:
    """Click `button` ("Quit" or "Cancel") in the quit question once it opens; returns the question's text."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    seen: list[str] = []

    def answer() -> None:
        box = next((w for w in QApplication.topLevelWidgets() if w.objectName() == "quitQuestion"), None)
        if not isinstance(box, QMessageBox) or not box.isVisible():
            QTimer.singleShot(10, answer)
            return
        seen.append(box.text())
        next(b for b in box.buttons() if b.text().replace("&", "") == button).click()

    QTimer.singleShot(0, answer)
    return seen
