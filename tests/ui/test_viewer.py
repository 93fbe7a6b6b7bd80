"""The viewer: keys and wheel change the zoom, crisp pixels above 100%, mip levels below, pixel readout."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage, QWheelEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.ui.viewer.image_viewer import ImageViewer
from app.ui.viewer.mip_image_item import build_levels, level_for_scale


def _image(width: int, height: int) -> QImage:
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("#204060"))
    image.setPixelColor(10, 20, QColor("#ff8000"))
    return image


@pytest.fixture
def viewer(qtbot: QtBot) -> ImageViewer:
    """A shown 800×600 viewer holding a 4096×4096 image."""
    view = ImageViewer()
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.show()
    qtbot.waitExposed(view)
    view.set_image(_image(4096, 4096))
    view.item.wait_for_levels()
    return view


def test_fit_and_100_percent_keys_change_the_scale(qtbot: QtBot, viewer: ImageViewer) -> None:
    """F fits the whole image in the window, 1 shows actual pixels, + and − zoom by steps."""
    fitted = viewer.zoom_percent
    assert fitted < 20  # 4096 px into ~600 px
    qtbot.keyClick(viewer, Qt.Key.Key_1)
    assert viewer.zoom_percent == pytest.approx(100)
    qtbot.keyClick(viewer, Qt.Key.Key_Plus)
    assert viewer.zoom_percent == pytest.approx(125)
    qtbot.keyClick(viewer, Qt.Key.Key_Minus)
    qtbot.keyClick(viewer, Qt.Key.Key_Minus)
    assert viewer.zoom_percent == pytest.approx(80)
    qtbot.keyClick(viewer, Qt.Key.Key_F)
    assert viewer.zoom_percent == pytest.approx(fitted)
    assert viewer.fit_mode


def test_wheel_zoom_keeps_the_point_under_the_cursor(qtbot: QtBot, viewer: ImageViewer) -> None:
    """Zooming with the wheel leaves the image point under the cursor where it was."""
    viewer.actual_size()
    cursor = QPoint(200, 150)
    before = viewer.mapToScene(cursor)
    event = QWheelEvent(
        QPointF(cursor),
        QPointF(viewer.viewport().mapToGlobal(cursor)),
        QPoint(),
        QPoint(0, 240),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(viewer.viewport(), event)
    assert viewer.zoom_percent == pytest.approx(156.25)
    after = viewer.mapToScene(cursor)
    assert abs(after.x() - before.x()) < 1 and abs(after.y() - before.y()) < 1


def test_double_click_toggles_fit_and_actual_pixels(qtbot: QtBot, viewer: ImageViewer) -> None:
    """Double-click goes to 100% and back to fit."""
    qtbot.mouseDClick(viewer.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(300, 300))
    assert viewer.zoom_percent == pytest.approx(100)
    qtbot.mouseDClick(viewer.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(300, 300))
    assert viewer.fit_mode


def test_pixels_are_crisp_above_100_percent_and_smooth_from_a_mip_level_below(viewer: ImageViewer) -> None:
    """Zoomed in, pixels are drawn nearest-neighbour; zoomed out, a smaller cached level is drawn smoothly."""
    viewer.actual_size()
    viewer.zoom_by(4)
    viewer.grab()
    assert (viewer.item.last_level_drawn, viewer.item.last_smooth) == (0, False)
    viewer.actual_size()
    viewer.zoom_by(0.2)  # 20%: the 1/4-size level covers it
    viewer.grab()
    assert viewer.item.last_level_drawn == 2 and viewer.item.last_smooth


def test_an_8k_image_is_drawn_from_a_small_level_when_fitted(qtbot: QtBot) -> None:
    """A fitted 8192² image paints from a cached level, never rescaling the full image per frame."""
    view = ImageViewer()
    qtbot.addWidget(view)
    view.resize(1000, 800)
    view.show()
    qtbot.waitExposed(view)
    view.set_image(_image(8192, 8192))
    qtbot.waitUntil(lambda: view.item.level_count > 1, timeout=20000)
    view.grab()
    level = view.item.last_level_drawn
    assert level >= 3  # 1024² or smaller for a ~800 px window
    assert max(view.item._levels[level].width(), 1) <= 1024


def test_mip_level_choice_never_skips_source_pixels() -> None:
    """Each level is drawn at a scale in (0.5, 1], so bilinear scaling reads every pixel it needs."""
    for scale in (0.9, 0.5, 0.3, 0.126, 0.05):
        level = level_for_scale(scale, 8)
        assert 0.5 < scale * 2**level <= 1.0
    assert level_for_scale(2.0, 8) == 0
    levels = build_levels(_image(2048, 1024))
    assert [(lv.width(), lv.height()) for lv in levels] == [(1024, 512), (512, 256)]


def test_pixel_under_the_cursor_is_reported(qtbot: QtBot, viewer: ImageViewer) -> None:
    """Hovering reports image coordinates and the colour there; off the image reports nothing."""
    viewer.actual_size()
    viewer.zoom_by(8)  # whole view pixels map well inside one image pixel
    viewer.centerOn(10.5, 20.5)
    seen: list[tuple[int, int, object]] = []
    viewer.pixel_hovered.connect(lambda x, y, color: seen.append((x, y, color)))
    viewer.report_pixel(viewer.mapFromScene(QPointF(10.5, 20.5)))
    x, y, color = seen[-1]
    assert (x, y) == (10, 20) and color.name() == "#ff8000"
    viewer.report_pixel(viewer.mapFromScene(QPointF(-50, -50)))
    assert seen[-1][0] == -1
