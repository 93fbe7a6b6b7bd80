"""The job queue: what waits behind the running job, reorderable and removable."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QToolButton, QVBoxLayout, QWidget

from app.engine.jobs import JobInfo
from app.ui.widgets.icons import icon

if TYPE_CHECKING:
    from app.engine.controller import EngineController

_ROLE_JOB = Qt.ItemDataRole.UserRole


def describe_job(info: JobInfo) -> str:
    """'#4  1920×1080 · 20 steps · ×2 — prompt…' for the queue list."""
    request = info.request
    prompt = " ".join(request.prompt.split()) or "(no prompt)"
    if len(prompt) > 60:
        prompt = prompt[:59] + "…"
    batch = f" · ×{request.batch_size}" if request.batch_size > 1 else ""
    return f"#{info.job_id}  {request.width}×{request.height} · {request.steps} steps{batch} — {prompt}"


class QueuePanel(QWidget):
    """Mirrors controller.queue_changed; edits call controller.move_job/remove_job/clear_queue."""

    def __init__(self, controller: EngineController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._controller = controller
        self.title = QLabel("QUEUE")
        self.title.setProperty("role", "section")
        self.list = QListWidget()
        self.list.setObjectName("queueList")
        self.list.setAccessibleName("Queued jobs")
        self.list.setToolTip("Jobs waiting to run. Drag to reorder; Delete removes the selected job.")
        self.list.setDragDropMode(QListWidget.DragDropMode.InternalMove)
        self.list.setMaximumHeight(120)
        self.list.model().rowsMoved.connect(self._on_rows_moved)
        QShortcut(QKeySequence.StandardKey.Delete, self.list, self.remove_selected)

        header = QHBoxLayout()
        header.setContentsMargins(0, 0, 0, 0)
        header.addWidget(self.title)
        header.addStretch(1)
        for name, tip, slot in (
            ("up", "Run the selected job sooner", lambda: self._move_selected(-1)),
            ("down", "Run the selected job later", lambda: self._move_selected(1)),
            ("trash", "Remove the selected job (Delete)", self.remove_selected),
            ("close", "Clear the queue", self._clear),
        ):
            button = QToolButton()
            button.setIcon(icon(name))
            button.setToolTip(tip)
            button.setAccessibleName(tip)
            button.setProperty("flat", True)
            button.clicked.connect(slot)
            header.addWidget(button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(header)
        layout.addWidget(self.list)
        controller.queue_changed.connect(self.show_jobs)
        self.show_jobs([])

    def show_jobs(self, jobs: list[JobInfo]) -> None:
        """Redraw the list from the controller's queue."""
        selected = self._selected_job()
        self.list.clear()
        for info in jobs:
            item = QListWidgetItem(describe_job(info))
            item.setData(_ROLE_JOB, info.job_id)
            item.setToolTip(info.request.prompt)
            self.list.addItem(item)
            if info.job_id == selected:
                self.list.setCurrentItem(item)
        self.title.setText(f"QUEUE · {len(jobs)}" if jobs else "QUEUE")
        self.setVisible(bool(jobs))  # an empty queue takes no room

    def remove_selected(self) -> None:
        """Drop the selected job from the queue."""
        job_id = self._selected_job()
        if job_id is not None:
            self._controller.remove_job(job_id)

    def _selected_job(self) -> int | None:
        item = self.list.currentItem()
        return item.data(_ROLE_JOB) if item is not None else None

    def _move_selected(self, offset: int) -> None:
        job_id = self._selected_job()
        if job_id is None:
            return
        row = self.list.currentRow() + offset
        if 0 <= row < self.list.count():
            self._controller.move_job(job_id, row)

    def _on_rows_moved(self, *_: object) -> None:
        # The list already shows the new order; tell the controller where the dragged job went.
        job_id = self._selected_job()
        if job_id is not None:
            self._controller.move_job(job_id, self.list.currentRow())

    def _clear(self) -> None:
        self._controller.clear_queue()
