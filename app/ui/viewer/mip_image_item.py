"""A QGraphicsItem that draws huge images fast: only the exposed part, from a cached level of a mip chain."""

from __future__ import annotations

import math

import shiboken6
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from app.ui.widgets.background import run_in_background

MIN_LEVEL_SIDE = 256  # stop halving when the longer side reaches this


def build_levels(image: QImage) -> list[QImage]:
    """Successive smooth halvings of `image` (level 1, 2, …), each made from the one before."""
    levels: list[QImage] = []
    current = image
    while max(current.width(), current.height()) > 2 * MIN_LEVEL_SIDE:
        current = current.scaled(
            max(1, current.width() // 2),
            max(1, current.height() // 2),
            Qt.AspectRatioMode.IgnoreAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        levels.append(current)
    return levels


def level_for_scale(device_scale: float, available: int) -> int:
    """The mip level to draw at a device scale: the smallest image still at least as large as the screen area.

    Level k is the image halved k times; it is drawn scaled by device_scale·2^k, which stays in (0.5, 1] so a
    smooth (bilinear) scale never skips source pixels.
    """
    if device_scale >= 1.0 or available <= 1:
        return 0
    return min(available - 1, max(0, math.floor(math.log2(1.0 / device_scale))))


class MipImageItem(QGraphicsItem):
    """Draws its image nearest-neighbour above 100% (pixels stay crisp), smooth from a mip level below."""

    def __init__(self, parent: QGraphicsItem | None = None) -> None:
        super().__init__(parent)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)
        self._levels: list[QImage] = [QImage()]
        self._generation = 0
        self.smooth_upscale = False  # fit-to-window may upscale smoothly; explicit zoom shows pixels
        self.last_level_drawn = -1
        self.last_smooth = False

    @property
    def image(self) -> QImage:
        """The full-resolution image."""
        return self._levels[0]

    @property
    def level_count(self) -> int:
        """How many levels are ready (1 until the background chain is built)."""
        return len(self._levels)

    def set_image(self, image: QImage, build_chain: bool = True) -> None:
        """Show `image`; the smaller levels are made on a worker thread and used once ready."""
        self.prepareGeometryChange()
        if image.format() not in (QImage.Format.Format_RGB32, QImage.Format.Format_ARGB32_Premultiplied):
            # The raster engine draws these two formats without per-paint conversion.
            target = (
                QImage.Format.Format_ARGB32_Premultiplied if image.hasAlphaChannel() else QImage.Format.Format_RGB32
            )
            image = image.convertToFormat(target)
        self._levels = [image]
        self._generation += 1
        generation = self._generation
        self.update()
        if build_chain and max(image.width(), image.height()) > 2 * MIN_LEVEL_SIDE:
            run_in_background(lambda: build_levels(image), lambda levels: self._on_levels(generation, levels))

    def wait_for_levels(self) -> None:
        """Build the levels now on this thread (tests and screenshots want a settled state)."""
        if len(self._levels) == 1 and not self.image.isNull():
            self._levels = [self.image, *build_levels(self.image)]

    def _on_levels(self, generation: int, levels: list[QImage]) -> None:
        if not shiboken6.isValid(self):
            return  # the viewer closed while the levels were being made
        if generation == self._generation and len(self._levels) == 1:
            self._levels = [self._levels[0], *levels]
            self.update()

    def boundingRect(self) -> QRectF:
        """The image's rectangle in scene units (one unit per image pixel)."""
        image = self._levels[0]
        return QRectF(0, 0, image.width(), image.height())

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        """Draw only the exposed rectangle, from the level that matches the current zoom."""
        full = self._levels[0]
        if full.isNull():
            return
        # Whole source pixels only, so nearest-neighbour blocks line up across partial repaints.
        exposed = QRectF(option.exposedRect.toAlignedRect()).intersected(self.boundingRect())
        if exposed.isEmpty():
            return
        device = painter.device()
        ratio = device.devicePixelRatioF() if device is not None else 1.0
        device_scale = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform()) * ratio
        level = level_for_scale(device_scale, len(self._levels))
        smooth = device_scale < 1.0 or self.smooth_upscale
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth)
        source_image = self._levels[level]
        sx = source_image.width() / full.width()
        sy = source_image.height() / full.height()
        source = QRectF(exposed.x() * sx, exposed.y() * sy, exposed.width() * sx, exposed.height() * sy)
        painter.drawImage(exposed, source_image, source)
        self.last_level_drawn, self.last_smooth = level, smooth
