"""Line icons from resources/icons, tinted with the theme's text colour and rendered crisp at any DPI."""

from __future__ import annotations

from functools import cache, lru_cache

from PySide6.QtCore import QByteArray, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QIconEngine, QImage, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

from app.core.resources import resources_dir
from app.ui.widgets.theme import current_colors


@cache
def _svg_text(name: str) -> str:
    path = resources_dir() / "icons" / f"{name}.svg"
    if not path.is_file():
        raise ValueError(f"icon {name!r} not found; expected {path}")
    return path.read_text(encoding="utf-8")


@lru_cache(maxsize=512)
def _render(svg: str, size: int, scale: float = 2.0) -> QPixmap:
    """`svg` as a `size`-point pixmap drawn at `scale` device pixels per point (crisp on high-DPI screens)."""
    pixels = max(1, round(size * scale))
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    image = QImage(pixels, pixels, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter, QRectF(0, 0, pixels, pixels))
    painter.end()
    pixmap = QPixmap.fromImage(image)
    pixmap.setDevicePixelRatio(scale)
    return pixmap


class _ThemedIconEngine(QIconEngine):
    """Draws a line icon in the colours of the theme applied when it is painted, so a theme switch re-tints
    every icon already on screen (a pixmap icon would keep the old theme's colour until a restart)."""

    def __init__(self, name: str, color: str | None) -> None:
        super().__init__()
        self._name = name
        self._color = color  # None: the theme's text colour

    def _svg(self, mode: QIcon.Mode) -> str:
        colors = current_colors()
        tint = QColor(colors.muted).name() if mode == QIcon.Mode.Disabled else self._color or colors.text
        return _svg_text(self._name).replace("currentColor", tint)

    def scaledPixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State, scale: float) -> QPixmap:
        return _render(self._svg(mode), min(size.width(), size.height()), scale)

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        return self.scaledPixmap(size, mode, state, 1.0)

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        scale = painter.device().devicePixelRatioF() if painter.device() is not None else 1.0
        painter.drawPixmap(rect, self.scaledPixmap(rect.size(), mode, state, scale))

    def clone(self) -> QIconEngine:
        return _ThemedIconEngine(self._name, self._color)


def icon(name: str, color: str | None = None) -> QIcon:
    """The icon `name` (a file in resources/icons) drawn in `color`, or in the current theme's text colour."""
    _svg_text(name)  # a missing file is an error here, not a blank icon later
    return QIcon(_ThemedIconEngine(name, color))


def app_icon() -> QIcon:
    """The application's own (full-colour) icon."""
    result = QIcon()
    for size in (16, 32, 48, 64, 128, 256):
        result.addPixmap(_render(_svg_text("app"), size))
    return result
