"""The status bar: messages on the left; model, image size, zoom and the pixel under the cursor on the right."""

from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from app.engine.jobs import ModelState, ModelStatus

_MESSAGE_MS = 6000


class StudioStatusBar(QStatusBar):
    """Slots named after what they show; the window connects the viewer and controller to them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizeGripEnabled(False)
        self.pixel_label = QLabel()
        self.pixel_label.setObjectName("pixelLabel")
        self.pixel_label.setAccessibleName("Pixel under the cursor")
        self.pixel_label.setToolTip("Image coordinates and colour under the cursor")
        # Room for the widest readout, so the status bar does not jump as the cursor moves.
        widest = "x 8192  y 8192  ■ #ffffff  rgb(255, 255, 255)"
        self.pixel_label.setMinimumWidth(self.pixel_label.fontMetrics().horizontalAdvance(widest) + 12)
        self.size_label = QLabel()
        self.size_label.setObjectName("imageSizeLabel")
        self.size_label.setAccessibleName("Image size")
        self.zoom_label = QLabel()
        self.zoom_label.setObjectName("zoomLabel")
        self.zoom_label.setAccessibleName("Zoom")
        self.zoom_label.setToolTip("100% shows one image pixel per screen pixel")
        self.model_label = QLabel()
        self.model_label.setObjectName("modelLabel")
        self.model_label.setAccessibleName("Model status")
        for label in (self.pixel_label, self.size_label, self.zoom_label, self.model_label):
            self.addPermanentWidget(label)

    def show_message(self, text: str) -> None:
        """A message that fades after a few seconds."""
        self.showMessage(text, _MESSAGE_MS)

    def show_pixel(self, x: int, y: int, color: QColor | None) -> None:
        """'x 120  y 48  ■ #a3b2c1' or nothing when the cursor is off the image."""
        if x < 0 or color is None:
            self.pixel_label.setText("")
            return
        hex_code = color.name()
        self.pixel_label.setText(
            f"x {x}  y {y}  <span style='color:{hex_code}'>■</span> {hex_code}  "
            f"rgb({color.red()}, {color.green()}, {color.blue()})"
        )

    def show_size(self, width: int, height: int) -> None:
        """'3840 × 2160 px'."""
        self.size_label.setText(f"{width} × {height} px" if width else "")

    def show_zoom(self, percent: float) -> None:
        """'Zoom 150%'."""
        self.zoom_label.setText(f"Zoom {percent:.0f}%" if percent >= 1 else f"Zoom {percent:.1f}%")

    def show_model(self, status: ModelStatus) -> None:
        """Model name and state, e.g. 'demo · ready'."""
        name = status.name or status.model
        state = {
            ModelState.UNLOADED: "not loaded",
            ModelState.LOADING: f"loading {status.fraction:.0%}",
            ModelState.READY: "ready",
            ModelState.FAILED: "failed",
        }[status.state]
        # A demo model is marked unless its name already says so ("PixArt Studio demo (shapes world)").
        demo = " (demo)" if status.is_demo and "demo" not in name.lower() else ""
        self.model_label.setText(f"● {name}{demo} · {state}")
        self.model_label.setToolTip(status.message or name)
