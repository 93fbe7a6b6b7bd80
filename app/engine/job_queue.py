"""The job queue the controller (GUI thread) and the worker thread share, and the engine config it holds."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import Any

from app.core.engine_options import EngineOptions
from app.core.request import GenerationRequest
from app.engine.jobs import JobInfo
from app.remote.target import ServerTarget


@dataclass(frozen=True)
class EngineConfig:
    """What the worker loads: the model, an optional replacement transformer, the engine options, and the server
    that renders instead of this process (None: this computer)."""

    model: str
    transformer: str | None = None
    options: EngineOptions = field(default_factory=EngineOptions)
    server: ServerTarget | None = None


@dataclass
class QueuedJob:
    """A job in the queue with the event that cancels it."""

    info: JobInfo
    cancel: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class WorkerTask:
    config: EngineConfig
    job: QueuedJob | None
    load: bool
    config_changed: bool


class JobQueue:
    """Waiting jobs, the running one and the engine config, shared by the GUI thread and the worker."""

    def __init__(self, config: EngineConfig) -> None:
        self._cond = threading.Condition()
        self._config = config
        self._waiting: list[QueuedJob] = []
        self._running: QueuedJob | None = None
        self._load_requested = False
        self._sync_requested = False
        self._stopping = False

    @property
    def config(self) -> EngineConfig:
        """The config the next job runs with."""
        with self._cond:
            return self._config

    @property
    def stopping(self) -> bool:
        """True once the engine is shutting down."""
        with self._cond:
            return self._stopping

    def put(self, job_id: int, request: GenerationRequest) -> tuple[JobInfo, list[JobInfo]]:
        """Queue a request, stamped with the current model, as the last job; returns it and the queue it joined."""
        with self._cond:
            info = JobInfo(job_id, _stamped(request, self._config.model))
            self._waiting.append(QueuedJob(info))
            self._cond.notify_all()
            return info, [job.info for job in self._waiting]

    @property
    def is_busy(self) -> bool:
        """True while a job runs or waits."""
        with self._cond:
            return self._running is not None or bool(self._waiting)

    def waiting(self) -> list[JobInfo]:
        """Jobs not started yet, in the order they will run."""
        with self._cond:
            return [job.info for job in self._waiting]

    def running(self) -> JobInfo | None:
        """The job being run, if any."""
        with self._cond:
            return self._running.info if self._running else None

    def remove(self, job_id: int) -> bool:
        """Drop a waiting job; False when it is not waiting (unknown, running or done)."""
        with self._cond:
            for index, job in enumerate(self._waiting):
                if job.info.job_id == job_id:
                    del self._waiting[index]
                    return True
            return False

    def move(self, job_id: int, new_index: int) -> bool:
        """Move a waiting job to `new_index` (clamped to the queue); False when it is not waiting."""
        with self._cond:
            for index, job in enumerate(self._waiting):
                if job.info.job_id == job_id:
                    del self._waiting[index]
                    self._waiting.insert(max(0, min(new_index, len(self._waiting))), job)
                    return True
            return False

    def clear(self) -> int:
        """Drop every waiting job and return how many there were."""
        with self._cond:
            count = len(self._waiting)
            self._waiting.clear()
            return count

    def cancel_running(self) -> bool:
        """Ask the running job to stop; False when none runs."""
        with self._cond:
            if self._running is None:
                return False
            self._running.cancel.set()
            return True

    def set_config(self, config: EngineConfig) -> None:
        """Use `config` from the next job on; waiting jobs are re-stamped and the worker frees a stale model."""
        with self._cond:
            self._config = config
            for job in self._waiting:
                job.info = JobInfo(job.info.job_id, _stamped(job.info.request, config.model))
            self._sync_requested = True
            self._cond.notify_all()

    def replace_config(self, **changes: Any) -> EngineConfig:
        """Change some of the config's fields (as set_config) and return the new config."""
        with self._cond:
            config = replace(self._config, **changes)
        self.set_config(config)
        return config

    def request_load(self) -> None:
        """Ask the worker to load the current model now."""
        with self._cond:
            self._load_requested = True
            self._cond.notify_all()

    def stop(self) -> None:
        """Cancel the running job, drop the waiting ones and wake the worker so it exits."""
        with self._cond:
            self._stopping = True
            self._waiting.clear()
            if self._running is not None:
                self._running.cancel.set()
            self._cond.notify_all()

    def next_task(self, hold_jobs: bool = False, timeout_s: float | None = None) -> WorkerTask | None:
        """Block until there is work (jobs stay queued while `hold_jobs`); None when the worker must exit.

        After `timeout_s` without work, an empty task comes back so the worker can look around (a lost server).
        """
        with self._cond:

            def ready() -> bool:
                jobs = bool(self._waiting) and not hold_jobs
                return self._stopping or jobs or self._load_requested or self._sync_requested

            if not self._cond.wait_for(ready, timeout_s):
                return WorkerTask(self._config, None, False, False)
            if self._stopping:
                return None
            job = self._waiting.pop(0) if self._waiting and not hold_jobs else None
            self._running = job
            task = WorkerTask(self._config, job, self._load_requested, self._sync_requested)
            self._load_requested = self._sync_requested = False
            return task

    def finish(self, job: QueuedJob) -> None:
        """Mark the running job done."""
        with self._cond:
            if self._running is job:
                self._running = None


def _stamped(request: GenerationRequest, model: str) -> GenerationRequest:
    return request if request.model == model else replace(request, model=model)
