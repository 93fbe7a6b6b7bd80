"""The inpaint mask over the image: an 8-bit coverage image at image resolution, drawn as a tinted overlay."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image
from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

MASK_TINT = QColor(255, 64, 96)
MASK_OPACITY = 0.5


def _painter(image: QImage, erase: bool) -> QPainter:
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    if erase:
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Clear)
    return painter


class MaskLayer(QGraphicsItem):
    """Holds the mask (alpha 255 = repaint) and paints it; every edit returns the pixels it touched."""

    def __init__(self, parent: QGraphicsItem | None = None) -> None:
        super().__init__(parent)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)
        self.setZValue(1)
        # Alpha8 keeps a 4096² mask at 16 MB, and the raster engine paints into it directly.
        self._mask = QImage()

    @property
    def mask(self) -> QImage:
        """The coverage image (Format_Alpha8, image resolution)."""
        return self._mask

    def reset(self, width: int, height: int) -> None:
        """An empty mask of the image's size."""
        self.prepareGeometryChange()
        self._mask = QImage(width, height, QImage.Format.Format_Alpha8)
        self._mask.fill(0)
        self.update()

    def boundingRect(self) -> QRectF:
        """The image's rectangle (one unit per image pixel)."""
        return QRectF(0, 0, self._mask.width(), self._mask.height())

    # -- edits: each returns the rectangle it changed, clipped to the mask ------------------

    def stroke(self, start: QPointF, end: QPointF, size: float, erase: bool) -> QRect:
        """A round-capped segment of the brush (a dot when start == end)."""
        painter = _painter(self._mask, erase)
        if start == end:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QBrush(QColor(0, 0, 0, 255)))
            painter.drawEllipse(QRectF(start.x() - size / 2, start.y() - size / 2, size, size))
        else:
            painter.setPen(
                QPen(
                    QColor(0, 0, 0, 255),
                    size,
                    Qt.PenStyle.SolidLine,
                    Qt.PenCapStyle.RoundCap,
                    Qt.PenJoinStyle.RoundJoin,
                )
            )
            painter.drawLine(start, end)
        painter.end()
        margin = size / 2 + 2
        touched = QRectF(start, end).normalized().adjusted(-margin, -margin, margin, margin)
        return self._changed(touched.toAlignedRect())

    def fill_rect(self, rect: QRect, erase: bool) -> QRect:
        """Fill (or erase) a rectangle."""
        painter = _painter(self._mask, erase)
        painter.fillRect(rect, QColor(0, 0, 0, 255))
        painter.end()
        return self._changed(rect)

    def clear(self) -> QRect:
        """Erase everything."""
        self._mask.fill(0)
        return self._changed(self._mask.rect())

    def invert(self) -> QRect:
        """Repaint what was kept and keep what was repainted."""
        self._mask.invertPixels(QImage.InvertMode.InvertRgba)
        return self._changed(self._mask.rect())

    def write(self, rect: QRect, pixels: QImage) -> None:
        """Put saved pixels back (undo and redo)."""
        painter = QPainter(self._mask)
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
        painter.drawImage(rect.topLeft(), pixels)
        painter.end()
        self._changed(rect)

    def _changed(self, rect: QRect) -> QRect:
        clipped = rect.intersected(self._mask.rect())
        self.update(QRectF(clipped))  # only the touched part of the viewport repaints
        return clipped

    # -- reading -----------------------------------------------------------------------------

    def _values(self) -> np.ndarray:
        """The mask's pixels as a (height, width) uint8 array (a copy; each line's padding left out)."""
        mask = self._mask
        lines = np.frombuffer(bytes(mask.constBits()), np.uint8).reshape(mask.height(), mask.bytesPerLine())
        return lines[:, : mask.width()]

    def is_empty(self) -> bool:
        """True when nothing is marked for repainting."""
        return self._mask.isNull() or not self._values().any()

    def coverage(self) -> float:
        """The share of the image to repaint, 0..1 (grey counts partly)."""
        return 0.0 if self._mask.isNull() else float(self._values().mean()) / 255

    def png_bytes(self) -> bytes:
        """The mask as a PNG of an L image, for the request."""
        buffer = io.BytesIO()
        # zlib level 1: a 4096² mask is encoded in ~0.15 s when Generate is pressed (Qt's encoder takes ~0.35 s).
        Image.fromarray(np.ascontiguousarray(self._values()), "L").save(buffer, "PNG", compress_level=1)
        return buffer.getvalue()

    # -- drawing -----------------------------------------------------------------------------

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        """Tint only the exposed part, at screen resolution (cost follows the screen, not the image)."""
        if self._mask.isNull():
            return
        exposed = QRectF(option.exposedRect.toAlignedRect()).intersected(self.boundingRect())
        if exposed.isEmpty():
            return
        device = painter.worldTransform().mapRect(exposed).toAlignedRect()
        width, height = max(1, device.width()), max(1, device.height())
        tint = QImage(width, height, QImage.Format.Format_ARGB32_Premultiplied)
        tint.fill(MASK_TINT)
        layer = QPainter(tint)
        layer.setCompositionMode(QPainter.CompositionMode.CompositionMode_DestinationIn)
        layer.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, device.width() < exposed.width())
        layer.drawImage(QRectF(0, 0, width, height), self._mask, exposed)
        layer.end()
        painter.setOpacity(MASK_OPACITY)
        painter.drawImage(exposed, tint)
