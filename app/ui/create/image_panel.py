"""The mode switch (Text / Image / Inpaint / Outpaint / Upscale), the source and the controls of the chosen mode."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.request import MAX_MASK_BLUR, MAX_MASKED_PADDING
from app.core.sizes import MAX_SIDE, MIN_SIDE
from app.core.source_image import GenerationMode, SourceImage
from app.ui.create.image_state import EXTEND_ASPECTS, ExtendBy, ImageSettings, UpscaleTarget
from app.ui.widgets.combo import labelled_combo
from app.ui.widgets.icons import icon

THUMB = 64
_MODES = (
    (GenerationMode.TEXT, "Text", "A new image from the prompt alone"),
    (GenerationMode.IMAGE_TO_IMAGE, "Image", "Image to image: redraw the source guided by the prompt"),
    (GenerationMode.INPAINT, "Inpaint", "Repaint the area you paint on the image; the rest stays"),
    (GenerationMode.OUTPAINT, "Outpaint", "Extend the canvas and continue the picture into the new area"),
    (GenerationMode.UPSCALE, "Upscale", "Make the source larger, up to 4K and beyond, refining its detail"),
)
_UPSCALE_TARGETS = (
    (UpscaleTarget.DOUBLE, "2× the source"),
    (UpscaleTarget.TIER_2K, "2K (about 2048² pixels)"),
    (UpscaleTarget.TIER_4K, "4K (about 4096² pixels)"),
    (UpscaleTarget.CUSTOM, "Custom size"),
)
_SIDES = ("Left", "Top", "Right", "Bottom")


def _spin(low: int, high: int, name: str, tip: str, suffix: str = " px") -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setSuffix(suffix)
    spin.setAccessibleName(name)
    spin.setToolTip(tip)
    return spin


def _row(*widgets: QWidget) -> QHBoxLayout:
    row = QHBoxLayout()
    row.setSpacing(6)
    for widget in widgets:
        row.addWidget(widget)
    return row


class ImagePanel(QWidget):
    """Binds to ImageSettings; asks the window for a source (file, clipboard) through signals."""

    choose_source_requested = Signal()
    paste_source_requested = Signal()
    show_source_requested = Signal()  # the window shows the source in the viewer (and its mask or canvas)

    def __init__(self, settings: ImageSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("imagePanel")
        self._settings = settings
        title = QLabel("START FROM")
        title.setProperty("role", "section")

        self.mode_buttons: dict[GenerationMode, QToolButton] = {}
        group = QButtonGroup(self)
        modes = QHBoxLayout()
        modes.setSpacing(3)
        for mode, text, tip in _MODES:
            button = QToolButton()
            button.setText(text)
            button.setCheckable(True)
            button.setToolTip(tip)
            button.setAccessibleName(f"Mode: {mode.label}")
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            button.setStyleSheet("padding: 4px 0px;")  # five names in the side panel's width, none cut
            button.setMinimumWidth(button.sizeHint().width())
            button.clicked.connect(lambda _checked=False, m=mode: setattr(settings, "mode", m))
            group.addButton(button)
            modes.addWidget(button, button.sizeHint().width())  # wider names get the wider buttons
            self.mode_buttons[mode] = button

        self.source_widget = self._source_row()
        self.strength_row, self.strength_slider, self.strength_value = self._strength_row()
        self.same_size_check = self._same_size_check()
        self.inpaint_widget = self._inpaint_controls()
        self.outpaint_widget = self._outpaint_controls()
        self.upscale_widget = self._upscale_controls()
        self.description = QLabel()
        self.description.setObjectName("jobDescription")
        self.description.setProperty("role", "hint")
        self.description.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(title)
        layout.addLayout(modes)
        for widget in (
            self.source_widget,
            self.strength_row,
            self.same_size_check,
            self.inpaint_widget,
            self.outpaint_widget,
            self.upscale_widget,
            self.description,
        ):
            layout.addWidget(widget)

        settings.changed.connect(self._refresh)
        settings.source_changed.connect(self._show_source)
        settings.strength_changed.connect(self._show_strength)
        self._show_source(settings.source)
        self._show_strength(settings.strength)
        self._refresh()

    # -- rows --------------------------------------------------------------------------------

    def _source_row(self) -> QWidget:
        widget = QWidget()
        self.thumbnail = QToolButton()
        self.thumbnail.setObjectName("sourceThumbnail")
        self.thumbnail.setFixedSize(THUMB + 6, THUMB + 6)
        self.thumbnail.setIconSize(self.thumbnail.size() - self.thumbnail.size() / 10)
        self.thumbnail.setToolTip("Show the source in the viewer")
        self.thumbnail.setAccessibleName("Source image")
        self.thumbnail.clicked.connect(self.show_source_requested)
        self.source_name = QLabel()
        self.source_name.setObjectName("sourceName")
        self.source_name.setWordWrap(True)
        self.source_size = QLabel()
        self.source_size.setProperty("role", "hint")
        choose = QToolButton()
        choose.setIcon(icon("folder"))
        choose.setToolTip("Choose a source image file…")
        choose.setAccessibleName("Choose a source image")
        choose.clicked.connect(self.choose_source_requested)
        paste = QToolButton()
        paste.setIcon(icon("copy"))
        paste.setToolTip("Paste the image on the clipboard as the source (Ctrl+Shift+V)")
        paste.setAccessibleName("Paste the source image")
        paste.clicked.connect(self.paste_source_requested)
        self.clear_source_button = QToolButton()
        self.clear_source_button.setIcon(icon("close"))
        self.clear_source_button.setToolTip("Stop working from this image (back to text)")
        self.clear_source_button.setAccessibleName("Remove the source image")
        self.clear_source_button.clicked.connect(self._settings.clear_source)
        text = QVBoxLayout()
        text.setSpacing(2)
        text.addStretch(1)
        text.addWidget(self.source_name)
        text.addWidget(self.source_size)
        text.addStretch(1)
        buttons = QVBoxLayout()
        buttons.setSpacing(2)
        buttons.addWidget(choose)
        buttons.addWidget(paste)
        buttons.addWidget(self.clear_source_button)
        row = QHBoxLayout(widget)
        row.setContentsMargins(0, 2, 0, 2)
        row.setSpacing(10)
        row.addWidget(self.thumbnail)
        row.addLayout(text, 1)
        row.addLayout(buttons)
        return widget

    def _strength_row(self) -> tuple[QWidget, QSlider, QLabel]:
        widget = QWidget()
        slider = QSlider(Qt.Orientation.Horizontal)
        slider.setRange(5, 100)
        slider.setAccessibleName("Strength")
        slider.setToolTip("How much may change: low keeps the source's colours and layout, 1.0 ignores its content")
        slider.valueChanged.connect(lambda value: setattr(self._settings, "strength", value / 100))
        value = QLabel()
        value.setMinimumWidth(32)
        row = QHBoxLayout(widget)
        row.setContentsMargins(0, 0, 0, 0)
        label = QLabel("Strength")
        label.setMinimumWidth(70)
        row.addWidget(label)
        row.addWidget(slider, 1)
        row.addWidget(value)
        return widget, slider, value

    def _same_size_check(self) -> QCheckBox:
        check = QCheckBox("Same size as the source")
        check.setObjectName("keepSourceSize")
        check.setToolTip("Off: choose another size below; the source is resized and cropped to it")
        check.toggled.connect(lambda on: setattr(self._settings, "keep_source_size", on))
        self._settings.keep_source_size_changed.connect(check.setChecked)
        return check

    def _inpaint_controls(self) -> QWidget:
        widget = QWidget()
        settings = self._settings
        self.mask_blur_spin = _spin(0, MAX_MASK_BLUR, "Mask blur", "Feather the seam between new and kept pixels")
        self.mask_blur_spin.valueChanged.connect(lambda value: setattr(settings, "mask_blur", value))
        settings.mask_blur_changed.connect(self.mask_blur_spin.setValue)
        self.masked_only_check = QCheckBox("Masked area only")
        self.masked_only_check.setToolTip(
            "Work on a box around the mask at the model's size and paste it back: a small fix in a 4K image costs "
            "a native-size job and keeps full detail"
        )
        self.masked_only_check.toggled.connect(lambda on: setattr(settings, "masked_only", on))
        settings.masked_only_changed.connect(self.masked_only_check.setChecked)
        self.padding_spin = _spin(0, MAX_MASKED_PADDING, "Padding", "Context around the mask's box, in pixels")
        self.padding_spin.setPrefix("padding ")
        self.padding_spin.valueChanged.connect(lambda value: setattr(settings, "masked_padding", value))
        settings.masked_padding_changed.connect(self.padding_spin.setValue)
        settings.masked_only_changed.connect(self.padding_spin.setEnabled)
        self.paint_hint = QLabel("Paint the area to change on the image (right-drag erases).")
        self.paint_hint.setProperty("role", "hint")
        self.paint_hint.setWordWrap(True)
        blur_label = QLabel("Mask blur")
        blur_label.setMinimumWidth(70)
        blur = _row(blur_label, self.mask_blur_spin)
        blur.addStretch(1)
        masked = _row(self.masked_only_check)
        masked.addStretch(1)
        masked.addWidget(self.padding_spin)
        column = QVBoxLayout(widget)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(6)
        column.addLayout(blur)
        column.addLayout(masked)
        column.addWidget(self.paint_hint)
        return widget

    def _outpaint_controls(self) -> QWidget:
        widget = QWidget()
        settings = self._settings
        self.extend_by_combo = labelled_combo(
            ((ExtendBy.ASPECT, "To an aspect ratio"), (ExtendBy.PIXELS, "By pixels per side")),
            "Extend",
            "Reach an aspect ratio (the source stays centred) or add pixels on each side",
        )
        self.extend_by_combo.currentIndexChanged.connect(
            lambda index: setattr(settings, "extend_by", self.extend_by_combo.itemData(index))
        )
        self.extend_aspect_combo = labelled_combo(
            tuple((preset.name, preset.name) for preset in EXTEND_ASPECTS), "Aspect", "The new canvas' aspect ratio"
        )
        self.extend_aspect_combo.currentIndexChanged.connect(
            lambda index: setattr(settings, "extend_aspect", self.extend_aspect_combo.itemData(index))
        )
        self.side_spins: list[QSpinBox] = []
        sides = QGridLayout()
        sides.setHorizontalSpacing(6)
        sides.setVerticalSpacing(4)
        for index, side in enumerate(_SIDES):
            spin = _spin(0, MAX_SIDE, f"Extend {side.lower()}", f"New pixels on the {side.lower()}")
            spin.setSingleStep(64)
            spin.valueChanged.connect(self._on_side_changed)
            self.side_spins.append(spin)
            sides.addWidget(QLabel(side), index // 2, 2 * (index % 2))
            sides.addWidget(spin, index // 2, 2 * (index % 2) + 1)
        self.sides_widget = QWidget()
        self.sides_widget.setLayout(sides)
        sides.setContentsMargins(0, 0, 0, 0)
        column = QVBoxLayout(widget)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(6)
        column.addLayout(_row(self.extend_by_combo, self.extend_aspect_combo))
        column.addWidget(self.sides_widget)
        settings.extend_pixels_changed.connect(self._show_sides)
        return widget

    def _upscale_controls(self) -> QWidget:
        widget = QWidget()
        settings = self._settings
        self.upscale_combo = labelled_combo(_UPSCALE_TARGETS, "Upscale to", "The size to make, keeping the aspect")
        self.upscale_combo.currentIndexChanged.connect(
            lambda index: setattr(settings, "upscale_target", self.upscale_combo.itemData(index))
        )
        self.upscale_width = _spin(MIN_SIDE, MAX_SIDE, "Upscale width", "Width of the upscaled image")
        self.upscale_height = _spin(MIN_SIDE, MAX_SIDE, "Upscale height", "Height of the upscaled image")
        self.upscale_width.valueChanged.connect(lambda value: setattr(settings, "upscale_width", value))
        self.upscale_height.valueChanged.connect(lambda value: setattr(settings, "upscale_height", value))
        settings.upscale_width_changed.connect(self.upscale_width.setValue)
        settings.upscale_height_changed.connect(self.upscale_height.setValue)
        self.custom_size = _row_widget(self.upscale_width, QLabel("×"), self.upscale_height)
        column = QVBoxLayout(widget)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(6)
        column.addWidget(self.upscale_combo)
        column.addWidget(self.custom_size)
        return widget

    # -- showing the state -------------------------------------------------------------------

    def _show_source(self, source: SourceImage | None) -> None:
        settings = self._settings
        has = source is not None
        self.clear_source_button.setEnabled(has)
        if has and not settings.source_image.isNull():
            thumb = QPixmap.fromImage(settings.source_image).scaled(
                THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
            )
            self.thumbnail.setIcon(thumb)
            self.thumbnail.setIconSize(thumb.size())
            self.source_name.setText(settings.source_name or "Source image")
            self.source_size.setText(f"{source.width} × {source.height} px")  # type: ignore[union-attr]
        else:
            self.thumbnail.setIcon(icon("image"))
            self.thumbnail.setIconSize(self.thumbnail.size() / 2)
            self.source_name.setText("No source image")
            self.source_size.setText("Use as source from the gallery, or drop, paste or choose one")

    def _show_strength(self, strength: float) -> None:
        self.strength_slider.setValue(round(strength * 100))
        self.strength_value.setText(f"{strength:.2f}")

    def _show_sides(self, sides: tuple[int, int, int, int]) -> None:
        for spin, value in zip(self.side_spins, sides, strict=True):
            spin.blockSignals(True)
            spin.setValue(value)
            spin.blockSignals(False)

    def _on_side_changed(self, _value: int) -> None:
        self._settings.extend_pixels = tuple(spin.value() for spin in self.side_spins)

    def _refresh(self) -> None:
        settings = self._settings
        mode = settings.mode
        self.mode_buttons[mode].setChecked(True)
        self.source_widget.setVisible(mode.needs_source)
        self.strength_row.setVisible(mode in (GenerationMode.IMAGE_TO_IMAGE, GenerationMode.UPSCALE))
        self.same_size_check.setVisible(mode is GenerationMode.IMAGE_TO_IMAGE)
        self.same_size_check.setChecked(settings.keep_source_size)
        self.inpaint_widget.setVisible(mode is GenerationMode.INPAINT)
        self.outpaint_widget.setVisible(mode is GenerationMode.OUTPAINT)
        self.upscale_widget.setVisible(mode is GenerationMode.UPSCALE)
        for combo, value in (
            (self.extend_by_combo, settings.extend_by),
            (self.extend_aspect_combo, settings.extend_aspect),
            (self.upscale_combo, settings.upscale_target),
        ):
            combo.blockSignals(True)
            combo.setCurrentIndex(max(0, combo.findData(value)))
            combo.blockSignals(False)
        by_aspect = settings.extend_by is ExtendBy.ASPECT
        self.extend_aspect_combo.setVisible(by_aspect)
        self.sides_widget.setVisible(not by_aspect)
        self._show_sides(settings.extend_pixels)
        self.custom_size.setVisible(settings.upscale_target is UpscaleTarget.CUSTOM)
        for spin, value in ((self.mask_blur_spin, settings.mask_blur), (self.padding_spin, settings.masked_padding)):
            spin.blockSignals(True)
            spin.setValue(value)
            spin.blockSignals(False)
        self.masked_only_check.setChecked(settings.masked_only)
        self.padding_spin.setEnabled(settings.masked_only)
        self.upscale_width.setValue(settings.upscale_width)
        self.upscale_height.setValue(settings.upscale_height)
        self.description.setText(settings.describe())
        self.description.setVisible(mode.needs_source)


def _row_widget(*widgets: QWidget) -> QWidget:
    holder = QWidget()
    row = _row(*widgets)
    row.setContentsMargins(0, 0, 0, 0)
    holder.setLayout(row)
    return holder
