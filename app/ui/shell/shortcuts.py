"""The keyboard shortcuts, listed once: the Help dialog shows this table."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

SHORTCUTS: tuple[tuple[str, str, str], ...] = (
    ("Generate", "Generate (or add to the queue)", "Ctrl+Enter"),
    ("Generate", "Cancel the running job (leave full screen first)", "Esc"),
    ("Generate", "New random seed", "Ctrl+R"),
    ("Generate", "Focus the prompt", "Ctrl+L"),
    ("Viewer", "Fit the image to the window", "F"),
    ("Viewer", "Actual pixels (100%)", "1"),
    ("Viewer", "Zoom in / out", "+ / −"),
    ("Viewer", "Zoom under the cursor", "Mouse wheel"),
    ("Viewer", "Pan", "Drag"),
    ("Viewer", "Toggle fit and 100%", "Double-click"),
    ("Viewer", "Full screen", "F11"),
    ("Gallery", "Search", "Ctrl+F"),
    ("Gallery", "Show or hide the image details", "Ctrl+I"),
    ("Gallery", "Copy the image", "Ctrl+C"),
    ("Gallery", "Delete (to the trash)", "Del"),
    ("Gallery", "Undo delete", "Ctrl+Z"),
    ("Gallery", "Export the selected images", "Ctrl+E"),
    ("Window", "Load settings from an image", "Ctrl+O"),
    ("Window", "Models", "Ctrl+M"),
    ("Window", "Settings", "Ctrl+,"),
    ("Window", "Keyboard shortcuts", "F1"),
    ("Window", "Quit", "Ctrl+Q"),
)


class ShortcutsDialog(QDialog):
    """Help → Keyboard shortcuts."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.resize(520, 560)
        table = QTableWidget(len(SHORTCUTS), 3)
        table.setObjectName("shortcutsTable")
        table.setHorizontalHeaderLabels(("Where", "Action", "Keys"))
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        table.setShowGrid(False)
        for row, cells in enumerate(SHORTCUTS):
            for column, text in enumerate(cells):
                table.setItem(row, column, QTableWidgetItem(text))
        table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        table.resizeColumnToContents(0)
        table.resizeColumnToContents(2)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(table)
        layout.addWidget(buttons)
