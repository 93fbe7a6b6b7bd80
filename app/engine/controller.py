"""The GUI's handle on the engine: a job queue in the GUI thread, run by one long-lived worker thread.

Importing this module imports neither torch nor diffusers nor transformers, so the window appears at
once; the worker imports the pipeline on the first job or model load. Every signal is emitted in the
thread the controller lives in (the GUI thread), and no signal is emitted after `shutdown`.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, Signal, Slot

from app.core.downloads import DownloadProgress
from app.core.engine_options import EngineOptions
from app.core.errors import ModelLoadError
from app.core.model_info import ModelInfo, ModelSource
from app.core.paths import AppPaths
from app.core.remote_api import above_native_of
from app.core.request import GenerationRequest
from app.core.resources import DEMO_MODEL_NAME
from app.engine.job_queue import EngineConfig, JobQueue
from app.engine.jobs import JobInfo, JobProgress, ModelState, ModelStatus
from app.engine.token_counter import TokenCounter
from app.engine.worker import EngineWorker
from app.model.catalog import described_model, list_models, resolve_model_path
from app.model.hub_download import download_model
from app.remote.target import ServerTarget

log = logging.getLogger(__name__)

# Every started worker until it has stopped: a QThread destroyed while running aborts the process, so a
# controller dropped without shutdown() must not take its worker with it.
_live_workers: set[EngineWorker] = set()


class EngineController(QObject):
    """Queues generation requests, runs them on the worker thread, and relays what happens as signals."""

    job_queued = Signal(object)  # JobInfo
    job_started = Signal(object)  # JobInfo
    progress = Signal(object)  # JobProgress
    result_ready = Signal(object)  # JobResult, once per image of a batch
    job_finished = Signal(int)  # job id, after all its images
    job_failed = Signal(int, str, str)  # job id, one-line message, details to copy
    job_cancelled = Signal(int)
    queue_changed = Signal(list)  # list[JobInfo] waiting, the running job excluded
    model_status_changed = Signal(object)  # ModelStatus
    model_described = Signal(object)  # ModelInfo | None: a chosen model as its folder describes it, before loading
    connection_changed = Signal(bool, str)  # server reachable, message; only while rendering on a server

    def __init__(
        self,
        model: str = DEMO_MODEL_NAME,
        transformer: str | None = None,
        options: EngineOptions | None = None,
        pipeline_factory: Callable[..., Any] | None = None,
        paths: AppPaths | None = None,
        parent: QObject | None = None,
        server: ServerTarget | None = None,
    ) -> None:
        super().__init__(parent)
        self._paths = paths or AppPaths.from_environment()
        self._queue = JobQueue(EngineConfig(model, transformer, options or EngineOptions(), server))
        self._server_models: list[dict[str, Any]] = []
        self._factory = pipeline_factory
        self._worker: EngineWorker | None = None
        self._next_job_id = 1
        self._status = ModelStatus(ModelState.UNLOADED, model)
        self._token_counters: dict[str, TokenCounter] = {}
        self._shut_down = False

    @property
    def is_busy(self) -> bool:
        """True while a job runs or waits."""
        return self._queue.is_busy

    @property
    def queued_jobs(self) -> list[JobInfo]:
        """Jobs waiting to run, in order (the running job excluded)."""
        return self._queue.waiting()

    @property
    def running_job(self) -> JobInfo | None:
        """The job being run, if any (the quit question and the saved queue name it)."""
        return self._queue.running()

    @property
    def model_status(self) -> ModelStatus:
        """The latest model status sent with model_status_changed."""
        return self._status

    @property
    def model(self) -> str:
        """The model new jobs run with ("demo" or a model folder)."""
        return self._queue.config.model

    def describe_model(self) -> ModelInfo | None:
        """The active model as its folder describes it, read without loading (None: see `described_model`)."""
        return described_model(self._queue.config.model, self._queue.config.transformer)

    @property
    def options(self) -> EngineOptions:
        """The engine options new jobs run with."""
        return self._queue.config.options

    @property
    def server(self) -> ServerTarget | None:
        """The server jobs run on; None: this computer."""
        return self._queue.config.server

    def start(self) -> None:
        """Start the worker thread; submit() and load_model() call it for you."""
        if self._shut_down:
            raise RuntimeError("the engine has been shut down; create a new EngineController")
        if self._worker is not None:
            return
        worker = EngineWorker(self._queue, self._factory)
        worker.job_started.connect(self._on_job_started)
        worker.progress.connect(self._on_progress)
        worker.result_ready.connect(self._on_result_ready)
        worker.job_finished.connect(self._on_job_finished)
        worker.job_failed.connect(self._on_job_failed)
        worker.job_cancelled.connect(self._on_job_cancelled)
        worker.model_status.connect(self._on_model_status)
        worker.connection_changed.connect(self._on_connection_changed)
        worker.server_models.connect(self._on_server_models)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self._worker = worker
        _live_workers.add(worker)
        worker.start()

    def submit(self, request: GenerationRequest) -> int:
        """Queue a request behind the others and return its job id."""
        if not isinstance(request, GenerationRequest):
            raise TypeError(f"request must be a GenerationRequest, got {type(request).__name__}")
        self.start()
        job_id = self._next_job_id
        self._next_job_id += 1
        info, waiting = self._queue.put(job_id, request)
        self.job_queued.emit(info)
        # The queue as the job joined it: the worker may already have taken it, and job_started follows.
        self.queue_changed.emit(waiting)
        return job_id

    def cancel_current(self) -> None:
        """Stop the running job within one step; job_cancelled follows. Does nothing when idle."""
        self._queue.cancel_running()

    def remove_job(self, job_id: int) -> bool:
        """Take a waiting job out of the queue; False when it is not waiting (running, done or unknown)."""
        removed = self._queue.remove(job_id)
        if removed:
            self._emit_queue()
        return removed

    def move_job(self, job_id: int, new_index: int) -> None:
        """Move a waiting job to a position in the queue (0 runs next); a job that already started stays."""
        if self._queue.move(job_id, new_index):
            self._emit_queue()

    def clear_queue(self) -> None:
        """Drop every waiting job; the running job goes on."""
        if self._queue.clear():
            self._emit_queue()

    def set_model(self, model: str, transformer: str | None = None) -> None:
        """Run the next jobs with another model; the worker frees the old one and loads the new when needed."""
        if not isinstance(model, str) or not model.strip():
            raise ValueError(f"model must be 'demo' or a model folder, got {model!r}")
        config = self._queue.config
        if (config.model, config.transformer) == (model, transformer):
            return
        self._queue.replace_config(model=model, transformer=transformer)
        self._set_status(ModelStatus(ModelState.UNLOADED, model))
        # Known from the folder's JSON at once, so the next job uses its guidance even though it loads only then.
        self.model_described.emit(described_model(model, transformer))
        self._emit_queue()  # waiting jobs now name the new model

    def set_options(self, options: EngineOptions) -> None:
        """Apply engine options from the next job on; a loaded model is reloaded with them."""
        if not isinstance(options, EngineOptions):
            raise TypeError(f"options must be EngineOptions, got {type(options).__name__}")
        if self._queue.config.options != options:
            self._queue.replace_config(options=options)

    def set_server(self, server: ServerTarget | None) -> None:
        """Render the next jobs on a server (None: on this computer); the local model is freed while remote.

        The connection is checked at once; model_status_changed and connection_changed tell how it went.
        """
        if server == self._queue.config.server:
            return
        self._server_models = []
        self._queue.replace_config(server=server)
        self._set_status(ModelStatus(ModelState.UNLOADED, self.model))
        if server is not None and not self._shut_down:
            self.load_model()

    def load_model(self) -> None:
        """Load the current model now instead of on the first job; progress comes as model_status_changed."""
        self.start()
        self._queue.request_load()

    def list_models(self) -> list[ModelInfo]:
        """The models the user can pick: this machine's (JSON and headers, no torch), or the server's catalog as last
        read (a lost server shows none)."""
        if self.server is not None:
            return [server_model_info(entry) for entry in self._server_models]
        return list_models(self._paths)

    def download_model(
        self,
        repo_id: str,
        on_progress: Callable[[DownloadProgress], None],
        cancel: threading.Event,
        cache_dir: Path | None = None,
    ) -> Coroutine[Any, Any, Path]:
        """Fetch a Hub model into the local cache: a coroutine for the app's asyncio loop (the window's qasync)."""
        return download_model(repo_id, on_progress, cancel, cache_dir=cache_dir)

    def token_counter(self) -> TokenCounter | None:
        """The prompt token counter of the current model; None when its tokenizer cannot be found."""
        model = self.model
        if model not in self._token_counters:
            try:
                folder = resolve_model_path(model)
            except ModelLoadError:
                return None  # e.g. the demo model is not built yet; the job itself will say why
            counter = TokenCounter.from_model_dir(folder)
            if counter is None:
                return None
            self._token_counters[model] = counter
        return self._token_counters[model]

    def shutdown(self, timeout_s: float = 10.0) -> None:
        """Cancel everything, stop the worker thread and wait for it; safe mid-generation and idempotent."""
        if self._shut_down:
            return
        self._shut_down = True
        self._queue.stop()
        worker, self._worker = self._worker, None
        if worker is None:
            return
        if worker.wait(max(0, int(timeout_s * 1000))):
            _live_workers.discard(worker)
        else:
            log.warning("the engine did not stop within %.1f s; it stops after its current step", timeout_s)

    def _emit_queue(self) -> None:
        self.queue_changed.emit(self._queue.waiting())

    def _set_status(self, status: ModelStatus) -> None:
        self._status = status
        self.model_status_changed.emit(status)

    @Slot(object)
    def _on_job_started(self, info: JobInfo) -> None:
        if not self._shut_down:
            self.job_started.emit(info)
            self._emit_queue()

    @Slot(object)
    def _on_progress(self, progress: JobProgress) -> None:
        if not self._shut_down:
            self.progress.emit(progress)

    @Slot(object)
    def _on_result_ready(self, result: object) -> None:
        if not self._shut_down:
            self.result_ready.emit(result)

    @Slot(int)
    def _on_job_finished(self, job_id: int) -> None:
        if not self._shut_down:
            self.job_finished.emit(job_id)

    @Slot(int, str, str)
    def _on_job_failed(self, job_id: int, message: str, details: str) -> None:
        if not self._shut_down:
            self.job_failed.emit(job_id, message, details)

    @Slot(int)
    def _on_job_cancelled(self, job_id: int) -> None:
        if not self._shut_down:
            self.job_cancelled.emit(job_id)

    @Slot(bool, str)
    def _on_connection_changed(self, reachable: bool, message: str) -> None:
        if not self._shut_down:
            self.connection_changed.emit(reachable, message)

    @Slot(list)
    def _on_server_models(self, models: list) -> None:
        self._server_models = list(models)

    @Slot(object)
    def _on_model_status(self, status: ModelStatus) -> None:
        if not self._shut_down:
            self._set_status(status)


@atexit.register
def _stop_workers_at_exit() -> None:
    """Stop every worker still running, so no thread runs Python while the interpreter finalizes."""
    for worker in list(_live_workers):
        worker.stop()
    for worker in list(_live_workers):
        worker.wait()  # its job is cancelled, so it ends at the job's next step
    _live_workers.clear()


def server_model_info(entry: dict[str, Any]) -> ModelInfo:
    """A server catalog entry as the ModelInfo the model manager lists (its path is the id: no server paths)."""
    return ModelInfo(
        name=str(entry["id"]),
        path=Path(str(entry["id"])),
        native_resolution=int(entry.get("native_resolution") or 0),
        is_demo=bool(entry.get("is_demo")),
        has_trained_kv_weights=bool(entry.get("has_trained_kv_weights")),
        kv_config=None,
        size_bytes=int(entry.get("size_bytes") or 0),
        num_layers=int(entry.get("num_layers") or 0),
        source=ModelSource.SERVER,
        guidance_scale=entry.get("guidance_scale"),
        above_native=above_native_of(entry),
    )
