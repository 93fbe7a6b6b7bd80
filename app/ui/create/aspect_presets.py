"""Size picker: aspect-ratio buttons drawn to their proportions, exact wallpaper/print sizes, custom pixels, tier."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette, QPen, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractButton,
    QButtonGroup,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSpinBox,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.presets import ASPECT_PRESETS, EXACT_PRESETS, AspectPreset, PresetKind
from app.core.sizes import MAX_SIDE, MIN_SIDE, tiers
from app.ui.create.state import GenerationSettings, SizeMode
from app.ui.widgets.icons import icon

_COLUMNS = 6
_TYPABLE_SIDE = 99999
_KIND_TITLES = {
    PresetKind.WALLPAPER: "Wallpapers",
    PresetKind.PHONE: "Phones",
    PresetKind.PRINT: "Print, 300 DPI",
}
_MODE_LABELS = ((SizeMode.ASPECT, "Aspect"), (SizeMode.EXACT, "Wallpaper && print"), (SizeMode.CUSTOM, "Custom"))


class RatioButton(QAbstractButton):
    """A checkable button that draws its aspect ratio as a small frame above the label."""

    def __init__(self, preset: AspectPreset, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.preset = preset
        self.setCheckable(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        label = preset.name.replace("A portrait", "A port.").replace("A landscape", "A land.")
        self.setText(label)
        self.setAccessibleName(f"Aspect ratio {preset.name}")
        series = " (the shape of A4, A3 and every A paper size)" if preset.name.startswith("A ") else ""
        self.setToolTip(f"{preset.name}{series} — width : height = {preset.ratio_w:.3g} : {preset.ratio_h:.3g}")

    def sizeHint(self) -> QSize:
        """Compact tiles, six to a row in the side panel."""
        return QSize(50, 58)

    def paintEvent(self, event: QPaintEvent) -> None:
        """A rounded tile with the ratio's frame and its name."""
        pal = self.palette()
        accent = pal.color(QPalette.ColorRole.Highlight)
        text = pal.color(QPalette.ColorRole.Text)
        muted = pal.color(QPalette.ColorRole.PlaceholderText)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        tile = QRectF(self.rect()).adjusted(1, 1, -1, -1)
        hovered = self.underMouse() or self.hasFocus()
        border = accent if self.isChecked() or hovered else pal.color(QPalette.ColorRole.Mid)
        fill = QColor(accent)
        fill.setAlpha(40 if self.isChecked() else 0)
        painter.setPen(QPen(border, 1.5 if self.isChecked() else 1))
        painter.setBrush(fill)
        painter.drawRoundedRect(tile, 7, 7)
        box = 26.0
        w = box if self.preset.ratio_w >= self.preset.ratio_h else box * self.preset.ratio_w / self.preset.ratio_h
        h = box if self.preset.ratio_h >= self.preset.ratio_w else box * self.preset.ratio_h / self.preset.ratio_w
        frame = QRectF(tile.center().x() - w / 2, 6 + (box - h) / 2 + 2, w, h)
        painter.setPen(QPen(accent if self.isChecked() else text, 1.6))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(frame, 2, 2)
        painter.setPen(text if self.isChecked() else muted)
        font = painter.font()
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.82))
        painter.setFont(font)
        painter.drawText(
            tile.adjusted(0, 0, 0, -4), Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom, self.text()
        )


def _segment(text: str, tip: str) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setCheckable(True)
    button.setToolTip(tip)
    button.setAccessibleName(tip)
    button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    button.setProperty("role", "segment")  # the chosen one is drawn in the accent colour (studio.qss)
    return button


class AspectPresets(QWidget):
    """Binds to GenerationSettings' size fields; the final size is shown by SizeSummary below it."""

    def __init__(self, state: GenerationSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("aspectPresets")
        self.setAccessibleName("Image size")
        self._state = state

        title = QLabel("SIZE")
        title.setProperty("role", "section")
        self._mode_group = QButtonGroup(self)
        modes = QHBoxLayout()
        modes.setSpacing(4)
        for index, (_mode, text) in enumerate(_MODE_LABELS):
            button = _segment(text, f"Size from: {text.replace('&&', 'and')}")
            self._mode_group.addButton(button, index)
            modes.addWidget(button)
        self._mode_group.idClicked.connect(lambda index: setattr(state, "size_mode", _MODE_LABELS[index][0]))

        self.stack = QStackedWidget()
        self.stack.addWidget(self._aspect_page())
        self.stack.addWidget(self._exact_page())
        self.stack.addWidget(self._custom_page())

        self._tier_group = QButtonGroup(self)
        self._tier_row = QHBoxLayout()
        self._tier_row.setSpacing(4)
        tier_label = QLabel("Resolution")
        tier_label.setProperty("role", "hint")
        self._tier_row.addWidget(tier_label)
        self._tier_group.idClicked.connect(self._on_tier_clicked)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(title)
        layout.addLayout(modes)
        layout.addWidget(self.stack)
        layout.addLayout(self._tier_row)

        for signal in (state.size_mode_changed, state.aspect_changed, state.exact_changed, state.tier_scale_changed):
            signal.connect(self._sync)
        state.custom_width_changed.connect(self.width_spin.setValue)
        state.custom_height_changed.connect(self.height_spin.setValue)
        state.native_resolution_changed.connect(self._rebuild_tiers)
        self._rebuild_tiers()

    def _aspect_page(self) -> QWidget:
        page = QWidget()
        grid = QGridLayout(page)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(4)
        self._ratio_group = QButtonGroup(self)
        self.ratio_buttons: list[RatioButton] = []
        for index, preset in enumerate(ASPECT_PRESETS):
            button = RatioButton(preset)
            self._ratio_group.addButton(button, index)
            self.ratio_buttons.append(button)
            grid.addWidget(button, index // _COLUMNS, index % _COLUMNS)
        self._ratio_group.idClicked.connect(lambda index: setattr(self._state, "aspect", ASPECT_PRESETS[index].name))
        return page

    def _exact_page(self) -> QWidget:
        self.exact_combo = QComboBox()
        self.exact_combo.setAccessibleName("Exact size preset")
        self.exact_combo.setToolTip("Exact pixels for screens and print; print sizes carry 300 DPI in the file")
        for kind, title in _KIND_TITLES.items():
            self.exact_combo.addItem(f"— {title} —")
            model = self.exact_combo.model()
            if isinstance(model, QStandardItemModel):  # a combo box's own model: its headers can be greyed out
                model.item(self.exact_combo.count() - 1).setEnabled(False)
            for preset in (p for p in EXACT_PRESETS if p.kind is kind):
                self.exact_combo.addItem(preset.name, preset.name)
        self.exact_combo.currentIndexChanged.connect(self._on_exact_chosen)
        hint = QLabel("Exact pixels for screens and phones; print sizes write 300 DPI into the file.")
        hint.setProperty("role", "hint")
        hint.setWordWrap(True)
        page = QWidget()
        column = QVBoxLayout(page)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.exact_combo)  # at the top, its own height, not stretched to the aspect grid's
        column.addWidget(hint)
        column.addStretch(1)
        return page

    def _custom_page(self) -> QWidget:
        page = QWidget()
        row = QHBoxLayout(page)
        row.setContentsMargins(0, 0, 0, 0)
        self.width_spin = self._pixel_spin("Width in pixels", self._state.custom_width)
        self.height_spin = self._pixel_spin("Height in pixels", self._state.custom_height)
        self.width_spin.valueChanged.connect(lambda value: setattr(self._state, "custom_width", value))
        self.height_spin.valueChanged.connect(lambda value: setattr(self._state, "custom_height", value))
        swap = QToolButton()
        swap.setIcon(icon("swap"))
        swap.setToolTip("Swap width and height")
        swap.setAccessibleName("Swap width and height")
        swap.clicked.connect(self._swap)
        times = QLabel("×")
        row.addWidget(self.width_spin, 1)
        row.addWidget(times)
        row.addWidget(self.height_spin, 1)
        row.addWidget(swap)
        return page

    def _pixel_spin(self, name: str, value: int) -> QSpinBox:
        spin = QSpinBox()
        # Wider than the valid range, so 99999 or 17 stay as typed and the size line says why they cannot be made.
        spin.setRange(0, _TYPABLE_SIDE)
        spin.setSingleStep(64)
        spin.setSuffix(" px")
        spin.setValue(value)
        spin.setAccessibleName(name)
        spin.setToolTip(f"{name}, {MIN_SIDE} to {MAX_SIDE}")
        spin.setKeyboardTracking(False)
        return spin

    def _swap(self) -> None:
        state = self._state
        state.custom_width, state.custom_height = state.custom_height, state.custom_width

    def _on_exact_chosen(self, index: int) -> None:
        name = self.exact_combo.itemData(index)
        if name:
            self._state.exact = name

    def _on_tier_clicked(self, index: int) -> None:
        options = self._tier_options()
        self._state.tier_scale = options[index][1]

    def _tier_options(self) -> list[tuple[str, float | None]]:
        options: list[tuple[str, float | None]] = [] if self._state.size_mode is SizeMode.ASPECT else [("Auto", None)]
        options += [(tier.label, tier.scale) for tier in tiers(self._state.native_resolution)]
        return options

    def _rebuild_tiers(self, *_: object) -> None:
        for button in self._tier_group.buttons():
            self._tier_group.removeButton(button)
            # Out of the row and hidden now: deleteLater waits for the event loop, and until then the old
            # buttons would sit beside the new ones.
            self._tier_row.removeWidget(button)
            button.hide()
            button.deleteLater()
        for index, (label, scale) in enumerate(self._tier_options()):
            tip = "Smallest resolution that covers the size" if scale is None else f"Sample at {label}"
            button = _segment(label, tip)
            self._tier_group.addButton(button, index)
            self._tier_row.addWidget(button)
        self._sync()

    def _sync(self, *_: object) -> None:
        state = self._state
        mode_index = [m for m, _ in _MODE_LABELS].index(state.size_mode)
        self._mode_group.button(mode_index).setChecked(True)
        self.stack.setCurrentIndex(mode_index)
        for index, preset in enumerate(ASPECT_PRESETS):
            self._ratio_group.button(index).setChecked(preset.name == state.aspect)
        combo_index = self.exact_combo.findData(state.exact)
        if combo_index >= 0 and combo_index != self.exact_combo.currentIndex():
            self.exact_combo.setCurrentIndex(combo_index)
        options = self._tier_options()
        if len(options) != len(self._tier_group.buttons()):
            self._rebuild_tiers()
            return
        tier = state.tier_scale if state.tier_scale is not None or state.size_mode is not SizeMode.ASPECT else 1.0
        for index, (_label, scale) in enumerate(options):
            self._tier_group.button(index).setChecked(scale == tier)
