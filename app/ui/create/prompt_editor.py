"""The prompt editor: prompt, token meter, collapsible negative prompt, history and style presets."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QPlainTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.styles import append_style
from app.ui.create.prompt_history import PromptHistory
from app.ui.create.state import GenerationSettings
from app.ui.create.style_presets import StylePresets
from app.ui.create.token_meter import TokenMeter
from app.ui.widgets.icons import icon

if TYPE_CHECKING:
    from app.engine.token_counter import TokenCounter

_MENU_TEXT_CHARS = 70


class PromptTextEdit(QPlainTextEdit):
    """Plain text where Ctrl+Enter submits instead of adding a line."""

    submitted = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Ctrl+Enter (either Enter key) generates; everything else edits."""
        submit = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if submit and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.submitted.emit()
            return
        super().keyPressEvent(event)


def _bind_text(edit: QPlainTextEdit, get: Callable[[], str], set_: Callable[[str], None], changed: Any) -> None:
    # Two-way binding that never fights the user's cursor: the edit only changes on outside updates.
    edit.setPlainText(get())
    edit.textChanged.connect(lambda: set_(edit.toPlainText()))

    def on_state(value: str) -> None:
        if edit.toPlainText() != value:
            # An edit through the cursor, not setPlainText: a recalled prompt or added style is one Ctrl+Z away.
            cursor = edit.textCursor()
            cursor.select(cursor.SelectionType.Document)
            cursor.insertText(value)
            edit.setTextCursor(cursor)

    changed.connect(on_state)


def _elide(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MENU_TEXT_CHARS else text[: _MENU_TEXT_CHARS - 1] + "…"


class PromptEditor(QWidget):
    """Writes to GenerationSettings.prompt/negative_prompt; emits generate_requested on Ctrl+Enter."""

    generate_requested = Signal()
    edit_styles_requested = Signal()

    def __init__(
        self,
        state: GenerationSettings,
        history: PromptHistory,
        styles: StylePresets,
        counter_provider: Callable[[], TokenCounter | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._state, self._history, self._styles = state, history, styles

        title = QLabel("PROMPT")
        title.setProperty("role", "section")
        self.styles_button = self._menu_button("style", "Styles", "Add a style to the prompt (posters, wallpapers…)")
        self.history_button = self._menu_button("history", "History", "Recall an earlier prompt")
        header = QHBoxLayout()
        header.setContentsMargins(0, 0, 0, 0)
        header.addWidget(title)
        header.addStretch(1)
        header.addWidget(self.styles_button)
        header.addWidget(self.history_button)

        self.prompt_edit = PromptTextEdit()
        self.prompt_edit.setObjectName("promptEdit")
        self.prompt_edit.setPlaceholderText("Describe the poster or wallpaper you want…  (Ctrl+Enter to generate)")
        self.prompt_edit.setAccessibleName("Prompt")
        self.prompt_edit.setToolTip("What to draw. Ctrl+Enter generates.")
        self.prompt_edit.setTabChangesFocus(True)
        self.prompt_edit.setFixedHeight(120)
        self.prompt_edit.submitted.connect(self.generate_requested)
        _bind_text(self.prompt_edit, lambda: state.prompt, self._set_prompt, state.prompt_changed)

        self.token_meter = TokenMeter(counter_provider)
        self.prompt_edit.textChanged.connect(lambda: self.token_meter.set_text(self.prompt_edit.toPlainText()))
        self.token_meter.set_text(state.prompt)

        self.negative_toggle = QToolButton()
        self.negative_toggle.setObjectName("negativeToggle")
        self.negative_toggle.setCheckable(True)
        self.negative_toggle.setProperty("flat", True)
        self.negative_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.negative_toggle.setAccessibleName("Show negative prompt")
        self.negative_toggle.setToolTip("Things to keep out of the image")
        self.negative_toggle.toggled.connect(self._on_negative_toggled)

        self.negative_edit = PromptTextEdit()
        self.negative_edit.setObjectName("negativePromptEdit")
        self.negative_edit.setPlaceholderText("What to avoid, e.g. blurry, watermark, text")
        self.negative_edit.setAccessibleName("Negative prompt")
        self.negative_edit.setToolTip("Things to keep out of the image. Ctrl+Enter generates.")
        self.negative_edit.setTabChangesFocus(True)
        self.negative_edit.setFixedHeight(64)
        self.negative_edit.submitted.connect(self.generate_requested)
        _bind_text(self.negative_edit, lambda: state.negative_prompt, self._set_negative, state.negative_prompt_changed)
        state.negative_prompt_changed.connect(self._update_negative_toggle)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(header)
        layout.addWidget(self.prompt_edit)
        layout.addWidget(self.token_meter)
        layout.addWidget(self.negative_toggle, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.negative_edit)

        self.negative_toggle.setChecked(bool(state.negative_prompt))
        self._show_negative(self.negative_toggle.isChecked())
        history.history_changed.connect(self._rebuild_history_menu)
        styles.presets_changed.connect(self._rebuild_styles_menu)
        self._rebuild_history_menu()
        self._rebuild_styles_menu()

    def focus_prompt(self) -> None:
        """Put the keyboard in the prompt, cursor at the end."""
        self.prompt_edit.setFocus(Qt.FocusReason.OtherFocusReason)
        self.prompt_edit.moveCursor(self.prompt_edit.textCursor().MoveOperation.End)

    def _set_prompt(self, text: str) -> None:
        self._state.prompt = text

    def _set_negative(self, text: str) -> None:
        self._state.negative_prompt = text

    def _menu_button(self, icon_name: str, text: str, tip: str) -> QToolButton:
        button = QToolButton()
        button.setIcon(icon(icon_name))
        button.setText(text)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        button.setProperty("flat", True)
        button.setToolTip(tip)
        button.setAccessibleName(text)
        button.setMenu(QMenu(button))
        return button

    def _rebuild_history_menu(self, *_: object) -> None:
        menu = self.history_button.menu()
        menu.clear()
        prompts = self._history.prompts
        for prompt in prompts[:20]:
            action = menu.addAction(_elide(prompt))
            action.setToolTip(prompt)
            action.triggered.connect(lambda _checked=False, p=prompt: self._recall(p))
        if not prompts:
            menu.addAction("No prompts yet — generate something first").setEnabled(False)
        else:
            menu.addSeparator()
            menu.addAction("Clear history", self._history.clear)
        self.history_button.setEnabled(True)

    def _rebuild_styles_menu(self, *_: object) -> None:
        menu = self.styles_button.menu()
        menu.clear()
        for style in self._styles.presets:
            action = menu.addAction(style.name)
            action.setToolTip(style.text)
            action.triggered.connect(lambda _checked=False, s=style: self._add_style(s))
        menu.addSeparator()
        menu.addAction("Edit styles…", lambda: self.edit_styles_requested.emit())
        menu.setToolTipsVisible(True)

    def _recall(self, prompt: str) -> None:
        self._state.prompt = prompt
        self.focus_prompt()

    def _add_style(self, style: Any) -> None:
        self._state.prompt = append_style(self._state.prompt, style)
        self.focus_prompt()

    def _on_negative_toggled(self, shown: bool) -> None:
        self._show_negative(shown)
        if shown:
            self.negative_edit.setFocus()

    def _show_negative(self, shown: bool) -> None:
        self.negative_edit.setVisible(shown)
        self.negative_toggle.setIcon(icon("down" if shown else "right"))
        self._update_negative_toggle()

    def _update_negative_toggle(self, *_: object) -> None:
        suffix = " (set)" if self._state.negative_prompt and not self.negative_toggle.isChecked() else ""
        self.negative_toggle.setText(f"Negative prompt{suffix}")
