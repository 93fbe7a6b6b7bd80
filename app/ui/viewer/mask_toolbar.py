"""The mask tools above the viewer: brush, eraser, rectangle, size, feather, clear, invert, overlay, undo/redo."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QWidget,
)

from app.ui.viewer.mask_painter import MAX_BRUSH, MAX_FEATHER, MIN_BRUSH, MaskPainter, MaskTool
from app.ui.widgets.icons import icon

_TOOLS = (
    (MaskTool.BRUSH, "brush", "Brush (B): paint the area to repaint; right-drag erases"),
    (MaskTool.ERASER, "eraser", "Eraser (E): take area out of the mask"),
    (MaskTool.RECTANGLE, "rectangle", "Rectangle (R): drag a box to repaint; right-drag erases one"),
)


def _tool_button(icon_name: str, tip: str, checkable: bool = False) -> QToolButton:
    button = QToolButton()
    button.setIcon(icon(icon_name))
    button.setToolTip(tip)
    button.setAccessibleName(tip.split(" (")[0].split(":")[0])
    button.setCheckable(checkable)
    button.setAutoRaise(True)
    return button


def _divider() -> QFrame:
    line = QFrame()
    line.setFrameShape(QFrame.Shape.VLine)
    line.setStyleSheet("color: palette(mid);")
    return line


class MaskToolbar(QFrame):
    """Binds to a MaskPainter; 'Paint mask' brings the source back when another image is shown."""

    edit_requested = Signal()  # the window shows the source and starts painting

    def __init__(self, painter: MaskPainter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("maskToolbar")
        self._painter = painter
        title = QLabel("MASK")
        title.setProperty("role", "section")
        self.tool_buttons: dict[MaskTool, QToolButton] = {}
        group = QButtonGroup(self)
        group.setExclusive(True)
        for tool, icon_name, tip in _TOOLS:
            button = _tool_button(icon_name, tip, checkable=True)
            button.clicked.connect(lambda _checked=False, t=tool: setattr(painter, "tool", t))
            group.addButton(button)
            self.tool_buttons[tool] = button
        painter.tool_changed.connect(self._show_tool)

        self.size_spin = QSpinBox()
        self.size_spin.setRange(MIN_BRUSH, MAX_BRUSH)
        self.size_spin.setSuffix(" px")
        self.size_spin.setAccessibleName("Brush size")
        self.size_spin.setToolTip("Brush diameter in image pixels ([ and ] change it)")
        self.size_spin.valueChanged.connect(lambda value: setattr(painter, "brush_size", value))
        painter.brush_size_changed.connect(self.size_spin.setValue)

        self.feather_spin = QSpinBox()
        self.feather_spin.setRange(0, MAX_FEATHER)
        self.feather_spin.setSuffix(" px")
        self.feather_spin.setAccessibleName("Feather")
        self.feather_spin.setToolTip("Soften the seam between repainted and kept pixels by this many pixels")
        self.feather_spin.valueChanged.connect(lambda value: setattr(painter, "feather", value))
        painter.feather_changed.connect(self.feather_spin.setValue)

        self.clear_button = _tool_button("trash", "Clear the mask")
        self.clear_button.clicked.connect(painter.clear)
        self.invert_button = _tool_button("invert", "Invert the mask: repaint everything but the painted area")
        self.invert_button.clicked.connect(painter.invert)
        self.overlay_button = _tool_button("eye", "Show the mask overlay (H)", checkable=True)
        self.overlay_button.toggled.connect(lambda shown: setattr(painter, "overlay_visible", shown))
        painter.overlay_visible_changed.connect(self.overlay_button.setChecked)
        self.undo_button = _tool_button("undo", "Undo the last mask edit (Ctrl+Z)")
        self.undo_button.clicked.connect(painter.undo_stack.undo)
        painter.undo_stack.canUndoChanged.connect(self.undo_button.setEnabled)
        self.redo_button = _tool_button("redo", "Redo (Ctrl+Shift+Z)")
        self.redo_button.clicked.connect(painter.undo_stack.redo)
        painter.undo_stack.canRedoChanged.connect(self.redo_button.setEnabled)
        self.edit_button = QPushButton(icon("brush"), "Paint mask")
        self.edit_button.setObjectName("paintMaskButton")
        self.edit_button.setToolTip("Show the source image and paint its mask")
        self.edit_button.clicked.connect(self.edit_requested)
        self.hint = QLabel()
        self.hint.setProperty("role", "hint")
        self.hint.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # never widens the window
        for spin in (self.size_spin, self.feather_spin):
            spin.setMaximumWidth(96)

        row = QHBoxLayout(self)
        row.setContentsMargins(10, 4, 10, 4)
        row.setSpacing(4)
        row.addWidget(title)
        row.addSpacing(6)
        for button in self.tool_buttons.values():
            row.addWidget(button)
        row.addSpacing(6)
        row.addWidget(QLabel("Size"))
        row.addWidget(self.size_spin)
        row.addWidget(QLabel("Feather"))
        row.addWidget(self.feather_spin)
        row.addWidget(_divider())
        for button in (self.undo_button, self.redo_button, self.clear_button, self.invert_button, self.overlay_button):
            row.addWidget(button)
        row.addWidget(_divider())
        row.addWidget(self.hint, 1, Qt.AlignmentFlag.AlignVCenter)
        row.addWidget(self.edit_button)

        painter.active_changed.connect(self._show_active)
        painter.mask_changed.connect(self._show_hint)
        self._show_tool(painter.tool)
        self.size_spin.setValue(painter.brush_size)
        self.feather_spin.setValue(painter.feather)
        self.overlay_button.setChecked(painter.overlay_visible)
        self.undo_button.setEnabled(False)
        self.redo_button.setEnabled(False)
        self._show_active(painter.active)

    def _show_tool(self, tool: MaskTool) -> None:
        self.tool_buttons[tool].setChecked(True)

    def _show_active(self, active: bool) -> None:
        self.edit_button.setVisible(not active)
        for widget in (*self.tool_buttons.values(), self.size_spin, self.clear_button, self.invert_button):
            widget.setEnabled(active)
        self._show_hint()

    def _show_hint(self) -> None:
        if not self._painter.active:
            self.hint.setText("Another image is shown")
        elif self._painter.has_mask():
            self.hint.setText("Middle-drag pans")
        else:
            self.hint.setText("Paint what to change")
