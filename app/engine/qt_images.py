"""PIL images as QImages for the GUI: the engine's previews and the finished images the window shows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QImage

if TYPE_CHECKING:
    from PIL.Image import Image


def pil_to_qimage(image: Image) -> QImage:
    """A QImage that owns a copy of a PIL image's pixels, safe to hand between threads."""
    rgb = image.convert("RGB")
    data = rgb.tobytes()
    # QImage only borrows `data`; copy() detaches it before the bytes go away.
    return QImage(data, rgb.width, rgb.height, 3 * rgb.width, QImage.Format.Format_RGB888).copy()
