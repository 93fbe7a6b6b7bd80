"""Mask painting on the viewer: brush, eraser, rectangle, clear, invert, undo/redo, PNG export, outpaint canvas."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from app.ui.viewer.image_viewer import ImageViewer
from app.ui.viewer.mask_painter import MaskPainter, MaskTool
from app.ui.viewer.mask_toolbar import MaskToolbar
from app.ui.viewer.outpaint_frame import OutpaintPreview

LEFT, RIGHT = Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton
NONE = Qt.KeyboardModifier.NoModifier


def _image(width: int, height: int) -> QImage:
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("#406080"))
    return image


@pytest.fixture
def painter(qtbot: QtBot) -> MaskPainter:
    """A shown viewer painting the mask of a 4096² image, fitted into 800×600."""
    viewer = ImageViewer()
    qtbot.addWidget(viewer)
    viewer.resize(800, 600)
    viewer.show()
    qtbot.waitExposed(viewer)
    mask_painter = MaskPainter(viewer)
    mask_painter.begin(_image(4096, 4096), "source-a")
    return mask_painter


def _view_point(painter: MaskPainter, x: float, y: float) -> QPoint:
    return painter.viewer.mapFromScene(QPointF(x, y))


def _drag(qtbot: QtBot, painter: MaskPainter, points: list[tuple[float, float]], button: Qt.MouseButton = LEFT) -> None:
    viewport = painter.viewer.viewport()
    qtbot.mousePress(viewport, button, NONE, _view_point(painter, *points[0]))
    for point in points[1:]:
        qtbot.mouseMove(viewport, _view_point(painter, *point))
    qtbot.mouseRelease(viewport, button, NONE, _view_point(painter, *points[-1]))


def _mask(painter: MaskPainter) -> Image.Image:
    return Image.open(io.BytesIO(painter.mask_png()))


def test_a_mouse_stroke_paints_white_where_it_passed_and_undo_redo_replay_it(
    qtbot: QtBot, painter: MaskPainter
) -> None:
    """Dragging the brush marks the pixels it crossed white in the exported L PNG; Ctrl+Z and Ctrl+Shift+Z."""
    painter.brush_size = 200
    _drag(qtbot, painter, [(1000, 1000), (2000, 1000), (3000, 1000)])
    mask = _mask(painter)
    assert mask.mode == "L" and mask.size == (4096, 4096)
    assert mask.getpixel((1500, 1000)) == 255 and mask.getpixel((2900, 1050)) == 255
    assert mask.getpixel((2000, 1300)) == 0 and mask.getpixel((100, 100)) == 0
    qtbot.keyClick(painter.viewer, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not painter.has_mask()
    qtbot.keyClick(
        painter.viewer, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    assert _mask(painter).getpixel((1500, 1000)) == 255


def test_eraser_and_right_drag_take_paint_away(qtbot: QtBot, painter: MaskPainter) -> None:
    """The eraser tool and a right drag with the brush both clear what they cross."""
    painter.brush_size = 300
    _drag(qtbot, painter, [(500, 2000), (3500, 2000)])
    painter.brush_size = 100
    _drag(qtbot, painter, [(1000, 1800), (1000, 2200)], button=RIGHT)
    qtbot.keyClick(painter.viewer, Qt.Key.Key_E)
    assert painter.tool is MaskTool.ERASER
    _drag(qtbot, painter, [(3000, 1800), (3000, 2200)])
    mask = _mask(painter)
    assert mask.getpixel((1000, 2000)) == 0 and mask.getpixel((3000, 2000)) == 0
    assert mask.getpixel((2000, 2000)) == 255
    assert painter.undo_stack.count() == 3


def test_rectangle_fills_a_box_and_invert_and_clear_are_undoable(qtbot: QtBot, painter: MaskPainter) -> None:
    """R then a drag fills exactly the box; invert swaps it; clear empties it; undo walks back each step."""
    qtbot.keyClick(painter.viewer, Qt.Key.Key_R)
    _drag(qtbot, painter, [(2048, 2048), (3000, 2600), (4096, 4096)])
    mask = _mask(painter)
    assert mask.getbbox() is not None and mask.getpixel((3000, 3000)) == 255 and mask.getpixel((2000, 2000)) == 0
    left, top, _right, _bottom = mask.getbbox()
    assert abs(left - 2048) <= 8 and abs(top - 2048) <= 8  # within one screen pixel at ~14 % zoom
    painter.invert()
    assert _mask(painter).getpixel((100, 100)) == 255 and _mask(painter).getpixel((3000, 3000)) == 0
    painter.clear()
    assert not painter.has_mask()
    painter.undo_stack.undo()
    assert _mask(painter).getpixel((100, 100)) == 255
    painter.undo_stack.undo()
    assert _mask(painter).getpixel((3000, 3000)) == 255 and _mask(painter).getpixel((100, 100)) == 0


def test_the_mask_stays_with_its_source_and_another_image_stops_painting(qtbot: QtBot, painter: MaskPainter) -> None:
    """A result shown in the viewer ends painting (mouse pans again); the same source brings its mask back."""
    painter.brush_size = 400
    _drag(qtbot, painter, [(2000, 2000), (2100, 2000)])
    painter.viewer.set_image(_image(512, 512))
    assert not painter.active and not painter.layer.isVisible()
    painter.begin(_image(4096, 4096), "source-a")
    assert painter.active and painter.has_mask()
    painter.begin(_image(4096, 4096), "source-b")
    assert not painter.has_mask() and painter.undo_stack.count() == 0


def test_the_stroke_repaints_only_what_it_touched(painter: MaskPainter) -> None:
    """On a 4096² mask a brush dab reports a dirty rectangle of about its own size, not the image."""
    touched = painter.layer.stroke(QPointF(1000, 1000), QPointF(1010, 1000), 40, erase=False)
    assert touched.width() <= 60 and touched.height() <= 50


def test_toolbar_binds_to_the_painter(qtbot: QtBot, painter: MaskPainter) -> None:
    """Tool buttons, size, feather and the overlay toggle follow the painter both ways."""
    toolbar = MaskToolbar(painter)
    qtbot.addWidget(toolbar)
    toolbar.tool_buttons[MaskTool.RECTANGLE].click()
    assert painter.tool is MaskTool.RECTANGLE
    qtbot.keyClick(painter.viewer, Qt.Key.Key_B)
    assert toolbar.tool_buttons[MaskTool.BRUSH].isChecked()
    toolbar.size_spin.setValue(123)
    assert painter.brush_size == 123
    qtbot.keyClick(painter.viewer, Qt.Key.Key_BracketRight)
    assert toolbar.size_spin.value() == painter.brush_size > 123
    painter.feather = 21
    assert toolbar.feather_spin.value() == 21
    toolbar.overlay_button.click()
    assert not painter.overlay_visible and not painter.layer.isVisible()
    assert not toolbar.undo_button.isEnabled()
    painter.invert()
    assert toolbar.undo_button.isEnabled()


def test_outpaint_preview_shows_the_new_canvas_around_the_source(qtbot: QtBot) -> None:
    """The viewer fits the extended canvas with the source in place; another image removes the frame."""
    viewer = ImageViewer()
    qtbot.addWidget(viewer)
    viewer.resize(800, 600)
    viewer.show()
    preview = OutpaintPreview(viewer)
    preview.show(_image(1024, 1024), (448, 0, 448, 0))
    assert preview.frame.canvas == QRectF(-448, 0, 1920, 1024)
    assert viewer.content_rect() == QRectF(-448, 0, 1920, 1024)
    left = viewer.mapFromScene(QPointF(-448, 512)).x()
    right = viewer.mapFromScene(QPointF(1472, 512)).x()
    assert left >= 0 and right <= viewer.viewport().width() and right - left > 700
    viewer.set_image(_image(256, 256))
    assert not preview.shown and viewer.content_rect() == QRectF(0, 0, 256, 256)
