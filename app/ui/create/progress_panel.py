"""The progress bar: model loading, then step i/N with elapsed time and ETA for the running job."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout, QWidget

from app.engine.jobs import JobInfo, JobProgress, ModelState, ModelStatus

if TYPE_CHECKING:
    from app.engine.controller import EngineController

_RANGE = 1000


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(max(0.0, seconds)), 60)
    return f"{minutes}:{secs:02d}"


def describe_progress(progress: JobProgress) -> str:
    """'Step 12/20 · 0:03 · ETA 0:02' with the phase and batch position when they matter."""
    parts = []
    if progress.phase and progress.phase not in ("sampling", "sample"):
        parts.append(progress.phase.capitalize())
    parts.append(f"Step {progress.step}/{progress.total}")
    if progress.image_count > 1:
        parts.append(f"image {progress.image_index + 1}/{progress.image_count}")
    parts.append(_clock(progress.elapsed_s))
    if progress.eta_s > 0:
        parts.append(f"ETA {_clock(progress.eta_s)}")
    return " · ".join(parts)


class ProgressPanel(QWidget):
    """Binds to the controller's job and model signals."""

    def __init__(self, controller: EngineController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.progress_bar = QProgressBar()
        self.progress_bar.setObjectName("progressBar")
        self.progress_bar.setRange(0, _RANGE)
        self.progress_bar.setValue(0)
        self.progress_bar.setAccessibleName("Generation progress")
        self.progress_bar.setToolTip("Progress of the running job or of loading the model")
        self.progress_bar.setFormat("Ready")
        self.detail = QLabel()
        self.detail.setProperty("role", "hint")
        self.detail.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.detail)
        self._running: int | None = None
        controller.job_started.connect(self._on_started)
        controller.progress.connect(self._on_progress)
        controller.job_finished.connect(self._on_finished)
        controller.job_failed.connect(self._on_failed)
        controller.job_cancelled.connect(self._on_cancelled)
        controller.model_status_changed.connect(self._on_model_status)
        self._show_idle("Ready")

    def _on_started(self, info: JobInfo) -> None:
        self._running = info.job_id
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat("Starting…")
        request = info.request
        self.detail.setText(f"{request.width}×{request.height} · {request.steps} steps · seed {request.seed}")

    def _on_progress(self, progress: JobProgress) -> None:
        if progress.job_id != self._running:
            return
        self.progress_bar.setValue(round(progress.fraction * _RANGE))
        self.progress_bar.setFormat(describe_progress(progress))

    def _on_finished(self, job_id: int) -> None:
        if job_id == self._running:
            self._running = None
            self.progress_bar.setValue(_RANGE)
            self.progress_bar.setFormat("Done")

    def _on_failed(self, job_id: int, message: str, _details: str) -> None:
        if job_id == self._running:
            self._running = None
            self._show_idle("Failed")
            self.detail.setText(message)

    def _on_cancelled(self, job_id: int) -> None:
        if job_id == self._running:
            self._running = None
            self._show_idle("Cancelled")

    def _on_model_status(self, status: ModelStatus) -> None:
        if self._running is not None:
            return
        if status.state is ModelState.LOADING:
            self.progress_bar.setValue(round(status.fraction * _RANGE))
            self.progress_bar.setFormat(f"Loading model… {status.fraction:.0%}")
            self.detail.setText(status.message)
        elif status.state is ModelState.READY:
            self._show_idle("Ready")
            self.detail.setText(f"{status.name or status.model} ready")
        elif status.state is ModelState.FAILED:
            self._show_idle("Model failed to load")
            self.detail.setText(status.message)

    def _show_idle(self, text: str) -> None:
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat(text)
