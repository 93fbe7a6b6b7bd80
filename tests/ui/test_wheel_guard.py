"""The mouse wheel over the Create panel scrolls it; a field takes the wheel only once focused."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QScrollArea, QWidget
from pytestqt.qtbot import QtBot

from app.application import Studio


def _wheel_down(widget: QWidget) -> None:
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(
        centre,
        QPointF(widget.mapToGlobal(centre.toPoint())),
        QPoint(0, 0),
        QPoint(0, -120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def test_wheel_over_an_unfocused_field_scrolls_the_panel_and_keeps_the_value(qtbot: QtBot, studio: Studio) -> None:
    """Guidance and Steps keep their values when the wheel passes over them; the panel scrolls instead."""
    window = studio.window
    window.resize(1200, 500)  # short, so the Create panel has something to scroll
    panel = window.generation_panel
    scroll = window.findChild(QScrollArea, "sidePanelScroll")
    guidance, steps = panel.guidance_spin.value(), panel.steps_spin.value()
    window.prompt_editor.prompt_edit.setFocus()
    start = scroll.verticalScrollBar().value()
    for field in (panel.guidance_spin, panel.steps_spin, panel.scheduler_combo, panel.refine_slider):
        _wheel_down(field)
    assert (panel.guidance_spin.value(), panel.steps_spin.value()) == (guidance, steps)
    assert studio.state.guidance_scale == guidance and studio.state.steps == steps
    assert scroll.verticalScrollBar().value() > start


def test_a_focused_field_takes_the_wheel(qtbot: QtBot, studio: Studio) -> None:
    """Once clicked (focused), Steps follows the wheel as before."""
    spin = studio.window.generation_panel.steps_spin
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus)
    before = spin.value()
    _wheel_down(spin)
    assert spin.value() == before - 1
