"""Undoable mask edits: each keeps the pixels of the rectangle it changed, before and after."""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtGui import QImage, QUndoCommand

from app.ui.viewer.mask_layer import MaskLayer


class MaskEdit(QUndoCommand):
    """One stroke, rectangle, clear or invert, already applied when it is pushed."""

    def __init__(self, layer: MaskLayer, rect: QRect, before: QImage, text: str) -> None:
        super().__init__(text)
        self._layer, self._rect = layer, rect
        self._before = before
        self._after = layer.mask.copy(rect)

    def undo(self) -> None:
        """Put the earlier pixels back."""
        self._layer.write(self._rect, self._before)

    def redo(self) -> None:
        """Put the edited pixels back (a no-op when first pushed)."""
        self._layer.write(self._rect, self._after)
