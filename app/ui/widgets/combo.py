"""A combo box of (value, label) choices with its accessible name and tooltip: every choice list in the app."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtWidgets import QComboBox


def labelled_combo(items: Iterable[tuple[object, str]], name: str, tip: str = "") -> QComboBox:
    """Each label shown, its value kept as item data (read back with `currentData()`)."""
    combo = QComboBox()
    for value, text in items:
        combo.addItem(text, value)
    combo.setAccessibleName(name)
    if tip:
        combo.setToolTip(tip)
    return combo
