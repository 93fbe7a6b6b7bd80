"""Draws a gallery cell: the thumbnail, rounded, with a selection ring and a favourite star."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from app.ui.gallery.gallery_model import FAVOURITE_ROLE, LINEAGE_ROLE, THUMBNAIL_ROLE
from app.ui.widgets.icons import icon

CELL = 132  # thumbnail cell side in logical pixels
_PADDING = 4
_RADIUS = 6


class GalleryDelegate(QStyledItemDelegate):
    """Square cells; the whole image is shown, so a poster's proportions stay visible."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._star = icon("star-filled", "#f2c94c")

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        """Every cell is the same size (the view uses uniform sizes)."""
        return QSize(CELL, CELL)

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        """Thumbnail (or a placeholder while it loads), ring when selected, star when favourite."""
        pal = option.palette
        cell = QRectF(option.rect).adjusted(_PADDING, _PADDING, -_PADDING, -_PADDING)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        image = index.data(THUMBNAIL_ROLE)
        frame = cell
        if image is not None and not image.isNull():
            ratio = option.widget.devicePixelRatioF() if option.widget is not None else 1.0
            target = QSize(image.width(), image.height()).scaled(
                (cell.size() * ratio).toSize(), Qt.AspectRatioMode.KeepAspectRatio
            )
            frame = QRectF(0, 0, target.width() / ratio, target.height() / ratio)
            frame.moveCenter(cell.center())
            clip = QPainterPath()
            clip.addRoundedRect(frame, _RADIUS, _RADIUS)
            painter.setClipPath(clip)
            painter.drawImage(frame, image)
            painter.setClipping(False)
        else:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(pal.color(QPalette.ColorRole.Base))
            painter.drawRoundedRect(cell, _RADIUS, _RADIUS)
            painter.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(cell, Qt.AlignmentFlag.AlignCenter, "…")
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hovered = bool(option.state & QStyle.StateFlag.State_MouseOver)
        if selected or hovered:
            ring = QColor(pal.color(QPalette.ColorRole.Highlight))
            if not selected:
                ring.setAlpha(120)
            painter.setPen(QPen(ring, 3 if selected else 1.5))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(frame.adjusted(1, 1, -1, -1), _RADIUS, _RADIUS)
        if index.data(FAVOURITE_ROLE):
            badge = QRectF(frame.right() - 24, frame.top() + 4, 20, 20)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(0, 0, 0, 140))
            painter.drawEllipse(badge)
            self._star.paint(painter, badge.adjusted(3, 3, -3, -3).toRect())
        lineage = index.data(LINEAGE_ROLE)
        if lineage is not None:
            self._paint_lineage(painter, frame, lineage.mode.label)
        painter.restore()

    def _paint_lineage(self, painter: QPainter, frame: QRectF, label: str) -> None:
        """A small tag at the bottom left naming the mode an image was made with (it has a source)."""
        font = painter.font()
        font.setPointSizeF(max(6.5, font.pointSizeF() * 0.75))
        painter.setFont(font)
        width = painter.fontMetrics().horizontalAdvance(label) + 10
        tag = QRectF(frame.left() + 4, frame.bottom() - 20, min(width, frame.width() - 8), 16)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 160))
        painter.drawRoundedRect(tag, 4, 4)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(tag, Qt.AlignmentFlag.AlignCenter, label)
