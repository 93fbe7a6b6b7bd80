"""Image files carried by a drag from a file manager: what the gallery and the viewer accept."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QDragEnterEvent, QDropEvent

from app.store.files import IMAGE_SUFFIXES


def dropped_images(event: QDragEnterEvent | QDropEvent) -> list[Path]:
    """Local image files carried by a drag."""
    mime = event.mimeData()
    if not mime.hasUrls():
        return []
    paths = [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
    return [path for path in paths if path.suffix.lower() in IMAGE_SUFFIXES]
