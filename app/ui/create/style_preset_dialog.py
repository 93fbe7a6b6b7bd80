"""Edit the style presets: add, rename, rewrite, remove, reset to the built-in ones."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.styles import DEFAULT_STYLES, StylePreset
from app.ui.create.style_presets import StylePresets

_LIST_PADDING = 24  # room for a vertical scroll bar and the item margins


class StylePresetDialog(QDialog):
    """A list on the left, name and text on the right; Save writes the presets file."""

    def __init__(self, styles: StylePresets, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Style presets")
        self.resize(640, 400)
        self._styles = styles
        self._presets: list[StylePreset] = styles.presets
        self.list = QListWidget()
        self.list.setAccessibleName("Style presets")
        self.name_edit = QLineEdit()
        self.name_edit.setAccessibleName("Style name")
        self.text_edit = QPlainTextEdit()
        self.text_edit.setAccessibleName("Text added to the prompt")
        self.name_edit.textEdited.connect(self._store)
        self.text_edit.textChanged.connect(self._store)
        self.list.currentRowChanged.connect(self._show)
        add = QPushButton("Add")
        add.clicked.connect(self._add)
        remove = QPushButton("Remove")
        remove.clicked.connect(self._remove)
        reset = QPushButton("Reset to built-in")
        reset.clicked.connect(self._reset)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)

        editor = QVBoxLayout()
        editor.addWidget(QLabel("Name"))
        editor.addWidget(self.name_edit)
        editor.addWidget(QLabel("Added to the prompt"))
        editor.addWidget(self.text_edit, 1)
        body = QHBoxLayout()
        body.addWidget(self.list, 1)
        body.addLayout(editor, 2)
        row = QHBoxLayout()
        row.addWidget(add)
        row.addWidget(remove)
        row.addWidget(reset)
        row.addStretch(1)
        row.addWidget(buttons)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addLayout(row)
        self._fill()
        # Wide enough for the longest name (no clipped names, no sideways scrolling).
        self.list.setMinimumWidth(self.list.sizeHintForColumn(0) + 2 * self.list.frameWidth() + _LIST_PADDING)
        self.resize(max(self.width(), self.list.minimumWidth() * 3), self.height())

    def accept(self) -> None:
        """Save the edited presets (saying so when the file could not be written)."""
        self._styles.set_presets(self._presets)  # a refused save is announced by Preferences.save_failed
        super().accept()

    def _fill(self, current: int = 0) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        self.list.addItems([preset.name for preset in self._presets])
        self.list.blockSignals(False)
        if self._presets:
            self.list.setCurrentRow(min(current, len(self._presets) - 1))
            self._show(self.list.currentRow())

    def _show(self, row: int) -> None:
        if 0 <= row < len(self._presets):
            self.name_edit.blockSignals(True)
            self.text_edit.blockSignals(True)
            self.name_edit.setText(self._presets[row].name)
            self.text_edit.setPlainText(self._presets[row].text)
            self.name_edit.blockSignals(False)
            self.text_edit.blockSignals(False)

    def _store(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self._presets):
            self._presets[row] = StylePreset(self.name_edit.text(), self.text_edit.toPlainText())
            self.list.item(row).setText(self.name_edit.text())

    def _add(self) -> None:
        self._presets.append(StylePreset("New style", "describe the look"))
        self._fill(len(self._presets) - 1)
        self.name_edit.setFocus()
        self.name_edit.selectAll()

    def _remove(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self._presets):
            del self._presets[row]
            self._fill(row)

    def _reset(self) -> None:
        self._presets = list(DEFAULT_STYLES)
        self._fill()
