"""From the Generate button to a saved image: build the request, submit it, save results, learn the speed."""

from __future__ import annotations

import logging
import time
from typing import Any

from PIL import Image
from PySide6.QtCore import QObject, QThreadPool, Signal
from PySide6.QtGui import QImage

from app.core.errors import InvalidRequestError, StudioError
from app.core.estimates import request_units, update_speed
from app.core.request import GenerationResult
from app.engine.jobs import JobInfo, JobProgress, JobResult, ModelState, ModelStatus
from app.store.items import GalleryItem
from app.ui.create.prompt_history import PromptHistory
from app.ui.create.state import GenerationSettings
from app.ui.gallery.gallery_model import GalleryModel
from app.ui.settings.preferences import Preferences
from app.ui.widgets.background import run_in_background

log = logging.getLogger(__name__)


def pil_to_qimage(image: Image.Image) -> QImage:
    """A QImage owning a copy of a PIL image's pixels (safe to pass between threads)."""
    rgb = image.convert("RGB")
    return QImage(rgb.tobytes(), rgb.width, rgb.height, 3 * rgb.width, QImage.Format.Format_RGB888).copy()


class GenerationFlow(QObject):
    """Wires the controller to the gallery and the settings; the window shows what it emits."""

    image_ready = Signal(object, object)  # QImage, GalleryItem (None when saving failed)
    preview_ready = Signal(object)  # QImage
    failed = Signal(str, str)  # message, details
    invalid_settings = Signal(str)  # why the controls cannot make a request
    load_failed = Signal(str)  # why the model could not be loaded (shown once, not again for the job it stopped)
    message = Signal(str)

    def __init__(
        self,
        controller: Any,
        state: GenerationSettings,
        gallery_model: GalleryModel,
        history: PromptHistory,
        preferences: Preferences,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._controller = controller
        self._state = state
        self._gallery_model = gallery_model
        self._history = history
        self._preferences = preferences
        self._save_pool = QThreadPool(self)
        self._save_pool.setMaxThreadCount(1)  # images of a batch are saved (and shown) in order
        self._started: dict[int, tuple[float, JobInfo]] = {}
        self._loaded_during_job = False
        self._load_failure = ""
        controller.job_started.connect(self._on_started)
        controller.progress.connect(self._on_progress)
        controller.result_ready.connect(self._on_result)
        controller.job_finished.connect(self._on_finished)
        controller.job_failed.connect(self._on_failed)
        controller.model_status_changed.connect(self._on_model_status)
        controller.recommended_guidance_changed.connect(self._state.use_model_guidance)

    def generate(self) -> int | None:
        """Queue a job from the current settings; None (and a message) when the settings are invalid."""
        try:
            request = self._state.build_request(self._controller.model)
        except InvalidRequestError as error:
            self.invalid_settings.emit(str(error))
            return None
        if not request.has_prompt:
            self.message.emit("No prompt: the model will draw whatever it likes.")
        self._history.add(request.prompt)
        waits = self._controller.is_busy
        job_id = self._controller.submit(request)
        if waits:
            self.message.emit(f"Job #{job_id} queued behind the running one")
        return job_id

    def wait_for_saves(self, timeout_ms: int = 30000) -> bool:
        """Block until every finished image is on disk (closing the window, tests)."""
        return self._save_pool.waitForDone(timeout_ms)

    def _on_started(self, info: JobInfo) -> None:
        self._started[info.job_id] = (time.monotonic(), info)
        self._loaded_during_job = False

    def _on_progress(self, progress: JobProgress) -> None:
        if progress.preview is not None and not progress.preview.isNull():
            self.preview_ready.emit(progress.preview)

    def _on_result(self, job_result: JobResult) -> None:
        result = job_result.result
        self._state.last_seed = result.request.seed
        gallery = self._gallery_model.gallery

        def save() -> tuple[QImage, GalleryItem | None, str]:
            image = pil_to_qimage(result.image)
            try:
                return image, gallery.save(result), ""
            except (StudioError, OSError) as error:
                return image, None, str(error)

        run_in_background(save, self._on_saved, self._on_save_crashed, context=self, pool=self._save_pool)
        self._warn_about(result)

    def _on_saved(self, outcome: tuple[QImage, GalleryItem | None, str]) -> None:
        image, item, error = outcome
        if item is not None:
            self._gallery_model.add_item(item)
        self.image_ready.emit(image, item)
        if error:
            self.failed.emit("The image could not be saved to the gallery.", error)

    def _on_save_crashed(self, error: Exception) -> None:
        log.exception("saving a result failed", exc_info=error)
        self.failed.emit("The image could not be saved.", f"{type(error).__name__}: {error}")

    def _warn_about(self, result: GenerationResult) -> None:
        if result.prompt_truncated:
            self.message.emit("The prompt was longer than 300 tokens; its end was cut.")
        for warning in result.warnings:
            self.message.emit(warning)

    def _on_finished(self, job_id: int) -> None:
        started = self._started.pop(job_id, None)
        if started is None or self._loaded_during_job:
            return  # a job that also loaded the model says nothing about sampling speed
        start, info = started
        units = request_units(info.request, self._state.native_resolution)
        speed = update_speed(self._preferences.seconds_per_unit, time.monotonic() - start, units)
        if speed is not None:
            self._preferences.seconds_per_unit = speed
            self._state.size_changed.emit()  # the size line re-estimates with the new speed

    def _on_failed(self, job_id: int, message: str, details: str) -> None:
        self._started.pop(job_id, None)
        if message == self._load_failure:
            self._load_failure = ""
            return  # the job failed because the model did not load, which load_failed already said
        self.failed.emit(message, details)

    def _on_model_status(self, status: ModelStatus) -> None:
        if status.state is ModelState.LOADING:
            self._loaded_during_job = True
        elif status.state is ModelState.READY:
            if status.native_resolution:
                self._state.native_resolution = int(status.native_resolution)
            self._state.use_model_guidance(status.guidance_scale)
        elif status.state is ModelState.FAILED:
            self._load_failure = status.message
            self.load_failed.emit(status.message)
