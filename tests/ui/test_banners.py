"""Banners above the viewer: one per problem, saying where to fix it, and none left stale."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from app.core.errors import InvalidRequestError
from tests.ui.conftest import JOB_TIMEOUT_MS

_NO_CUDA = "device 'cuda' is not available on this machine; choose auto or cpu"


def _no_cuda_factory(*_: Any, **__: Any) -> Any:
    raise InvalidRequestError(_NO_CUDA)


def test_a_model_that_cannot_load_gives_one_banner_that_points_to_settings(qtbot: QtBot, make_studio) -> None:
    """Choosing an absent device: one error banner (not one per attempt or per job) with a button to Settings."""
    studio = make_studio(_no_cuda_factory)
    window = studio.window
    studio.state.prompt = "a poster"
    for _ in range(2):
        with qtbot.waitSignal(studio.controller.job_failed, timeout=JOB_TIMEOUT_MS):
            window.generate()
    qtbot.wait(50)
    errors = [b for b in window.banners.banners if b.property("level") == "error"]
    assert len(errors) == 1
    assert _NO_CUDA in errors[0].message and "Settings" in errors[0].message
    buttons = [b.text() for b in errors[0].findChildren(QPushButton)]
    assert "Open Settings…" in buttons
