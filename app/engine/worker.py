"""The engine's one long-lived worker thread and the job queue it shares with the controller.

The worker owns the pipeline: it loads it (importing torch on the first job or model load, never at
import), runs one job at a time, and frees the pipeline in its own thread. Everything it reports goes
out as Qt signals, which reach the controller in the GUI thread through queued connections.
"""

from __future__ import annotations

import gc
import logging
import threading
import traceback
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QThread, Signal

from app.core.engine_options import EngineOptions
from app.core.errors import GenerationCancelledError, StudioError, is_out_of_memory
from app.engine.job_queue import EngineConfig, JobQueue, QueuedJob, WorkerTask
from app.engine.jobs import JobProgress, JobResult, ModelState, ModelStatus
from app.engine.qt_images import pil_to_qimage
from app.engine.remote_runner import RemoteJobError, RemoteRunner, model_status

if TYPE_CHECKING:
    from PySide6.QtGui import QImage

log = logging.getLogger(__name__)

PipelineFactory = Callable[..., Any]
RECONNECT_EVERY_S = 2.0  # how often a worker that lost its server asks whether it is back


class _LoadAbortedError(Exception):
    """Model loading stopped on purpose (job cancelled, model switched, or shutting down)."""


class EngineWorker(QThread):
    """Runs queued jobs one at a time on the pipeline it owns; reports through signals."""

    job_started = Signal(object)  # JobInfo
    progress = Signal(object)  # JobProgress
    result_ready = Signal(object)  # JobResult
    job_finished = Signal(int)
    job_failed = Signal(int, str, str)
    job_cancelled = Signal(int)
    model_status = Signal(object)  # ModelStatus
    connection_changed = Signal(bool, str)  # reachable, message: the server was lost or is back
    server_models = Signal(list)  # the server's catalog (dicts), each time it is read

    def __init__(self, queue: JobQueue, pipeline_factory: PipelineFactory | None = None) -> None:
        super().__init__()
        self.setObjectName("PixArtEngineWorker")
        self._queue = queue
        self._factory = pipeline_factory or load_pipeline
        self._pipeline: Any = None
        self._loaded: EngineConfig | None = None
        self._ready_status: ModelStatus | None = None
        self._remote = RemoteRunner()
        self._server_down = False  # while True, jobs wait in the queue and the server is asked every few seconds
        self._model_status_sent: ModelStatus | None = None  # the server model's last status, sent once per change

    def stop(self) -> None:
        """Cancel the running job, drop the waiting ones and make run() return; wait() for it."""
        self._queue.stop()

    def run(self) -> None:
        """The thread's loop: sync the model with the config, load when asked, run jobs; free all on exit."""
        try:
            while (task := self._next_task()) is not None:
                try:
                    self._sync(task.config, task.config_changed)
                    if self._server_down:
                        self._look_for_server(task.config)
                    if task.job is not None:
                        self._run_job(task.job, task.config)
                    elif task.load:
                        self._load_eagerly(task.config)
                except _LoadAbortedError:
                    pass
                except Exception:  # the worker must outlive any bug in one task
                    log.exception("engine worker task failed")
                finally:
                    if task.job is not None:
                        self._queue.finish(task.job)
        finally:
            self._free()
            self._remote.close()

    def _next_task(self) -> WorkerTask | None:
        down = self._server_down
        return self._queue.next_task(hold_jobs=down, timeout_s=RECONNECT_EVERY_S if down else None)

    def _run_job(self, job: QueuedJob, config: EngineConfig) -> None:
        job_id = job.info.job_id
        self.job_started.emit(job.info)
        if config.server is not None:
            self._run_remote(job, config)
            return
        try:
            pipeline = self._ensure_loaded(config, abort=job.cancel.is_set)
            if job.cancel.is_set():
                raise GenerationCancelledError("cancelled before sampling started")
            # Each image is handed over as soon as it is decoded, so a cancel later in a batch keeps it.
            pipeline.generate(
                job.info.request,
                on_step=lambda step: self._on_step(job_id, step),
                cancel_event=job.cancel,
                on_result=lambda result: self.result_ready.emit(JobResult(job_id, result)),
            )
        except (GenerationCancelledError, _LoadAbortedError):
            self._queue.finish(job)
            self.job_cancelled.emit(job_id)
            return
        except Exception as err:
            log.warning("job %d failed", job_id, exc_info=True)
            self._queue.finish(job)
            self.job_failed.emit(job_id, describe_failure(err), "".join(traceback.format_exception(err)))
            return
        self._queue.finish(job)
        self.job_finished.emit(job_id)

    def _load_eagerly(self, config: EngineConfig) -> None:
        if config.server is not None:
            self._connect(config)
            return
        # An eager load gives way as soon as the user picks another model.
        self._ensure_loaded(config, abort=lambda: self._queue.config != config)

    def _run_remote(self, job: QueuedJob, config: EngineConfig) -> None:
        """Run a job on the config's server: the same signals as a local job; a lost server holds the queue."""
        job_id = job.info.job_id
        assert config.server is not None
        try:
            self._connect(config, for_job=True)
            self._remote.run(
                config.server,
                job,
                previews=config.options.preview_every > 0,
                on_progress=lambda event, preview: self.progress.emit(_remote_progress(job_id, event, preview)),
                on_result=lambda result: self.result_ready.emit(JobResult(job_id, result)),
            )
        except RemoteJobError as outcome:
            self._queue.finish(job)
            if outcome.cancelled:
                self.job_cancelled.emit(job_id)
                return
            self.job_failed.emit(job_id, str(outcome), str(outcome))
            if outcome.connection_lost:
                self._server_down = True
                self.connection_changed.emit(False, str(outcome))
            return
        self._queue.finish(job)
        self.job_finished.emit(job_id)

    def _connect(self, config: EngineConfig, for_job: bool = False) -> None:
        """Read the server's catalog and report the model's status from it (the server loads the model itself).

        For a job, failures are raised as RemoteJobError and reported by the job alone (one message, not two).
        """
        assert config.server is not None
        if not for_job:
            message = f"Connecting to {config.server.url}…"
            self.model_status.emit(ModelStatus(ModelState.LOADING, config.model, message))
        try:
            models = self._remote.models(config.server)
        except RemoteJobError as outcome:
            if for_job:
                raise
            self.model_status.emit(ModelStatus(ModelState.FAILED, config.model, str(outcome)))
            if outcome.connection_lost and not self._server_down:
                self._server_down = True
                self.connection_changed.emit(False, str(outcome))
            return
        self.server_models.emit(models)
        status = model_status(config.model, config.server.url, models)
        if status != self._model_status_sent or not for_job:
            self.model_status.emit(status)
        self._model_status_sent = status
        if status.state is ModelState.FAILED and for_job:
            raise RemoteJobError(status.message)

    def _look_for_server(self, config: EngineConfig) -> None:
        """While the server is lost: when it answers again (or the app went local), let the queue run again."""
        if config.server is None or self._remote.reachable(config.server):
            self._server_down = False
            back = f"Connected to {config.server.url} again" if config.server else "Rendering on this computer"
            self.connection_changed.emit(True, back)
            if config.server is not None:
                self._connect(config)

    def _on_step(self, job_id: int, step: Any) -> None:
        try:
            preview = pil_to_qimage(step.preview) if step.preview is not None else None
        except Exception:  # a broken preview must not stop the generation
            log.warning("preview conversion failed", exc_info=True)
            preview = None
        self.progress.emit(
            JobProgress(
                job_id=job_id,
                step=step.step,
                total=step.total,
                elapsed_s=step.elapsed_s,
                eta_s=step.eta_s,
                phase=step.phase,
                preview=preview,
                image_index=step.image_index,
                image_count=step.image_count,
            )
        )

    def _sync(self, config: EngineConfig, config_changed: bool) -> None:
        """Bring the loaded pipeline in line with `config`: update options in place, or free it to reload."""
        if config.server is not None and config_changed and not self._server_down:
            self._free()  # rendering moved to a server: this machine's memory is given back
            self._connect(config)
            return
        if self._pipeline is None:
            return
        if self._loaded == config:
            if config_changed and self._ready_status is not None:
                # The controller announced a switch that came back to this model before it was freed.
                self.model_status.emit(self._ready_status)
            return
        if self._loaded is not None and not _needs_reload(self._loaded, config) and hasattr(self._pipeline, "options"):
            self._pipeline.options = config.options  # read at each generation
            self._loaded = config
            return
        # Freed before anything else loads, so switching models never holds two in memory.
        self._free()
        self.model_status.emit(ModelStatus(ModelState.UNLOADED, config.model))

    def _ensure_loaded(self, config: EngineConfig, abort: Callable[[], bool]) -> Any:
        if self._pipeline is not None and self._loaded == config:
            return self._pipeline
        self._free()
        aborted = threading.Event()

        def on_progress(message: str, fraction: float) -> None:
            # Loading cannot be interrupted from outside, so it stops here, at its next progress report.
            if abort() or self._queue.stopping:
                aborted.set()
                raise _LoadAbortedError(message)
            self.model_status.emit(ModelStatus(ModelState.LOADING, config.model, message, fraction))

        self.model_status.emit(ModelStatus(ModelState.LOADING, config.model, "Loading the model…"))
        try:
            pipeline = self._factory(
                config.model, transformer=config.transformer, options=config.options, progress=on_progress
            )
        except Exception as err:
            if aborted.is_set():
                self.model_status.emit(ModelStatus(ModelState.UNLOADED, config.model))
                raise _LoadAbortedError(str(err)) from err
            self.model_status.emit(ModelStatus(ModelState.FAILED, config.model, describe_failure(err)))
            raise
        self._pipeline, self._loaded = pipeline, config
        info = pipeline.info
        self._ready_status = ModelStatus(
            ModelState.READY,
            config.model,
            "Ready",
            1.0,
            native_resolution=info.native_resolution,
            is_demo=info.is_demo,
            name=info.name,
            guidance_scale=info.guidance_scale,
            above_native=info.above_native,
            memory_profile=pipeline.memory_profile,
        )
        self.model_status.emit(self._ready_status)
        return pipeline

    def _free(self) -> None:
        pipeline, self._pipeline, self._loaded, self._ready_status = self._pipeline, None, None, None
        if pipeline is None:
            return
        try:
            pipeline.close()
        except Exception:
            log.warning("closing the pipeline failed", exc_info=True)
        del pipeline
        gc.collect()  # drop reference cycles now so the model's memory is returned before the next load


def load_pipeline(
    model: str,
    transformer: str | None = None,
    options: EngineOptions | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> Any:
    """The default pipeline factory; importing the pipeline here keeps torch out of the GUI's start."""
    from app.engine.pipeline import Pipeline
    from app.engine.quiet import quiet_libraries

    # The window shows loading progress in the model status; the libraries' own bars would only reach the terminal.
    # Failures still raise, and reach the user as the FAILED status with the app's own message.
    quiet_libraries()
    return Pipeline.load(model, transformer=transformer, options=options or EngineOptions(), progress=progress)


def describe_failure(error: BaseException) -> str:
    """The message a user sees for a failed job: a StudioError's own, else a one-line summary."""
    if isinstance(error, StudioError):
        return str(error).strip() or (type(error).__doc__ or type(error).__name__).strip()
    first_line = (str(error).strip().splitlines() or [""])[0][:300]
    if is_out_of_memory(error):
        # The pipeline turns a job's out-of-memory into advice for that job; what reaches here came from loading.
        return (
            f"Not enough memory to load the model ({first_line or type(error).__name__}). Close other programs "
            "that use the device, or in Settings put the text encoder on the CPU."
        )
    detail = f"{type(error).__name__}: {first_line}" if first_line else type(error).__name__
    return f"Generation failed with an unexpected error ({detail}). Copy the details to report it."


def _needs_reload(loaded: EngineConfig, wanted: EngineConfig) -> bool:
    """True unless only options the pipeline reads at each generation (previews, VAE tiling) changed."""
    at_generation = replace(
        loaded.options, preview_every=wanted.options.preview_every, vae_tiling=wanted.options.vae_tiling
    )
    return (loaded.model, loaded.transformer) != (wanted.model, wanted.transformer) or at_generation != wanted.options


def _remote_progress(job_id: int, event: dict[str, Any], preview: QImage | None) -> JobProgress:
    """A server's progress event as the JobProgress a local job sends."""
    return JobProgress(
        job_id=job_id,
        step=int(event["step"]),
        total=int(event["total"]),
        elapsed_s=float(event["elapsed_s"]),
        eta_s=float(event["eta_s"]),
        phase=str(event["phase"]),
        preview=preview,
        image_index=int(event["image_index"]),
        image_count=int(event["image_count"]),
    )
