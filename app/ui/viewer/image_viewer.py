"""The image viewer: wheel zoom under the cursor, drag to pan, fit / 100%, crisp pixels above 100%."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPalette,
    QResizeEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import QFrame, QGraphicsScene, QGraphicsView, QWidget

from app.ui.viewer.mip_image_item import MipImageItem
from app.ui.widgets.drops import dropped_images

MIN_SCALE = 0.01
MAX_SCALE = 64.0  # device pixels per image pixel
ZOOM_STEP = 1.25
_WHEEL_UNIT = 120  # one notch of a mouse wheel, in eighths of a degree


class ImageViewer(QGraphicsView):
    """Shows one image (or a live preview); emits its zoom and the pixel under the cursor for the status bar."""

    zoom_changed = Signal(float)  # percent: 100 means one image pixel per screen pixel
    pixel_hovered = Signal(int, int, object)  # x, y, QColor; x = -1 when the cursor leaves the image
    image_changed = Signal(int, int)
    files_dropped = Signal(list)  # image files dropped from outside; the window loads their settings

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("imageViewer")
        self.setAccessibleName("Image viewer")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self._scene = QGraphicsScene(self)
        self.item = MipImageItem()
        self._scene.addItem(self.item)
        self.setScene(self._scene)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState, True)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._fit_mode = True
        self._extra_bounds = QRectF()  # scene area beyond the image that fit() shows too (outpaint's canvas)
        self.is_preview = False
        self.progress_text = ""
        self.placeholder = "Write a prompt and press Ctrl+Enter — your image appears here."

    # -- content -----------------------------------------------------------------------------

    def set_image(self, image: QImage, preview: bool = False) -> None:
        """Show an image; a new size refits, the same size keeps the user's zoom and position."""
        same_size = image.size() == self.item.image.size() and not self.item.image.isNull()
        self.is_preview = preview
        self.item.set_image(image, build_chain=not preview)
        self._scene.setSceneRect(self.content_rect())
        if self._fit_mode or not same_size:
            self.fit()
        self.image_changed.emit(image.width(), image.height())
        self.viewport().update()

    def clear(self) -> None:
        """Show the empty canvas."""
        self.is_preview = False
        self.item.set_image(QImage(), build_chain=False)
        self._scene.setSceneRect(QRectF())
        self.image_changed.emit(0, 0)
        self.viewport().update()

    def set_extra_bounds(self, rect: QRectF) -> None:
        """Make fit() and scrolling cover `rect` as well as the image (an empty rect: the image alone)."""
        self._extra_bounds = QRectF(rect)
        self._scene.setSceneRect(self.content_rect())
        if self._fit_mode:
            self.fit()

    def content_rect(self) -> QRectF:
        """What fit() shows: the image, and the extra bounds while they are set."""
        rect = self.item.boundingRect()
        return rect.united(self._extra_bounds) if not self._extra_bounds.isEmpty() else rect

    @property
    def has_image(self) -> bool:
        """True when an image (or preview) is shown."""
        return not self.item.image.isNull()

    # -- zoom --------------------------------------------------------------------------------

    @property
    def device_scale(self) -> float:
        """Screen (device) pixels per image pixel."""
        return self.transform().m11() * self.devicePixelRatioF()

    @property
    def zoom_percent(self) -> float:
        """The zoom as shown in the status bar."""
        return self.device_scale * 100

    @property
    def fit_mode(self) -> bool:
        """True while the image follows the window size."""
        return self._fit_mode

    def fit(self) -> None:
        """Show the whole image (F)."""
        self._fit_mode = True
        self.item.smooth_upscale = True
        if self.has_image:
            rect = self.content_rect()
            view = self.viewport().rect().adjusted(12, 12, -12, -12)
            scale = min(view.width() / rect.width(), view.height() / rect.height())
            self._set_scale(max(MIN_SCALE, scale), None)
            self.centerOn(rect.center())
        self.zoom_changed.emit(self.zoom_percent)

    def actual_size(self, anchor: QPoint | None = None) -> None:
        """One image pixel per screen pixel (1), keeping the point under `anchor` still."""
        self._leave_fit()
        self._set_scale(1.0 / self.devicePixelRatioF(), anchor)

    def zoom_by(self, factor: float, anchor: QPoint | None = None) -> None:
        """Zoom in (factor > 1) or out around `anchor` (the view centre when None)."""
        self._leave_fit()
        target = min(MAX_SCALE, max(MIN_SCALE, self.device_scale * factor))
        self._set_scale(target / self.devicePixelRatioF(), anchor)

    def zoom_in(self) -> None:
        """Zoom in one step (+)."""
        self.zoom_by(ZOOM_STEP)

    def zoom_out(self) -> None:
        """Zoom out one step (−)."""
        self.zoom_by(1 / ZOOM_STEP)

    def toggle_fit(self, anchor: QPoint | None = None) -> None:
        """Fit ↔ 100% (double-click)."""
        if self._fit_mode:
            self.actual_size(anchor)
        else:
            self.fit()

    def _leave_fit(self) -> None:
        self._fit_mode = False
        self.item.smooth_upscale = False

    def _set_scale(self, scale: float, anchor: QPoint | None) -> None:
        # Keep the scene point under the anchor fixed on screen (NoAnchor: we do the anchoring ourselves).
        anchor = anchor if anchor is not None else self.viewport().rect().center()
        scene_point = self.mapToScene(anchor)
        self.setTransform(QTransform.fromScale(scale, scale))
        delta = self.mapFromScene(scene_point) - anchor
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + delta.x())
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() + delta.y())
        self.zoom_changed.emit(self.zoom_percent)
        self.viewport().update()

    # -- events ------------------------------------------------------------------------------

    def wheelEvent(self, event: QWheelEvent) -> None:
        """Zoom under the cursor; a trackpad's small deltas zoom smoothly."""
        delta = event.angleDelta().y()
        if delta == 0 or not self.has_image:
            return
        self.zoom_by(ZOOM_STEP ** (delta / _WHEEL_UNIT), event.position().toPoint())
        event.accept()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Accept image files from outside (the scene has no drop targets, so QGraphicsView would refuse them)."""
        _accept_outside_images(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        """Keep accepting what dragEnterEvent accepted."""
        _accept_outside_images(event)

    def dropEvent(self, event: QDropEvent) -> None:
        """Hand dropped image files on, as the gallery does."""
        paths = dropped_images(event)
        if paths and event.source() is None:
            event.acceptProposedAction()
            self.files_dropped.emit(paths)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        """Toggle fit and 100% at the clicked point."""
        if event.button() == Qt.MouseButton.LeftButton and self.has_image:
            self.toggle_fit(event.position().toPoint())
            return
        super().mouseDoubleClickEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        """Report the image pixel under the cursor."""
        super().mouseMoveEvent(event)
        self.report_pixel(event.position().toPoint())

    def leaveEvent(self, event: QEvent) -> None:
        """The cursor left: no pixel to report."""
        self.pixel_hovered.emit(-1, -1, None)
        super().leaveEvent(event)

    def report_pixel(self, view_point: QPoint) -> None:
        """Emit the image coordinates and colour at a viewport point (or -1 outside the image)."""
        scene = self.mapToScene(view_point)
        x, y = int(scene.x() // 1), int(scene.y() // 1)
        image = self.item.image
        if self.has_image and not self.is_preview and 0 <= x < image.width() and 0 <= y < image.height():
            self.pixel_hovered.emit(x, y, QColor(image.pixelColor(x, y)))
        else:
            self.pixel_hovered.emit(-1, -1, None)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """F fit, 1 100%, +/− zoom; the same keys are listed under Help → Keyboard shortcuts."""
        key = event.key()
        if key == Qt.Key.Key_F:
            self.fit()
        elif key == Qt.Key.Key_1:
            self.actual_size()
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_in()
        elif key in (Qt.Key.Key_Minus, Qt.Key.Key_Underscore):
            self.zoom_out()
        else:
            super().keyPressEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Fit mode follows the window."""
        super().resizeEvent(event)
        if self._fit_mode:
            self.fit()

    def show_progress(self, text: str) -> None:
        """A line of job progress drawn over the image ('' hides it); full screen has no other progress."""
        self.progress_text = text
        self.viewport().update()

    def drawForeground(self, painter: QPainter, rect: QRectF | QRect) -> None:
        """A hint on the empty canvas, and a 'Live preview' tag with the job's progress while sampling."""
        tag = " · ".join(part for part in ("Live preview" if self.is_preview else "", self.progress_text) if part)
        if self.has_image and not tag:
            return
        painter.save()
        painter.resetTransform()
        muted = self.palette().color(QPalette.ColorRole.PlaceholderText)
        painter.setPen(muted)
        area = self.viewport().rect()
        if not self.has_image:
            flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap  # a narrow viewer wraps the hint
            painter.drawText(area.adjusted(20, 0, -20, 0), flags, self.progress_text or self.placeholder)
        else:
            painter.drawText(
                area.adjusted(14, 10, -14, -10), Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft, tag
            )
        painter.restore()


def _accept_outside_images(event: QDragEnterEvent | QDragMoveEvent) -> None:
    if event.source() is None and dropped_images(event):
        event.acceptProposedAction()
    else:
        event.ignore()
