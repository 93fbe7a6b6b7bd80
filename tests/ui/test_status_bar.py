"""The status bar's model readout."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from app.engine.jobs import ModelState, ModelStatus
from app.ui.shell.status_bar import StudioStatusBar


def test_a_demo_model_is_marked_once(qtbot: QtBot) -> None:
    """A demo whose name says "demo" is not marked "(demo)" again; one whose name does not is marked."""
    bar = StudioStatusBar()
    qtbot.addWidget(bar)
    bar.show_model(ModelStatus(ModelState.READY, "demo", name="PixArt Studio demo (shapes world)", is_demo=True))
    assert bar.model_label.text() == "● PixArt Studio demo (shapes world) · ready"
    bar.show_model(ModelStatus(ModelState.READY, "tiny", name="tiny shapes", is_demo=True))
    assert bar.model_label.text() == "● tiny shapes (demo) · ready"
