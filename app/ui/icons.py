"""Line icons from resources/icons, tinted with the theme's text colour and rendered crisp at any DPI."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

from app.core.resources import resources_dir
from app.ui.theme import current_colors

_SIZES = (16, 20, 24, 32, 48)


@cache
def _svg_text(name: str) -> str:
    path = resources_dir() / "icons" / f"{name}.svg"
    if not path.is_file():
        raise ValueError(f"icon {name!r} not found; expected {path}")
    return path.read_text(encoding="utf-8")


def _render(svg: str, size: int) -> QPixmap:
    # Render at 2× so the icon stays sharp on high-DPI screens; Qt picks the closest size.
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    image = QImage(size * 2, size * 2, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter, QRectF(0, 0, size * 2, size * 2))
    painter.end()
    pixmap = QPixmap.fromImage(image)
    pixmap.setDevicePixelRatio(2.0)
    return pixmap


def icon(name: str, color: str | None = None) -> QIcon:
    """The icon `name` (a file in resources/icons) drawn in `color`, or the theme's text colour."""
    colors = current_colors()
    normal = _svg_text(name).replace("currentColor", color or colors.text)
    disabled = _svg_text(name).replace("currentColor", QColor(colors.muted).name())
    result = QIcon()
    for size in _SIZES:
        result.addPixmap(_render(normal, size), QIcon.Mode.Normal)
        result.addPixmap(_render(disabled, size), QIcon.Mode.Disabled)
    return result


def app_icon() -> QIcon:
    """The application's own (full-colour) icon."""
    result = QIcon()
    for size in (16, 32, 48, 64, 128, 256):
        result.addPixmap(_render(_svg_text("app"), size))
    return result
