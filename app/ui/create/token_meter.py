"""A label that counts the prompt's T5 tokens in the background and warns near and past the limit."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QThreadPool, QTimer, Signal
from PySide6.QtWidgets import QLabel, QWidget

from app.core.request import MAX_TEXT_TOKENS
from app.ui.widgets.background import run_in_background

if TYPE_CHECKING:
    from app.engine.token_counter import TokenCounter

DEBOUNCE_MS = 200
WARN_FRACTION = 0.9  # warn when the prompt uses 90% of the limit


class TokenMeter(QLabel):
    """'42 / 300 tokens'; amber near the limit; red past it, naming the words that will be cut."""

    counted = Signal(object)  # the TokenCount shown

    def __init__(self, counter_provider: Callable[[], TokenCounter | None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tokenMeter")
        self.setProperty("role", "hint")
        self.setWordWrap(True)
        self.setAccessibleName("Prompt token count")
        self.setToolTip(f"Tokens the text encoder sees; PixArt-Σ reads at most {MAX_TEXT_TOKENS}, the rest is cut.")
        self._provider = counter_provider
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)  # one tokenizer call at a time, in order
        self._text = ""
        self._revision = 0
        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._timer.timeout.connect(self._count_now)
        self.setText("")

    def set_text(self, text: str) -> None:
        """Count `text` shortly (typing restarts the delay)."""
        self._text = text
        self._revision += 1
        if not text.strip():
            self._timer.stop()
            self._show_plain("", "ok")
            return
        self._timer.start()

    def recount(self) -> None:
        """Count again now, e.g. after the model (and so the tokenizer) changed."""
        if self._text.strip():
            self._revision += 1
            self._count_now()

    def wait_for_count(self, timeout_ms: int = 30000) -> bool:
        """Block until pending counts finish (tests and screenshots)."""
        if self._timer.isActive():
            self._timer.stop()
            self._count_now()
        return self._pool.waitForDone(timeout_ms)

    def _count_now(self) -> None:
        revision, text, provider = self._revision, self._text, self._provider

        def count() -> tuple[int, Any]:
            counter = provider()
            return revision, (counter.count(text) if counter is not None else None)

        run_in_background(count, self._on_counted, self._on_failed, context=self, pool=self._pool)

    def _on_counted(self, answer: tuple[int, Any]) -> None:
        revision, result = answer
        if revision != self._revision:
            return  # the prompt changed since; a newer count is on its way
        if result is None:
            self._show_plain("Token count appears once the model's tokenizer is loaded.", "ok")
            return
        limit = result.limit
        if result.tokens > limit:
            tail = " ".join(result.truncated_tail.split())
            shown = tail if len(tail) <= 80 else tail[:77] + "…"
            self._show_plain(f"{result.tokens} / {limit} tokens — past the limit; cut: “{shown}”", "danger")
            self.setToolTip(f"These words will not reach the model:\n{tail}")
        elif result.tokens >= WARN_FRACTION * limit:
            self._show_plain(f"{result.tokens} / {limit} tokens — close to the limit", "warning")
        else:
            self._show_plain(f"{result.tokens} / {limit} tokens", "ok")
        self.counted.emit(result)

    def _on_failed(self, error: Exception) -> None:
        self._show_plain(f"Tokens could not be counted: {error}", "warning")

    def _show_plain(self, text: str, level: str) -> None:
        self.setText(text)
        self.setProperty("level", level)
        self.style().unpolish(self)
        self.style().polish(self)
