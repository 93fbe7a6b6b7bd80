"""Export options: format, quality, metadata and destination folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from app.store.export import DEFAULT_TEMPLATE, TEMPLATE_FIELDS
from app.ui.widgets.combo import labelled_combo

_FORMATS = (("png", "PNG (lossless)"), ("jpeg", "JPEG"), ("webp", "WebP"))
_MIN_WIDTH = 620  # wide enough for a typical destination path to show whole


@dataclass(frozen=True)
class ExportOptions:
    """What the user chose in the export dialog."""

    folder: Path
    fmt: str = "png"
    quality: int = 95
    strip_metadata: bool = False
    name_template: str = DEFAULT_TEMPLATE


class ExportDialog(QDialog):
    """Asks how and where to export; `options()` reads the answer."""

    def __init__(
        self, count: int, folder: Path, parent: QWidget | None = None, previous: ExportOptions | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Export {count} image{'s' if count != 1 else ''}")
        self.setMinimumWidth(_MIN_WIDTH)
        self.format_combo = labelled_combo(_FORMATS, "Format")
        self.quality_spin = QSpinBox()
        self.quality_spin.setRange(1, 100)
        self.quality_spin.setValue(95)
        self.quality_spin.setAccessibleName("Quality")
        self.quality_spin.setToolTip("JPEG and WebP quality; PNG is always lossless")
        self.format_combo.currentIndexChanged.connect(
            lambda: self.quality_spin.setEnabled(self.format_combo.currentData() != "png")
        )
        self.quality_spin.setEnabled(False)
        if previous is not None:  # the last export's choices, so a second export is one click
            self.format_combo.setCurrentIndex(max(0, self.format_combo.findData(previous.fmt)))
            self.quality_spin.setValue(previous.quality)
        self.metadata_check = QCheckBox("Include prompt and settings")
        self.metadata_check.setChecked(True)
        self.metadata_check.setToolTip("Off writes pixels only, e.g. for clients")
        self.metadata_check.setChecked(previous is None or not previous.strip_metadata)
        self.name_edit = QLineEdit(previous.name_template if previous is not None else DEFAULT_TEMPLATE)
        self.name_edit.setAccessibleName("File name template")
        self.name_edit.setToolTip("Fields: " + ", ".join("{" + f + "}" for f in TEMPLATE_FIELDS))
        self.folder_edit = QLineEdit(str(folder))
        self.folder_edit.setAccessibleName("Destination folder")
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(browse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Format", self.format_combo)
        form.addRow("Quality", self.quality_spin)
        form.addRow("", self.metadata_check)
        form.addRow("File name", self.name_edit)
        form.addRow("Folder", folder_row)
        form.addRow(buttons)

    def options(self) -> ExportOptions:
        """The choices as an ExportOptions."""
        return ExportOptions(
            folder=Path(self.folder_edit.text()).expanduser(),
            fmt=self.format_combo.currentData(),
            quality=self.quality_spin.value(),
            strip_metadata=not self.metadata_check.isChecked(),
            name_template=self.name_edit.text().strip() or DEFAULT_TEMPLATE,
        )

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export to", self.folder_edit.text())
        if folder:
            self.folder_edit.setText(folder)
