"""Banners above the viewer: one per problem, saying where to fix it, and none left stale."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QPushButton, QToolButton
from pytestqt.qtbot import QtBot

from app.application import Studio
from app.core.errors import InvalidRequestError
from app.core.request import GenerationRequest, GenerationResult
from app.store.gallery import Gallery
from app.ui.create.state import SizeMode
from app.ui.viewer.image_viewer import ImageViewer
from tests.ui.conftest import JOB_TIMEOUT_MS, generate_and_wait
from tests.ui.fakes import fake_image

_NO_CUDA = "device 'cuda' is not available on this machine; choose auto or cpu"


def _save(gallery: Gallery, prompt: str, seed: int) -> None:
    request = GenerationRequest(prompt=prompt, width=256, height=256, seed=seed)
    gallery.save(GenerationResult(image=fake_image(request), request=request, model_name="fake-model"))


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


def test_undo_by_keyboard_removes_the_trash_banners_undo(qtbot: QtBot, studio: Studio) -> None:
    """After Ctrl+Z restores the deleted image, the banner offering Undo is gone (its Undo would do nothing)."""
    generate_and_wait(qtbot, studio)
    window = studio.window
    window.gallery.delete_requested.emit([window.gallery_model.item_at(0)])
    assert any("trash" in b.title for b in window.banners.banners)
    window.actions_["undo_delete"].trigger()
    assert window.gallery_model.total == 1
    assert not any("trash" in b.title for b in window.banners.banners)


def test_the_invalid_size_banner_goes_once_the_size_is_fixed(qtbot: QtBot, studio: Studio) -> None:
    """Generate with an impossible custom size shows an error; fixing the size removes it."""
    state = studio.state
    state.size_mode = SizeMode.CUSTOM
    state.custom_width, state.custom_height = 64, 4000
    studio.window.generate()

    def errors() -> list[str]:
        return [b.title for b in studio.window.banners.banners if b.property("level") == "error"]

    assert errors() == ["These settings cannot make an image."]
    state.custom_height = 128
    assert errors() == []


def test_settings_loaded_banners_replace_each_other(qtbot: QtBot, studio: Studio) -> None:
    """Loading settings from two images leaves one 'Settings loaded' banner, for the newest."""
    for seed in (1, 2):
        _save(studio.gallery, f"poster {seed}", seed=seed)
    for item in studio.gallery.page(0, 2):
        studio.window.settings_reuse.import_settings([item.path])
        qtbot.waitUntil(lambda path=item.path: any(path.name in b.title for b in studio.window.banners.banners))
    loaded = [b for b in studio.window.banners.banners if b.title.startswith("Settings loaded")]
    assert len(loaded) == 1


def _tall_image() -> QImage:
    """Fitted by its height, so a banner that takes height from the viewer changes its scale."""
    image = QImage(512, 2048, QImage.Format.Format_RGB32)
    image.fill(QColor("#204060"))
    return image


def _fit_scale(viewer: ImageViewer) -> float:
    """The scale at which the image fills the viewport as it is now, less fit's 12 px margin on each side."""
    view, image = viewer.viewport().size(), viewer.content_rect()
    return min((view.width() - 24) / image.width(), (view.height() - 24) / image.height())


def _dismiss(qtbot: QtBot, studio: Studio) -> None:
    """Click the newest banner's close button, as the user does."""
    close = next(
        b for b in studio.window.banners.banners[0].findChildren(QToolButton) if b.accessibleName() == "Dismiss"
    )
    qtbot.mouseClick(close, Qt.MouseButton.LeftButton)
    qtbot.wait(20)


def test_a_fitted_image_refits_when_a_banner_opens_and_closes(qtbot: QtBot, studio: Studio) -> None:
    """Fit to window follows the viewer's height as a banner takes it and gives it back (#29 item 13)."""
    viewer = studio.window.viewer
    viewer.set_image(_tall_image())
    qtbot.wait(20)
    alone = viewer.viewport().height()
    assert viewer.fit_mode and viewer.transform().m11() == pytest.approx(_fit_scale(viewer))
    studio.window.show_error("Something went wrong", "one line of details")
    qtbot.waitUntil(lambda: viewer.viewport().height() < alone)
    qtbot.wait(20)
    assert viewer.transform().m11() == pytest.approx(_fit_scale(viewer))
    _dismiss(qtbot, studio)
    assert viewer.viewport().height() == alone
    assert viewer.fit_mode and viewer.transform().m11() == pytest.approx(_fit_scale(viewer))


def test_a_zoom_the_user_chose_stays_when_a_banner_opens_and_closes(qtbot: QtBot, studio: Studio) -> None:
    """Zoomed by hand, the image keeps its zoom while a banner comes and goes."""
    viewer = studio.window.viewer
    viewer.set_image(_tall_image())
    qtbot.wait(20)
    viewer.zoom_in()
    zoom = viewer.zoom_percent
    studio.window.show_error("Something went wrong", "one line of details")
    qtbot.wait(20)
    _dismiss(qtbot, studio)
    assert not viewer.fit_mode and viewer.zoom_percent == pytest.approx(zoom)
