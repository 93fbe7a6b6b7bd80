"""The gallery's info panel: how the selected image was made, under the grid, like a photo library's info pane."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, QSize, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QToolButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from app.core.wording import counted
from app.store.items import GalleryItem
from app.ui.gallery.item_details import Detail, DetailAction, details_of
from app.ui.widgets.icons import icon

NOTHING_SELECTED = "Select an image to see how it was made"
_START_HEIGHT = 260  # room for the prompt and the main lines under a grid of a few rows; the splitter resizes it
_MIN_HEIGHT = 90
_ROW = 18  # every line's least height, a button's too, so lines with and without a button keep one rhythm
_BUTTONS = {  # object name, icon, tooltip of the button beside a line
    DetailAction.COPY_SEED: ("copySeed", "copy", "Copy the seed"),
    DetailAction.SHOW_SOURCE: ("showSource", "right", "Show the image it was made from"),
    DetailAction.SHOW_FILE: ("showFile", "folder", "Open the file's folder"),
}


def _text(text: str = "", name: str = "") -> QLabel:
    """A wrapped label whose text a user can select and copy; always plain text, so a prompt is never markup."""
    label = QLabel(text)
    label.setObjectName(name)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setCursor(Qt.CursorShape.IBeamCursor)
    return label


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    label.setProperty("role", "section")
    return label


class InfoPanel(QScrollArea):
    """Shows one selected image's details, or a hint for none or several; its height never follows its text,
    so the grid above keeps its place as the selection changes and a long prompt scrolls inside."""

    show_source_requested = Signal(int)  # the gallery id of the image the shown one was made from
    open_location_requested = Signal(object)  # GalleryItem

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("galleryInfo")
        self.setAccessibleName("Image details")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        # Never wider than the dock: long words wrap or clip instead of pushing the gallery wider.
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._item: GalleryItem | None = None

        self.hint = QLabel(NOTHING_SELECTED)
        self.hint.setObjectName("galleryInfoHint")
        self.hint.setProperty("role", "hint")
        self.hint.setWordWrap(True)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.prompt = _text(name="infoPrompt")
        self.prompt.setAccessibleName("Prompt")
        self.negative_heading = _heading("NEGATIVE PROMPT")
        self.negative = _text(name="infoNegativePrompt")
        self.negative.setAccessibleName("Negative prompt")
        self.form = QFormLayout()
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form.setHorizontalSpacing(10)
        self.form.setVerticalSpacing(3)

        self.details = QWidget()
        details = QVBoxLayout(self.details)
        details.setContentsMargins(0, 0, 0, 0)
        details.setSpacing(4)
        details.addWidget(_heading("PROMPT"))
        details.addWidget(self.prompt)
        details.addWidget(self.negative_heading)
        details.addWidget(self.negative)
        details.addSpacing(6)
        details.addLayout(self.form)
        details.addStretch(1)  # the lines stay at the top of a tall panel

        content = QWidget()
        content.setObjectName("galleryInfoContent")
        layout = QVBoxLayout(content)
        layout.setContentsMargins(10, 4, 10, 10)
        # Only one of the two shows, and it fills the panel: the hint sits in its middle. (No alignment flag on the
        # details: an aligned item gets its width-free size hint, and a wrapped line then gets a second line's room.)
        layout.addWidget(self.hint)
        layout.addWidget(self.details)
        self.setWidget(content)
        self.show_items([])

    def sizeHint(self) -> QSize:
        """A fixed starting height rather than the text's, so the grid's share never depends on a prompt."""
        return QSize(super().sizeHint().width(), _START_HEIGHT)

    def minimumSizeHint(self) -> QSize:
        """Always tall enough for the hint and a line or two."""
        return QSize(super().minimumSizeHint().width(), _MIN_HEIGHT)

    @property
    def item(self) -> GalleryItem | None:
        """The image whose details are shown; None while the hint is."""
        return self._item

    def show_items(self, items: list[GalleryItem], gallery_root: Path | None = None) -> None:
        """Details of the one selected image (its file's folder named relative to the gallery), else a hint."""
        self._item = items[0] if len(items) == 1 else None
        self.hint.setText(NOTHING_SELECTED if not items else f"{counted(len(items), 'image')} selected")
        self.hint.setVisible(self._item is None)
        self.details.setVisible(self._item is not None)
        while self.form.rowCount():
            self.form.removeRow(0)
        if self._item is not None:
            shown = details_of(self._item, gallery_root or self._item.path.parent)
            self.prompt.setText(shown.prompt or "(no prompt)")
            self.negative.setText(shown.negative_prompt)
            self.negative_heading.setVisible(bool(shown.negative_prompt))
            self.negative.setVisible(bool(shown.negative_prompt))
            for line in shown.lines:
                self._add_line(line)
        self.verticalScrollBar().setValue(0)  # a new image is read from its prompt down

    def _add_line(self, line: Detail) -> None:
        label = QLabel(line.label)
        label.setProperty("role", "hint")
        label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)  # by a value's first line
        value = _text(line.text, f"info{line.label.title().replace(' ', '')}")
        value.setProperty("role", "value")
        value.setMinimumHeight(_ROW)
        value.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        value.setToolTip(line.tooltip)
        if line.action is None:
            self.form.addRow(label, value)
            return
        name, icon_name, tip = _BUTTONS[line.action]
        button = QToolButton()
        button.setObjectName(name)
        button.setIcon(icon(icon_name))
        button.setProperty("flat", True)
        button.setFixedSize(_ROW, _ROW)
        button.setIconSize(QSize(_ROW - 4, _ROW - 4))
        button.setToolTip(tip)
        button.setAccessibleName(tip)
        button.clicked.connect(lambda: self._act(line, button))
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(2)
        # A short value (seed, id, folder) with its button right after it, where the eye is, not at the far edge.
        row.addWidget(value, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
        row.addStretch(1)
        self.form.addRow(label, row)

    def _act(self, line: Detail, button: QToolButton) -> None:
        item = self._item
        if item is None:
            return
        if line.action is DetailAction.COPY_SEED:
            QGuiApplication.clipboard().setText(line.text)
            QToolTip.showText(button.mapToGlobal(QPoint(0, button.height())), "Seed copied", button)
        elif line.action is DetailAction.SHOW_SOURCE and item.source_id is not None:
            self.show_source_requested.emit(item.source_id)
        elif line.action is DetailAction.SHOW_FILE:
            self.open_location_requested.emit(item)
