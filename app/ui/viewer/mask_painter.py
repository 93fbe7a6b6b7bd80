"""MaskPainter: the mask tools' state and the mouse handling that paints on the viewer."""

from __future__ import annotations

from enum import Enum

from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QKeyEvent, QKeySequence, QMouseEvent, QPainter, QPen, QUndoStack
from PySide6.QtWidgets import QGraphicsItem, QGraphicsView, QStyleOptionGraphicsItem, QWidget

from app.core.source_image import MaskImage
from app.ui.viewer.image_viewer import ImageViewer
from app.ui.viewer.mask_edits import MaskEdit
from app.ui.viewer.mask_layer import MaskLayer

MIN_BRUSH, MAX_BRUSH = 1, 2048
MAX_FEATHER = 256
_SIZE_STEP = 1.25  # [ and ] change the brush by a quarter


class _Outline(QGraphicsItem):
    """A rectangle or ellipse drawn black under white dashes: visible on any image, one screen pixel wide."""

    def __init__(self, ellipse: bool) -> None:
        super().__init__()
        self._ellipse = ellipse
        self._rect = QRectF()
        self.setZValue(3)
        self.setVisible(False)

    def rect(self) -> QRectF:
        """The outlined rectangle in image pixels."""
        return QRectF(self._rect)

    def set_rect(self, rect: QRectF) -> None:
        """Move or resize the outline."""
        self.prepareGeometryChange()
        self._rect = QRectF(rect)

    def boundingRect(self) -> QRectF:
        """The rectangle with room for the pen (which is one screen pixel at any zoom)."""
        return self._rect.adjusted(-2, -2, 2, 2)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        """Black line, then white dashes over it."""
        for colour, style in (("#000000", Qt.PenStyle.SolidLine), ("#ffffff", Qt.PenStyle.DashLine)):
            pen = QPen(QColor(colour), 0, style)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            if self._ellipse:
                painter.drawEllipse(self._rect)
            else:
                painter.drawRect(self._rect)


class MaskTool(str, Enum):
    """What a left drag does on the mask."""

    BRUSH = "brush"
    ERASER = "eraser"
    RECTANGLE = "rectangle"


class MaskPainter(QObject):
    """Paints the mask of the viewer's image; right drag erases, middle drag pans; edits are undoable."""

    tool_changed = Signal(object)
    brush_size_changed = Signal(int)
    feather_changed = Signal(int)
    overlay_visible_changed = Signal(bool)
    active_changed = Signal(bool)
    mask_changed = Signal()

    def __init__(self, viewer: ImageViewer, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.viewer = viewer
        self.layer = MaskLayer()
        self.layer.setVisible(False)
        viewer.scene().addItem(self.layer)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.indexChanged.connect(self._on_undo_index_changed)
        self._tool = MaskTool.BRUSH
        self._brush_size = 64
        self._feather = 8
        self._overlay_visible = True
        self._active = False
        self._key: object = None  # which image the mask belongs to
        self._showing = False  # set while begin() puts the source in the viewer
        self._stroke: tuple[QImage, QRect, QPointF, bool] | None = None  # before, touched, last point, erase
        self._rect_start: QPointF | None = None
        self._pan_from: QPoint | None = None
        self._cursor = _Outline(ellipse=True)
        self._rubber_band = _Outline(ellipse=False)
        for item in (self._cursor, self._rubber_band):
            viewer.scene().addItem(item)
        viewer.image_changed.connect(self._on_image_changed)
        viewer.viewport().installEventFilter(self)
        viewer.installEventFilter(self)

    # -- state -------------------------------------------------------------------------------

    @property
    def tool(self) -> MaskTool:
        """Brush, eraser or rectangle."""
        return self._tool

    @tool.setter
    def tool(self, tool: MaskTool) -> None:
        tool = MaskTool(tool)
        if tool is not self._tool:
            self._tool = tool
            self.tool_changed.emit(tool)

    @property
    def brush_size(self) -> int:
        """Brush diameter in image pixels."""
        return self._brush_size

    @brush_size.setter
    def brush_size(self, size: int) -> None:
        size = max(MIN_BRUSH, min(MAX_BRUSH, int(size)))
        if size != self._brush_size:
            self._brush_size = size
            self._cursor.set_rect(self._cursor_rect(self._cursor.rect().center()))
            self.brush_size_changed.emit(size)

    @property
    def feather(self) -> int:
        """The seam's blur in pixels (the request's mask blur)."""
        return self._feather

    @feather.setter
    def feather(self, pixels: int) -> None:
        pixels = max(0, min(MAX_FEATHER, int(pixels)))
        if pixels != self._feather:
            self._feather = pixels
            self.feather_changed.emit(pixels)

    @property
    def overlay_visible(self) -> bool:
        """Whether the tinted mask is drawn over the image."""
        return self._overlay_visible

    @overlay_visible.setter
    def overlay_visible(self, visible: bool) -> None:
        if visible != self._overlay_visible:
            self._overlay_visible = visible
            self.layer.setVisible(visible and self._active)
            self.overlay_visible_changed.emit(visible)

    @property
    def active(self) -> bool:
        """True while the viewer shows the mask's image and the mouse paints."""
        return self._active

    @property
    def key(self) -> object:
        """What the current mask belongs to (the source's hash), None before any."""
        return self._key

    # -- commands ----------------------------------------------------------------------------

    def begin(self, image: QImage, key: object) -> None:
        """Show `image` and paint its mask; the mask (and its undo history) stays while `key` is the same."""
        self._showing = True
        try:
            self.viewer.set_image(image)
        finally:
            self._showing = False
        if key != self._key or self.layer.mask.size() != image.size():
            self._key = key
            self.layer.reset(image.width(), image.height())
            self.undo_stack.clear()
            self.mask_changed.emit()
        self._set_active(True)

    def end(self) -> None:
        """Stop painting; the mask is kept for when painting begins again."""
        self._set_active(False)

    def forget(self) -> None:
        """Drop the mask (the source went away)."""
        self._set_active(False)
        self._key = None
        self.layer.reset(0, 0)
        self.undo_stack.clear()
        self.mask_changed.emit()

    def clear(self) -> None:
        """Erase the whole mask (undoable)."""
        self._whole_image_edit("Clear mask", self.layer.clear)

    def invert(self) -> None:
        """Swap repaint and keep (undoable)."""
        self._whole_image_edit("Invert mask", self.layer.invert)

    def has_mask(self) -> bool:
        """True when some pixel is marked for repainting."""
        return self._key is not None and not self.layer.is_empty()

    def mask_png(self) -> bytes:
        """The mask as PNG bytes of an L image (white = repaint)."""
        return self.layer.png_bytes()

    def mask_image(self) -> MaskImage | None:
        """The mask for a request (its PNG, size and coverage), or None when nothing is painted."""
        coverage = self.layer.coverage() if self._key is not None else 0.0
        if coverage == 0.0:
            return None
        mask = self.layer.mask
        return MaskImage(self.mask_png(), mask.width(), mask.height(), coverage)

    # -- events ------------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Mouse on the viewport paints; keys on the viewer pick tools and undo, while active."""
        if not self._active:
            return False
        kind = event.type()
        if watched is self.viewer:
            if kind == QEvent.Type.ShortcutOverride and self._handles_key(event):  # type: ignore[arg-type]
                event.accept()  # the window's Ctrl+Z (undo delete) must not take the mask's undo
                return True
            if kind == QEvent.Type.KeyPress and self._handles_key(event):  # type: ignore[arg-type]
                self._on_key(event)  # type: ignore[arg-type]
                return True
            return False
        if kind in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick):
            return self._on_press(event)  # type: ignore[arg-type]
        if kind == QEvent.Type.MouseMove:
            return self._on_move(event)  # type: ignore[arg-type]
        if kind == QEvent.Type.MouseButtonRelease:
            return self._on_release(event)  # type: ignore[arg-type]
        if kind == QEvent.Type.Leave:
            self._cursor.setVisible(False)
        return False

    def _on_press(self, event: QMouseEvent) -> bool:
        button = event.button()
        if button == Qt.MouseButton.MiddleButton:
            self._pan_from = event.position().toPoint()
            return True
        if button not in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            return False
        point = self._scene_point(event)
        erase = button == Qt.MouseButton.RightButton or self._tool is MaskTool.ERASER
        if self._tool is MaskTool.RECTANGLE:
            self._rect_start = point
            self._rubber_band.set_rect(QRectF(point, point))
            self._rubber_band.setVisible(True)
            self._stroke = (QImage(), QRect(), point, erase)
            return True
        before = self.layer.mask.copy()
        touched = self.layer.stroke(point, point, self._brush_size, erase)
        self._stroke = (before, touched, point, erase)
        return True

    def _on_move(self, event: QMouseEvent) -> bool:
        position = event.position().toPoint()
        self.viewer.report_pixel(position)
        if self._pan_from is not None:
            delta = position - self._pan_from
            self._pan_from = position
            bars = (self.viewer.horizontalScrollBar(), self.viewer.verticalScrollBar())
            bars[0].setValue(bars[0].value() - delta.x())
            bars[1].setValue(bars[1].value() - delta.y())
            return True
        point = self._scene_point(event)
        self._cursor.set_rect(self._cursor_rect(point))
        self._cursor.setVisible(self._tool is not MaskTool.RECTANGLE)
        if self._stroke is None:
            return True
        before, touched, last, erase = self._stroke
        if self._rect_start is not None:
            self._rubber_band.set_rect(QRectF(self._rect_start, point).normalized())
            return True
        touched = touched.united(self.layer.stroke(last, point, self._brush_size, erase))
        self._stroke = (before, touched, point, erase)
        return True

    def _on_release(self, event: QMouseEvent) -> bool:
        if event.button() == Qt.MouseButton.MiddleButton:
            self._pan_from = None
            return True
        if self._stroke is None:
            return False
        before, touched, _last, erase = self._stroke
        self._stroke = None
        if self._rect_start is not None:
            start, self._rect_start = self._rect_start, None
            self._rubber_band.setVisible(False)
            rect = QRectF(start, self._scene_point(event)).normalized().toAlignedRect()
            rect = rect.intersected(self.layer.mask.rect())
            if rect.isEmpty():
                return True
            previous = self.layer.mask.copy(rect)
            self.layer.fill_rect(rect, erase)
            self.undo_stack.push(MaskEdit(self.layer, rect, previous, "Erase rectangle" if erase else "Rectangle"))
            return True
        if not touched.isEmpty():
            self.undo_stack.push(MaskEdit(self.layer, touched, before.copy(touched), "Erase" if erase else "Brush"))
        return True

    def _handles_key(self, event: QKeyEvent) -> bool:
        return self._key_action(event) is not None

    def _key_action(self, event: QKeyEvent) -> str | None:
        if event.matches(QKeySequence.StandardKey.Undo):
            return "undo"
        if event.matches(QKeySequence.StandardKey.Redo) or (
            event.key() == Qt.Key.Key_Z
            and event.modifiers() == Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
        ):
            return "redo"
        if event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            return None
        return {
            Qt.Key.Key_B: "brush",
            Qt.Key.Key_E: "eraser",
            Qt.Key.Key_R: "rectangle",
            Qt.Key.Key_BracketLeft: "smaller",
            Qt.Key.Key_BracketRight: "larger",
            Qt.Key.Key_H: "overlay",
        }.get(Qt.Key(event.key()))

    def _on_key(self, event: QKeyEvent) -> None:
        action = self._key_action(event)
        if action == "undo":
            self.undo_stack.undo()
        elif action == "redo":
            self.undo_stack.redo()
        elif action in ("brush", "eraser", "rectangle"):
            self.tool = MaskTool(action)
        elif action == "smaller":
            self.brush_size = min(self._brush_size - 1, round(self._brush_size / _SIZE_STEP))
        elif action == "larger":
            self.brush_size = max(self._brush_size + 1, round(self._brush_size * _SIZE_STEP))
        elif action == "overlay":
            self.overlay_visible = not self._overlay_visible

    # -- helpers -----------------------------------------------------------------------------

    def _set_active(self, active: bool) -> None:
        if active == self._active:
            return
        self._active = active
        self.layer.setVisible(active and self._overlay_visible)
        self._cursor.setVisible(False)
        self._rubber_band.setVisible(False)
        self._stroke, self._rect_start, self._pan_from = None, None, None
        self.viewer.setDragMode(QGraphicsView.DragMode.NoDrag if active else QGraphicsView.DragMode.ScrollHandDrag)
        self.viewer.viewport().setCursor(Qt.CursorShape.CrossCursor if active else Qt.CursorShape.ArrowCursor)
        self.active_changed.emit(active)

    def _on_undo_index_changed(self, _index: int) -> None:
        self.mask_changed.emit()

    def _on_image_changed(self, _width: int, _height: int) -> None:
        if not self._showing:
            self.end()  # another image (a result, a preview, a gallery pick) replaced the source

    def _whole_image_edit(self, text: str, edit: object) -> None:
        if self._key is None:
            return
        before = self.layer.mask.copy()
        rect = edit()  # type: ignore[operator]
        self.undo_stack.push(MaskEdit(self.layer, rect, before, text))

    def _scene_point(self, event: QMouseEvent) -> QPointF:
        return self.viewer.mapToScene(event.position().toPoint())

    def _cursor_rect(self, centre: QPointF) -> QRectF:
        radius = self._brush_size / 2
        return QRectF(centre.x() - radius, centre.y() - radius, 2 * radius, 2 * radius)
