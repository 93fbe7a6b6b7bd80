"""The Renderer that runs jobs on this process's engine: one thread, one loaded pipeline, a fair queue."""

from __future__ import annotations

import base64
import gc
import io
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from app.core.engine_options import EngineOptions
from app.core.errors import GenerationCancelledError, InvalidRequestError, ModelLoadError, StudioError
from app.core.remote_api import EventType, JobState
from app.core.request import GenerationRequest, GenerationResult
from app.server.backend import QueueFullError, UnknownModelError
from app.server.catalog import ServerCatalog
from app.server.fair_queue import FairQueue
from app.server.job import FinishedImage, JobSpec, ServerJob

log = logging.getLogger(__name__)

PREVIEW_SIDE = 256  # previews are for watching the image form, not for judging it
PREVIEW_EVERY = 2  # steps between previews when a client asks for them
RESULT_TTL_S = 600.0  # finished jobs whose images nobody fetched are dropped after this
PipelineLoader = Callable[[Path, EngineOptions], Any]


def load_pipeline(model_path: Path, options: EngineOptions) -> Any:
    """The engine's pipeline for a catalog model; imported here so the API starts without torch."""
    from app.engine.pipeline import Pipeline
    from app.engine.quiet import quiet_libraries

    quiet_libraries()  # the server logs its own lines; the libraries' bars would break them up
    return Pipeline.load(model_path, options=options)


class LocalRenderer:
    """Runs one job at a time on a worker thread, taking jobs from the clients' lines in turn."""

    def __init__(
        self,
        catalog: ServerCatalog,
        defaults: EngineOptions,
        max_queue: int = 4,
        loader: PipelineLoader = load_pipeline,
        result_ttl_s: float = RESULT_TTL_S,
    ) -> None:
        self._catalog = catalog
        self.defaults = defaults
        self._max_queue = max_queue
        self._queue: FairQueue[ServerJob] = FairQueue(max_queue)
        self._loader = loader
        self._ttl = result_ttl_s
        self._jobs: dict[str, ServerJob] = {}
        self._lock = threading.Lock()
        self._running: ServerJob | None = None
        self._pipeline: Any = None
        self._loaded: tuple[Path, EngineOptions] | None = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="pixart-server-renderer", daemon=True)
        self._thread.start()

    def models(self) -> list[dict[str, Any]]:
        """The catalog offered to clients."""
        return self._catalog.public()

    def submit(self, client: str, request: GenerationRequest, options: EngineOptions, previews: bool) -> ServerJob:
        """Queue a job behind the client's own; UnknownModelError or QueueFullError refuse it."""
        try:
            path = self._catalog.path(request.model)
        except KeyError:
            offered = ", ".join(self._catalog.entries) or "none"
            raise UnknownModelError(
                f"model {request.model!r} is not offered by this server; choose: {offered}"
            ) from None
        check_options(options)
        self._sweep()
        job = ServerJob(JobSpec(client, request, path, options, previews))
        with self._lock:
            mine = sum(1 for other in self._jobs.values() if other.spec.client == client and not other.state.is_final)
            if mine >= self._max_queue:
                raise QueueFullError(
                    f"this client already has {mine} jobs queued or running; at most {self._max_queue}"
                )
            self._queue.put(client, job)
            self._jobs[job.id] = job
        job.publish({"type": EventType.STATE.value, "state": JobState.QUEUED.value})
        return job

    def job(self, job_id: str) -> ServerJob | None:
        """A job still known."""
        with self._lock:
            return self._jobs.get(job_id)

    def cancel(self, job_id: str) -> bool:
        """Cancel a waiting job at once, or the running one within a step."""
        job = self.job(job_id)
        if job is None or job.state.is_final:
            return False
        job.cancel_event.set()
        if self._queue.remove(job):
            job.publish({"type": EventType.CANCELLED.value})
        return True

    def forget(self, job_id: str) -> None:
        """Cancel (if needed) and drop a job and its images."""
        self.cancel(job_id)
        with self._lock:
            self._jobs.pop(job_id, None)

    def active_jobs(self) -> int:
        """Jobs queued or running (what a leak would show)."""
        with self._lock:
            return sum(1 for job in self._jobs.values() if not job.state.is_final)

    def close(self) -> None:
        """Cancel every job, stop the thread after its current step and free the model."""
        self._stopping.set()
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            self.cancel(job.id)
        self._queue.close()
        self._thread.join(timeout=30)

    def _sweep(self) -> None:
        """Drop finished jobs older than the TTL, so unfetched images do not pile up."""
        now = time.monotonic()
        with self._lock:
            for job_id, job in list(self._jobs.items()):
                if job.finished_at is not None and now - job.finished_at > self._ttl:
                    del self._jobs[job_id]

    def _loop(self) -> None:
        try:
            while not self._stopping.is_set():
                job = self._queue.take(timeout_s=1.0)
                if job is None:
                    continue
                self._running = job
                try:
                    self._run(job)
                finally:
                    self._running = None
        finally:
            self._free()

    def _run(self, job: ServerJob) -> None:
        spec = job.spec
        if job.cancel_event.is_set():
            job.publish({"type": EventType.CANCELLED.value})
            return
        job.publish({"type": EventType.STATE.value, "state": JobState.RUNNING.value})
        try:
            pipeline = self._ensure_loaded(spec.model_path, spec.options)
            pipeline.options = replace(spec.options, preview_every=PREVIEW_EVERY if spec.previews else 0)
            pipeline.generate(
                spec.request,
                on_step=lambda step: job.publish(_progress_event(step)),
                cancel_event=job.cancel_event,
                on_result=lambda result: job.add_image(_finished_image(result)),
            )
        except GenerationCancelledError:
            job.publish({"type": EventType.CANCELLED.value})
        except StudioError as error:
            job.publish({"type": EventType.FAILED.value, "message": str(error)})
        except Exception as error:  # the server must outlive any bug in one job
            log.exception("job %s failed", job.id)
            job.publish({"type": EventType.FAILED.value, "message": f"the server failed: {type(error).__name__}"})
        else:
            job.publish({"type": EventType.FINISHED.value})

    def _ensure_loaded(self, path: Path, options: EngineOptions) -> Any:
        # Previews and tiling are read at each generation; anything else needs the model loaded again.
        key = (path, replace(options, preview_every=0, vae_tiling=self.defaults.vae_tiling))
        if self._pipeline is not None and self._loaded == key:
            return self._pipeline
        self._free()
        log.info("loading model %s (%s, %s)", path.name, options.device_label, options.precision.value)
        self._pipeline, self._loaded = self._loader(path, options), key
        return self._pipeline

    def _free(self) -> None:
        pipeline, self._pipeline, self._loaded = self._pipeline, None, None
        if pipeline is not None:
            pipeline.close()
            del pipeline
            gc.collect()


def check_options(options: EngineOptions) -> None:
    """InvalidRequestError naming what to choose when this machine cannot run the options (imports torch)."""
    from app.engine.device_policy import pick_device, pick_text_encoder

    device = pick_device(options.device, options.device_index)
    if options.text_encoder.value == "8bit":
        try:
            pick_text_encoder(options.text_encoder, device, 0, 0)
        except ModelLoadError as error:  # a package the server lacks: the client must choose otherwise
            raise InvalidRequestError(f"on this server, {error}") from None


def _progress_event(step: Any) -> dict[str, Any]:
    """A pipeline step as a stream event; the preview as a small JPEG, base64."""
    preview = None
    if step.preview is not None:
        image = step.preview.convert("RGB")
        image.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=85)
        preview = base64.b64encode(buffer.getvalue()).decode("ascii")
    return {
        "type": EventType.PROGRESS.value,
        "step": step.step,
        "total": step.total,
        "elapsed_s": round(step.elapsed_s, 3),
        "eta_s": round(step.eta_s, 3),
        "phase": step.phase,
        "image_index": step.image_index,
        "image_count": step.image_count,
        "preview": preview,
    }


def _finished_image(result: GenerationResult) -> FinishedImage:
    """The PNG a local run would write (same metadata chunks), and its metadata as JSON."""
    from app.store.metadata import metadata_json, png_info

    settings = metadata_json(result)
    buffer = io.BytesIO()
    dpi = result.request.dpi
    result.image.save(buffer, "PNG", pnginfo=png_info(result, settings), dpi=(dpi, dpi), compress_level=1)
    return FinishedImage(buffer.getvalue(), settings)
