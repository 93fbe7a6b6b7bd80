"""Quitting with jobs in flight asks first; unfinished jobs survive a quit or a crash and come back paused."""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from app.application import Studio
from app.store.pending_jobs import PendingJobsFile, pending_jobs_path
from tests.ui.conftest import JOB_TIMEOUT_MS, answer_quit_question
from tests.ui.fakes import fake_factory


def _start_three_jobs(qtbot: QtBot, studio: Studio) -> None:
    """One job running (held by the gate) and two waiting."""
    for prompt in ("first poster", "second poster", "third poster"):
        studio.state.prompt = prompt
        if prompt == "first poster":
            with qtbot.waitSignal(studio.controller.job_started, timeout=JOB_TIMEOUT_MS):
                studio.window.generate()
        else:
            studio.window.generate()


def _banner_button(studio: Studio, text: str) -> QPushButton:
    banner = next(b for b in studio.window.banners.banners if "unfinished job" in b.title)
    return next(button for button in banner.findChildren(QPushButton) if button.text() == text)


def test_closing_with_jobs_in_flight_asks_and_cancel_keeps_working(
    qtbot: QtBot, make_studio: Callable[..., Studio]
) -> None:
    """Close asks, naming the running and waiting jobs; Cancel keeps the window and its jobs; Quit closes."""
    gate = threading.Event()
    studio = make_studio(fake_factory(gate=gate))
    _start_three_jobs(qtbot, studio)
    asked = answer_quit_question(studio.window, "Cancel")
    assert not studio.window.close()
    assert asked == ["1 job is being generated and 2 jobs are waiting."]
    assert studio.window.isVisible() and studio.controller.is_busy and len(studio.controller.queued_jobs) == 2
    answer_quit_question(studio.window, "Quit")
    assert studio.window.close()
    assert not studio.controller.is_busy


def test_closing_when_idle_does_not_ask(qtbot: QtBot, studio: Studio) -> None:
    """With nothing running or waiting the window closes at once."""
    asked = answer_quit_question(studio.window, "Cancel")
    assert studio.window.close()
    assert asked == []


def test_jobs_survive_a_crash_and_resume_only_when_asked(qtbot: QtBot, make_studio: Callable[..., Studio]) -> None:
    """A Studio built while the first still runs (as after a kill) offers its three jobs paused; Resume runs them."""
    gate = threading.Event()
    first = make_studio(fake_factory(gate=gate))
    _start_three_jobs(qtbot, first)
    second = make_studio()
    assert not second.controller.is_busy  # restored paused, not started behind the user's back
    banner = next(b for b in second.window.banners.banners if "unfinished job" in b.title)
    assert banner.title == "3 unfinished jobs from the last session"
    assert "“first poster” and 2 more" in banner.message
    before = second.window.gallery_model.total
    _banner_button(second, "Resume").click()
    assert [job.request.prompt for job in second.controller.queued_jobs][-2:] == ["second poster", "third poster"]
    qtbot.waitUntil(lambda: second.window.gallery_model.total == before + 3, timeout=JOB_TIMEOUT_MS)
    qtbot.waitUntil(lambda: not second.controller.is_busy, timeout=JOB_TIMEOUT_MS)
    assert banner not in second.window.banners.banners
    assert PendingJobsFile(pending_jobs_path(second.paths)).load() == []
    gate.set()


def test_quit_keeps_the_queue_and_discard_forgets_it(qtbot: QtBot, make_studio: Callable[..., Studio]) -> None:
    """After Quit the next start offers the jobs; Discard empties the file and nothing runs."""
    gate = threading.Event()
    first = make_studio(fake_factory(gate=gate))
    _start_three_jobs(qtbot, first)
    answer_quit_question(first.window, "Quit")
    assert first.window.close()
    saved = PendingJobsFile(pending_jobs_path(first.paths)).load()
    assert [request.prompt for request in saved] == ["first poster", "second poster", "third poster"]
    second = make_studio()
    _banner_button(second, "Discard").click()
    assert not second.controller.is_busy
    assert PendingJobsFile(pending_jobs_path(second.paths)).load() == []
    assert not any("unfinished job" in b.title for b in second.window.banners.banners)
