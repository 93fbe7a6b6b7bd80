"""The Settings dialog: each option's own text."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox
from pytestqt.qtbot import QtBot

from app.application import Studio
from app.core.engine_options import DeviceChoice
from app.ui.settings import settings_dialog
from app.ui.settings.settings_dialog import SettingsDialog


def _texts(combo: QComboBox) -> list[str]:
    return [combo.itemText(i) for i in range(combo.count())]


def test_each_choice_shows_its_own_label(qtbot: QtBot, studio: Studio) -> None:
    """Device, Precision and Text encoder show their own Automatic/CPU texts, not VAE tiling's."""
    dialog = SettingsDialog(studio.preferences, studio.window)
    qtbot.addWidget(dialog)
    assert _texts(dialog.device)[0].startswith("Automatic (CUDA")
    assert "CPU (slow)" in _texts(dialog.device)
    assert _texts(dialog.precision)[0] == "Automatic (bf16 where supported)"
    assert _texts(dialog.text_encoder)[0] == "Automatic (by free memory)"
    assert _texts(dialog.vae_tiling)[0].startswith("Automatic (large images")
    assert len({dialog.device.itemText(0), dialog.precision.itemText(0), dialog.text_encoder.itemText(0)}) == 3


def test_absent_devices_are_greyed_with_the_reason(qtbot: QtBot, studio: Studio, monkeypatch) -> None:
    """On a machine without CUDA or Apple silicon those devices cannot be picked, and say why."""
    monkeypatch.setattr(
        settings_dialog,
        "device_availability",
        lambda: {
            DeviceChoice.AUTO: "",
            DeviceChoice.CUDA: "no GPU driver found",
            DeviceChoice.MPS: "",
            DeviceChoice.CPU: "",
        },
    )
    dialog = SettingsDialog(studio.preferences, studio.window)
    qtbot.addWidget(dialog)
    model = dialog.device.model()
    cuda = model.item(dialog.device.findData(DeviceChoice.CUDA))
    assert not cuda.isEnabled() and "no GPU driver found" in cuda.text()
    assert all(
        model.item(dialog.device.findData(d)).isEnabled()
        for d in (DeviceChoice.AUTO, DeviceChoice.MPS, DeviceChoice.CPU)
    )
