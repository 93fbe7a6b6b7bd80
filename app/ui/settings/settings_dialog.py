"""Settings: device, precision, text-encoder placement, VAE tiling, previews, output folder, theme."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from app.core.engine_options import DeviceChoice, EngineOptions, Precision, TextEncoderPlacement, VaeTiling
from app.engine.device_probe import device_availability
from app.ui.settings.preferences import Preferences
from app.ui.settings.server_settings import EngineLocationSettings
from app.ui.widgets.combo import labelled_combo
from app.ui.widgets.theme import Theme

# Keyed by (enum type, member): the str-valued enums' AUTO/CPU members compare equal across types.
_LABELS: dict[tuple[type[Enum], Enum], str] = {
    (DeviceChoice, DeviceChoice.AUTO): "Automatic (CUDA, then Apple GPU, then CPU)",
    (DeviceChoice, DeviceChoice.CUDA): "NVIDIA GPU (CUDA)",
    (DeviceChoice, DeviceChoice.MPS): "Apple GPU (MPS)",
    (DeviceChoice, DeviceChoice.CPU): "CPU (slow)",
    (Precision, Precision.AUTO): "Automatic (bf16 where supported)",
    (Precision, Precision.FP32): "fp32 (most exact, 2× memory)",
    (Precision, Precision.FP16): "fp16",
    (Precision, Precision.BF16): "bf16",
    (TextEncoderPlacement, TextEncoderPlacement.AUTO): "Automatic (by free memory)",
    (TextEncoderPlacement, TextEncoderPlacement.DEVICE): "With the model on the GPU",
    (TextEncoderPlacement, TextEncoderPlacement.CPU): "CPU (saves ~10 GB of GPU memory)",
    (TextEncoderPlacement, TextEncoderPlacement.INT8): "8-bit on the GPU",
    (VaeTiling, VaeTiling.AUTO): "Automatic (large images, or after running out of memory)",
    (VaeTiling, VaeTiling.ON): "Always",
    (VaeTiling, VaeTiling.OFF): "Never",
    (Theme, Theme.DARK): "Dark",
    (Theme, Theme.LIGHT): "Light",
    (Theme, Theme.SYSTEM): "Follow the system",
}


def _enum_combo(values: type[Enum], current: Enum, name: str, tip: str) -> QComboBox:
    combo = labelled_combo(((value, _LABELS.get((values, value), str(value.value))) for value in values), name, tip)
    combo.setCurrentIndex(combo.findData(current))
    return combo


def _grey_out_absent_devices(combo: QComboBox) -> None:
    """Devices this machine lacks stay listed, greyed, with the reason (the saved choice may still be one)."""
    model = combo.model()
    assert isinstance(model, QStandardItemModel)
    for device, reason in device_availability().items():
        if reason:
            item = model.item(combo.findData(device))
            item.setEnabled(False)
            item.setText(f"{item.text()} — {reason}")
            item.setToolTip(f"Not available on this machine: {reason}")


class SettingsDialog(QDialog):
    """Edits Preferences; OK writes them (and they are announced), Cancel leaves them."""

    def __init__(self, preferences: Preferences, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setObjectName("settingsDialog")
        self._preferences = preferences
        options = preferences.engine_options
        self.device = _enum_combo(DeviceChoice, options.device, "Device", "Where sampling runs")
        _grey_out_absent_devices(self.device)
        self.precision = _enum_combo(Precision, options.precision, "Precision", "Number format of the model")
        self.text_encoder = _enum_combo(
            TextEncoderPlacement, options.text_encoder, "Text encoder placement", "Where the T5 text encoder runs"
        )
        self.vae_tiling = _enum_combo(VaeTiling, options.vae_tiling, "VAE tiling", "Decode big images in tiles")
        self.preview_every = QSpinBox()
        self.preview_every.setRange(0, 50)
        self.preview_every.setValue(options.preview_every)
        self.preview_every.setSpecialValueText("Off")
        self.preview_every.setSuffix(" steps")
        self.preview_every.setAccessibleName("Live preview interval")
        self.preview_every.setToolTip("Show the image being formed every N steps (Off: no previews, slightly faster)")
        self.output_folder = QLineEdit(str(preferences.output_folder))
        self.output_folder.setAccessibleName("Output folder")
        self.output_folder.setToolTip("Where generated images and the gallery index are kept")
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.output_folder, 1)
        folder_row.addWidget(browse)
        self.theme = _enum_combo(Theme, preferences.theme, "Theme", "Dark suits judging images")
        self.server = EngineLocationSettings(preferences)
        note = QLabel(
            "Engine changes apply from the next image; a loaded model reloads with them. On a server, the "
            "server's own device and precision are used."
        )
        note.setProperty("role", "hint")
        note.setWordWrap(True)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow(self.server)
        form.addRow("Device", self.device)
        form.addRow("Precision", self.precision)
        form.addRow("Text encoder", self.text_encoder)
        form.addRow("VAE tiling", self.vae_tiling)
        form.addRow("Live preview", self.preview_every)
        form.addRow("Output folder", folder_row)
        form.addRow("Theme", self.theme)
        form.addRow(note)
        form.addRow(buttons)

    def engine_options(self) -> EngineOptions:
        """The engine options as chosen."""
        # Qt hands str-based enums back as plain strings, so convert them again.
        return EngineOptions(
            device=DeviceChoice(self.device.currentData()),
            precision=Precision(self.precision.currentData()),
            text_encoder=TextEncoderPlacement(self.text_encoder.currentData()),
            vae_tiling=VaeTiling(self.vae_tiling.currentData()),
            preview_every=self.preview_every.value(),
        )

    def accept(self) -> None:
        """Save every choice to the preferences; stays open when the server settings cannot be kept."""
        if not self.server.apply():
            return
        self._preferences.engine_options = self.engine_options()
        folder = self.output_folder.text().strip()
        if folder:
            self._preferences.output_folder = Path(folder).expanduser()
        self._preferences.theme = Theme(self.theme.currentData())
        super().accept()

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Output folder", self.output_folder.text())
        if folder:
            self.output_folder.setText(folder)
