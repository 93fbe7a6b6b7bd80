"""Outpaint's new canvas around the source: the added margins hatched, the canvas outlined and its size named."""

from __future__ import annotations

from PySide6.QtCore import QObject, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QImage, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from app.ui.viewer.image_viewer import ImageViewer

_MARGIN_FILL = QColor(110, 130, 255, 60)
_HATCH = QColor(140, 160, 255, 150)
_OUTLINE = QColor(140, 160, 255)


class OutpaintFrame(QGraphicsItem):
    """Drawn under nothing and over the margins only; the source stays at (0, 0) in image pixels."""

    def __init__(self, parent: QGraphicsItem | None = None) -> None:
        super().__init__(parent)
        self.setZValue(2)
        self._source = QRectF()
        self._canvas = QRectF()
        self.setVisible(False)

    @property
    def canvas(self) -> QRectF:
        """The new canvas in the source's pixel coordinates (left and top margins are negative)."""
        return QRectF(self._canvas)

    def set_extension(self, width: int, height: int, extend: tuple[int, int, int, int]) -> None:
        """Show a width×height source extended by (left, top, right, bottom) pixels."""
        left, top, right, bottom = extend
        self.prepareGeometryChange()
        self._source = QRectF(0, 0, width, height)
        self._canvas = QRectF(-left, -top, width + left + right, height + top + bottom)
        self.update()

    def boundingRect(self) -> QRectF:
        """The whole canvas."""
        return self._canvas.adjusted(-1, -1, 1, 1)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        """Tint and hatch the margins, outline the canvas and label the final size at its top-left corner."""
        if self._canvas.isEmpty():
            return
        margins = QPainterPath()
        margins.addRect(self._canvas)
        margins.addRect(self._source)  # odd-even fill: the source's own area stays clear
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(_MARGIN_FILL)
        painter.drawPath(margins)
        hatch = QBrush(_HATCH, Qt.BrushStyle.BDiagPattern)
        inverse, _invertible = painter.worldTransform().inverted()
        hatch.setTransform(inverse)  # the hatching keeps its screen size at any zoom
        painter.setBrush(hatch)
        painter.drawPath(margins)
        for rect, style in ((self._canvas, Qt.PenStyle.SolidLine), (self._source, Qt.PenStyle.DashLine)):
            pen = QPen(_OUTLINE, 2, style)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(rect)
        painter.save()
        corner = painter.worldTransform().map(self._canvas.topLeft())
        painter.resetTransform()
        font = QFont(painter.font())
        font.setBold(True)
        painter.setFont(font)
        label = f"{int(self._canvas.width())} × {int(self._canvas.height())}"
        box = QRectF(corner.x() + 6, corner.y() + 6, painter.fontMetrics().horizontalAdvance(label) + 12, 22)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(20, 22, 30, 200))
        painter.drawRoundedRect(box, 4, 4)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, label)
        painter.restore()


class OutpaintPreview(QObject):
    """Puts the source in the viewer with its new canvas; another image in the viewer takes the frame away."""

    def __init__(self, viewer: ImageViewer, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.viewer = viewer
        self.frame = OutpaintFrame()
        viewer.scene().addItem(self.frame)
        self._showing = False
        viewer.image_changed.connect(self._on_image_changed)

    @property
    def shown(self) -> bool:
        """True while the viewer shows the source on its new canvas."""
        return self.frame.isVisible()

    def show(self, image: QImage, extend: tuple[int, int, int, int]) -> None:
        """Show `image` on its canvas extended by (left, top, right, bottom) pixels."""
        if self.viewer.item.image.cacheKey() != image.cacheKey():
            self._showing = True
            try:
                self.viewer.set_image(image)
            finally:
                self._showing = False
        self.frame.set_extension(image.width(), image.height(), extend)
        self.frame.setVisible(True)
        self.viewer.set_extra_bounds(self.frame.canvas)

    def hide(self) -> None:
        """Take the frame away (the viewer shows the image alone)."""
        if self.frame.isVisible():
            self.frame.setVisible(False)
            self.viewer.set_extra_bounds(QRectF())

    def _on_image_changed(self, _width: int, _height: int) -> None:
        if not self._showing:
            self.hide()
