"""The worker side of the engine: its job queue, failure messages, preview images and interruptible loading."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
from PIL import Image

from app.core.engine_options import EngineOptions
from app.core.errors import InsufficientMemoryError
from app.core.request import GenerationRequest
from app.core.sizes import HighResMethod
from app.engine.controller import EngineController
from app.engine.jobs import ModelState
from app.engine.qt_images import pil_to_qimage
from app.engine.worker import EngineConfig, JobQueue, describe_failure

WAIT_MS = 10_000


def request(prompt: str) -> GenerationRequest:
    return GenerationRequest(prompt=prompt, width=64, height=64, steps=2)


class SlowLoadFactory:
    """Loads "slow" forever (until its progress callback stops it); other models load at once."""

    def __init__(self) -> None:
        self.aborted: list[str] = []
        self.loaded: list[str] = []

    def __call__(self, model, transformer=None, options=None, progress=None):
        if model == "slow":
            try:
                for _ in range(1000):
                    progress("Reading weights", 0.1)
                    threading.Event().wait(0.01)
            except Exception as err:
                self.aborted.append(type(err).__name__)
                raise RuntimeError("loader wrapped the interruption") from err
            raise AssertionError("the slow load was never interrupted")
        self.loaded.append(model)
        return SimpleNamespace(
            info=SimpleNamespace(
                name=model, native_resolution=512, is_demo=False, guidance_scale=None, above_native=HighResMethod.AUTO
            ),
            memory_profile=None,
            generate=lambda request, on_step=None, cancel_event=None: [],
            close=lambda: None,
        )


@pytest.fixture
def slow_engine(qtbot):
    factory = SlowLoadFactory()
    engine = EngineController(model="slow", pipeline_factory=factory)
    yield engine, factory
    engine.shutdown()


def test_queue_hands_out_jobs_first_in_first_out_stamped_with_the_model():
    """Jobs come out in submission order, each naming the model the engine will run it with."""
    queue = JobQueue(EngineConfig("/models/sigma"))
    queue.put(1, request("one"))
    info, waiting = queue.put(2, request("two"))
    assert [j.job_id for j in waiting] == [1, 2] and info.request.model == "/models/sigma"
    task = queue.next_task()
    assert task.job.info.job_id == 1 and task.job.info.request.model == "/models/sigma"
    assert [j.job_id for j in queue.waiting()] == [2]
    assert queue.is_busy
    queue.finish(task.job)
    assert queue.next_task().job.info.job_id == 2


def test_switching_config_restamps_waiting_jobs_and_wakes_the_worker():
    """After a model switch the waiting jobs name the new model and the worker gets a task to free the old one."""
    queue = JobQueue(EngineConfig("demo"))
    queue.put(1, request("one"))
    queue.set_config(EngineConfig("/models/other", options=EngineOptions(preview_every=5)))
    assert queue.waiting()[0].request.model == "/models/other"
    task = queue.next_task()
    assert task.config.model == "/models/other" and task.config.options.preview_every == 5
    queue.finish(task.job)
    queue.set_config(EngineConfig("demo"))
    sync = queue.next_task()  # no job, but a wake-up to free the model loaded for the old config
    assert sync.job is None and not sync.load and sync.config.model == "demo"


def test_stop_cancels_the_running_job_and_ends_the_worker_loop():
    """Stopping sets the running job's cancel event, drops the waiting ones, and next_task returns None."""
    queue = JobQueue(EngineConfig("demo"))
    queue.put(1, request("one"))
    queue.put(2, request("two"))
    running = queue.next_task().job
    queue.stop()
    assert running.cancel.is_set()
    assert queue.waiting() == [] and queue.next_task() is None


def test_next_task_blocks_until_work_arrives():
    """An idle worker sleeps until a job is queued."""
    queue = JobQueue(EngineConfig("demo"))
    got = []
    thread = threading.Thread(target=lambda: got.append(queue.next_task()))
    thread.start()
    thread.join(0.05)
    assert thread.is_alive() and got == []
    queue.put(7, request("wake up"))
    thread.join(5)
    assert got[0].job.info.job_id == 7


def test_failure_messages_keep_studio_errors_and_summarise_the_rest():
    """Users see a StudioError's own words, loading advice for out-of-memory (a job's own is the pipeline's), and
    one line for bugs."""
    assert describe_failure(InsufficientMemoryError("Needs 9 GB; 4 GB free.")) == "Needs 9 GB; 4 GB free."
    out_of_memory = type("OutOfMemoryError", (RuntimeError,), {})("CUDA out of memory. Tried to allocate 2.00 GiB")
    assert describe_failure(out_of_memory).startswith("Not enough memory to load the model (CUDA out of memory.")
    assert "text encoder on the CPU" in describe_failure(MemoryError())
    bug = describe_failure(ValueError("shape mismatch\n  at line 3\n" + "x" * 1000))
    assert bug.startswith("Generation failed with an unexpected error (ValueError: shape mismatch)")
    assert "\n" not in bug


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L"])
def test_previews_become_qimages_that_own_their_pixels(qapp, mode):
    """A PIL preview of any mode becomes a QImage with the same pixels, valid after the PIL image is gone."""
    image = Image.new("RGB", (5, 3), (10, 200, 30)).convert(mode)
    image.putpixel((4, 2), (250, 0, 0) if mode != "L" else 77)
    expected = image.convert("RGB").getpixel((4, 2))
    qimage = pil_to_qimage(image)
    del image
    assert (qimage.width(), qimage.height()) == (5, 3)
    assert qimage.pixelColor(4, 2).getRgb()[:3] == expected


def test_an_eager_load_gives_way_when_another_model_is_picked(qtbot, slow_engine):
    """Loading a slow model stops at its next progress report once the user switches models; the new one loads."""
    engine, factory = slow_engine
    with qtbot.waitSignal(engine.model_status_changed, timeout=WAIT_MS, check_params_cb=lambda s: s.fraction == 0.1):
        engine.load_model()
    with qtbot.waitSignal(
        engine.model_status_changed, timeout=WAIT_MS, check_params_cb=lambda s: s.state is ModelState.READY
    ):
        engine.set_model("fast")
        engine.load_model()
    assert factory.aborted == ["_LoadAbortedError"]
    assert factory.loaded == ["fast"] and engine.model_status.model == "fast"


def test_cancelling_a_job_while_its_model_loads_cancels_it(qtbot, slow_engine):
    """A job cancelled during its model's load ends as cancelled, not failed, and the model is not kept."""
    engine, factory = slow_engine
    with qtbot.waitSignal(engine.model_status_changed, timeout=WAIT_MS, check_params_cb=lambda s: s.fraction == 0.1):
        job_id = engine.submit(request("waits for the model"))
    with qtbot.waitSignal(engine.job_cancelled, timeout=WAIT_MS) as cancelled:
        engine.cancel_current()
    assert cancelled.args == [job_id]
    assert engine.model_status.state is ModelState.UNLOADED and factory.loaded == []


def test_shutdown_interrupts_a_model_load(qtbot, slow_engine):
    """Shutting down while a model loads stops the load and the thread before returning."""
    engine, factory = slow_engine
    with qtbot.waitSignal(engine.model_status_changed, timeout=WAIT_MS, check_params_cb=lambda s: s.fraction == 0.1):
        engine.load_model()
    worker = engine._worker
    engine.shutdown(timeout_s=30)
    assert worker.isFinished() and factory.aborted == ["_LoadAbortedError"]
