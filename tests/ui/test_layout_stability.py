"""Controls stay under the pointer: nothing jumps when the queue appears or the size line changes."""

from __future__ import annotations

import threading

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from app.core.presets import EXACT_PRESETS
from app.ui.create.state import SizeMode
from tests.ui.conftest import JOB_TIMEOUT_MS
from tests.ui.fakes import fake_factory


def _where(widget: QWidget) -> QPoint:
    return widget.mapTo(widget.window(), QPoint(0, 0))


def _settled(qtbot: QtBot, widget: QWidget) -> QPoint:
    """The widget's place once the window's layout has stopped moving (a fresh window settles over a few passes)."""
    seen = [_where(widget)]

    def still() -> bool:
        seen.append(_where(widget))
        return seen[-1] == seen[-2]

    qtbot.wait(50)
    qtbot.waitUntil(still)
    return seen[-1]


def test_generate_stays_put_when_a_job_is_queued(qtbot: QtBot, make_studio) -> None:
    """Clicking Generate twice queues a job; the queue appears without moving the button from under the pointer."""
    gate = threading.Event()
    studio = make_studio(fake_factory(gate=gate))
    window = studio.window
    button = window.generation_panel.generate_button
    studio.state.prompt = "first poster"
    with qtbot.waitSignal(studio.controller.job_started, timeout=JOB_TIMEOUT_MS):
        window.generate()
    before = _settled(qtbot, button)
    window.generate()
    queue = window.side_panel.queue_panel
    qtbot.waitUntil(lambda: queue.isVisible() and queue.list.count() == 1)
    assert _settled(qtbot, button) == before
    gate.set()


def test_sampling_controls_stay_put_when_the_size_line_changes(qtbot: QtBot, studio) -> None:
    """Switching between a square and a 4K print (a longer size line) leaves the Steps field where it was."""
    window = studio.window
    window.resize(1400, 1400)  # the whole panel in view, so only the size line could move it
    state = studio.state
    steps = window.generation_panel.steps_spin
    qtbot.wait(20)
    positions = set()
    for mode, exact in (
        (SizeMode.ASPECT, None),
        (SizeMode.EXACT, EXACT_PRESETS[0].name),
        (SizeMode.EXACT, "A3 portrait 300 DPI"),
    ):
        if exact:
            state.exact = exact
        state.size_mode = mode
        qtbot.wait(20)
        positions.add((_where(steps).x(), _where(steps).y()))
    assert len(positions) == 1
