"""From the Generate button to a saved image: build the request, submit it, save results, learn the speed."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QThreadPool, Signal
from PySide6.QtGui import QImage

from app.core.errors import InvalidRequestError, StudioError
from app.core.estimates import finish_megapixels, work_units
from app.core.request import MAX_TEXT_TOKENS, GenerationResult
from app.core.sizes import plan_size
from app.engine.jobs import JobInfo, JobProgress, JobResult, ModelState, ModelStatus
from app.engine.qt_images import pil_to_qimage
from app.store.items import GalleryItem
from app.ui.create.prompt_history import PromptHistory
from app.ui.create.state import GenerationSettings
from app.ui.gallery.gallery_model import GalleryModel
from app.ui.settings.preferences import Preferences
from app.ui.widgets.background import run_in_background

if TYPE_CHECKING:
    from app.engine.controller import EngineController

log = logging.getLogger(__name__)


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
        controller: EngineController,
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
        # Per running job: when its current image started sampling and when it began decoding (monotonic seconds).
        self._image_started: dict[int, float] = {}
        self._decoding_since: dict[int, float] = {}
        self._load_failure = ""  # the model-load failure already shown, so its failed job says nothing more
        controller.job_started.connect(self._on_started)
        controller.progress.connect(self._on_progress)
        controller.result_ready.connect(self._on_result)
        controller.job_finished.connect(self._on_finished)
        controller.job_failed.connect(self._on_failed)
        controller.job_cancelled.connect(self._forget)
        controller.model_status_changed.connect(self._on_model_status)
        controller.model_described.connect(self._state.follow_model)

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
        self._forget(info.job_id)

    def _on_progress(self, progress: JobProgress) -> None:
        # Timed from the prompt's encoding, which starts after any model load, so loading never counts as sampling.
        if progress.phase == "encoding":
            self._image_started[progress.job_id] = time.monotonic()
        elif progress.phase == "decoding":
            self._decoding_since[progress.job_id] = time.monotonic()
        if progress.preview is not None and not progress.preview.isNull():
            self.preview_ready.emit(progress.preview)

    def _on_result(self, job_result: JobResult) -> None:
        result = job_result.result
        self._state.last_seed = result.request.seed
        gallery = self._gallery_model.gallery
        now = time.monotonic()
        started = self._image_started.get(job_result.job_id)
        decoding = self._decoding_since.pop(job_result.job_id, None)
        self._image_started[job_result.job_id] = now  # the next image of a batch starts sampling now
        timing = (decoding - started, now - decoding) if started is not None and decoding is not None else None

        def save() -> tuple[QImage, GalleryItem | None, str, float, GalleryItem | None]:
            begun = time.monotonic()
            image = pil_to_qimage(result.image)
            try:
                item = gallery.save(result)
            except (StudioError, OSError) as failure:
                return image, None, str(failure), time.monotonic() - begun, None
            # A source from outside is copied into the gallery by this save: it joins the grid too.
            source = gallery.source_of(item)
            if source is None or not source.metadata.get("copied_source") or source.created_at != item.created_at:
                source = None
            return image, item, "", time.monotonic() - begun, source

        def saved(outcome: tuple[QImage, GalleryItem | None, str, float, GalleryItem | None]) -> None:
            image, item, error, save_s, copied_source = outcome
            if timing is not None and item is not None:
                self._learn_speed(result, timing[0], timing[1] + save_s)
            self._on_saved(image, item, error, copied_source)

        run_in_background(save, saved, self._on_save_crashed, context=self, pool=self._save_pool)
        self._warn_about(result)

    def _on_saved(self, image: QImage, item: GalleryItem | None, error: str, copied_source: GalleryItem | None) -> None:
        if copied_source is not None:
            self._gallery_model.add_item(copied_source)
        if item is not None:
            self._gallery_model.add_item(item)
        self.image_ready.emit(image, item)
        if error:
            self.failed.emit("The image could not be saved to the gallery.", error)

    def _learn_speed(self, result: GenerationResult, sampling_s: float, finish_s: float) -> None:
        """Average one image's sampling and decode-and-save seconds into the rates of its kind of job."""
        profile = self._state.memory_profile
        if profile is None:
            return
        request = result.request
        plan = plan_size(
            request.width,
            request.height,
            self._state.native_resolution,
            request.high_res,
            request.tier_scale,
            self._state.model_above_native,
        )
        units = work_units(profile, plan, request.steps, request.kv_compression, request.refine_strength)
        rates = self._preferences.measured_rates
        self._preferences.measured_rates = rates.measured(
            profile, plan.path, sampling_s, units, finish_s, finish_megapixels(plan)
        )
        self._state.size_changed.emit()  # the size line re-estimates with the new rates

    def _on_save_crashed(self, error: Exception) -> None:
        log.exception("saving a result failed", exc_info=error)
        self.failed.emit("The image could not be saved.", f"{type(error).__name__}: {error}")

    def _warn_about(self, result: GenerationResult) -> None:
        if result.prompt_truncated:
            self.message.emit(f"The prompt was longer than {MAX_TEXT_TOKENS} tokens; its end was cut.")
        for warning in result.warnings:
            self.message.emit(warning)

    def _on_finished(self, job_id: int) -> None:
        self._forget(job_id)

    def _forget(self, job_id: int) -> None:
        self._image_started.pop(job_id, None)
        self._decoding_since.pop(job_id, None)

    def _on_failed(self, job_id: int, message: str, details: str) -> None:
        self._forget(job_id)
        if message == self._load_failure:
            self._load_failure = ""
            return  # the job failed because the model did not load, which load_failed already said
        self.failed.emit(message, details)

    def _on_model_status(self, status: ModelStatus) -> None:
        if status.state is ModelState.READY:
            self._state.memory_profile = status.memory_profile
            self._state.follow_model(status)
        elif status.state is ModelState.FAILED:
            self._load_failure = status.message
            self.load_failed.emit(status.message)
