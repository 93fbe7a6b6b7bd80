"""The engine controller: job signals, queue editing, cancel, failures, model switching and shutdown."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from PIL import Image

from app.core.engine_options import DeviceChoice, EngineOptions, VaeTiling
from app.core.errors import GenerationCancelledError, InsufficientMemoryError, ModelLoadError
from app.core.request import GenerationRequest, GenerationResult
from app.core.sizes import HighResMethod
from app.engine.controller import EngineController
from app.engine.jobs import JobInfo, JobProgress, JobResult, ModelState
from app.engine.progress import StepProgress

WAIT_MS = 10_000
REPO_ROOT = Path(__file__).resolve().parents[2]


class FakePipeline:
    """Stands in for Pipeline: steps through a request; prompts starting with hold/fail steer it."""

    def __init__(self, factory: FakeFactory, model: str, options: EngineOptions) -> None:
        self.factory = factory
        self.model = model
        self.options = options
        self.info = SimpleNamespace(
            name=f"Fake {model}",
            native_resolution=256,
            is_demo=model == "demo",
            guidance_scale=None,
            above_native=HighResMethod.AUTO,
        )
        self.memory_profile = None
        self.closed_in: int | None = None
        self.generate_threads: set[int] = set()

    def generate(self, request, on_step=None, cancel_event=None, on_result=None):
        self.generate_threads.add(threading.get_ident())
        if request.prompt.startswith("fail studio"):
            raise InsufficientMemoryError("2048×2048 needs 9.1 GB but 4.0 GB are free; pick a smaller tier.")
        if request.prompt.startswith("fail bug"):
            raise KeyError("latents")
        for index in range(request.batch_size):
            for step in range(1, request.steps + 1):
                if cancel_event is not None and cancel_event.is_set():
                    raise GenerationCancelledError("cancelled")
                preview = Image.new("RGB", (16, 8), (255, 0, 0)) if step % 2 == 0 else None
                on_step(
                    StepProgress(step, request.steps, 0.1 * step, 0.1, "sampling", preview, index, request.batch_size)
                )
                if request.prompt.startswith("hold") and step == self.factory.hold_at:
                    # Wait here as a slow step would, until the test cancels or releases the job.
                    while not (cancel_event.is_set() or self.factory.release.is_set()):
                        cancel_event.wait(0.01)
            result = GenerationResult(
                image=Image.new("RGB", (request.width, request.height)),
                request=request.with_seed(request.seed + index),
                model_name=self.info.name,
            )
            if on_result is not None:
                on_result(result)
        return []

    def close(self) -> None:
        self.closed_in = threading.get_ident()


class FakeFactory:
    """A pipeline factory that records loads; the model "broken" fails to load."""

    def __init__(self) -> None:
        self.pipelines: list[FakePipeline] = []
        self.load_threads: list[int] = []
        self.options: list[EngineOptions] = []
        self.hold_at = 2
        self.release = threading.Event()

    def __call__(self, model, transformer=None, options=None, progress=None):
        self.load_threads.append(threading.get_ident())
        self.options.append(options)
        if progress is not None:
            progress("Reading the transformer", 0.5)
        if model == "broken":
            raise ModelLoadError("broken/transformer/config.json: file not found")
        pipeline = FakePipeline(self, model, options)
        self.pipelines.append(pipeline)
        return pipeline


class Recorder:
    """Every signal of a controller, in arrival order."""

    def __init__(self, controller: EngineController) -> None:
        self.events: list[tuple[str, object]] = []
        for name in (
            "job_queued",
            "job_started",
            "progress",
            "result_ready",
            "job_finished",
            "job_cancelled",
            "queue_changed",
            "model_status_changed",
        ):
            getattr(controller, name).connect(lambda value, name=name: self.events.append((name, value)))
        controller.job_failed.connect(lambda *args: self.events.append(("job_failed", args)))

    def of(self, name: str) -> list:
        return [value for event, value in self.events if event == name]

    def names(self, *skip: str) -> list[str]:
        return [event for event, _ in self.events if event not in skip]


@pytest.fixture
def factory() -> FakeFactory:
    return FakeFactory()


@pytest.fixture
def controller(qtbot, factory):
    engine = EngineController(pipeline_factory=factory)
    engine.start()
    yield engine
    factory.release.set()
    engine.shutdown()


def request(prompt: str = "a red square", steps: int = 4, **kwargs) -> GenerationRequest:
    return GenerationRequest(prompt=prompt, width=64, height=64, steps=steps, **kwargs)


def test_a_job_sends_queued_started_progress_result_finished_in_order(qtbot, controller):
    """A job is announced, started, reports every step, delivers each image as soon as it is made, then finishes."""
    recorder = Recorder(controller)
    with qtbot.waitSignal(controller.job_finished, timeout=WAIT_MS):
        job_id = controller.submit(request(steps=3, batch_size=2, seed=7))
    names = recorder.names("model_status_changed", "queue_changed")
    per_image = ["progress"] * 3 + ["result_ready"]
    assert names == ["job_queued", "job_started", *per_image, *per_image, "job_finished"]
    assert recorder.of("job_queued")[0].job_id == job_id
    assert [(p.image_index, p.step) for p in recorder.of("progress")] == [(i, s) for i in (0, 1) for s in (1, 2, 3)]
    results = recorder.of("result_ready")
    assert all(isinstance(r, JobResult) and r.job_id == job_id for r in results)
    assert [r.result.request.seed for r in results] == [7, 8]
    assert recorder.of("job_finished") == [job_id]
    assert recorder.of("queue_changed") == [[JobInfo(job_id, request(steps=3, batch_size=2, seed=7))], []]
    assert not controller.is_busy


def test_progress_carries_previews_as_qimages(qtbot, controller):
    """Steps with a preview deliver it as a QImage with the preview's pixels; the others carry none."""
    recorder = Recorder(controller)
    with qtbot.waitSignal(controller.job_finished, timeout=WAIT_MS):
        controller.submit(request(steps=4))
    progress: list[JobProgress] = recorder.of("progress")
    assert [p.preview is not None for p in progress] == [False, True, False, True]
    preview = progress[1].preview
    assert (preview.width(), preview.height()) == (16, 8)
    assert preview.pixelColor(3, 5).getRgb()[:3] == (255, 0, 0)
    assert progress[-1].fraction == 1.0
    assert progress[0].fraction == pytest.approx(0.25)


def test_cancel_at_step_k_stops_the_job_there(qtbot, controller, factory):
    """Cancelling at step 3 of 10 ends the job as cancelled with no step after 3 and no result."""
    factory.hold_at = 3
    recorder = Recorder(controller)
    with qtbot.waitSignal(controller.progress, timeout=WAIT_MS, check_params_cb=lambda p: p.step == 3):
        job_id = controller.submit(request("hold here", steps=10))
    with qtbot.waitSignal(controller.job_cancelled, timeout=WAIT_MS) as cancelled:
        controller.cancel_current()
    assert cancelled.args == [job_id]
    assert [p.step for p in recorder.of("progress")] == [1, 2, 3]
    assert recorder.of("result_ready") == [] and recorder.of("job_finished") == []
    assert not controller.is_busy
    with qtbot.waitSignal(controller.job_finished, timeout=WAIT_MS):
        controller.submit(request())  # the engine is ready for the next job


def test_two_jobs_run_one_after_the_other_in_order(qtbot, controller):
    """Two submitted jobs both run, the first to completion before the second starts."""
    recorder = Recorder(controller)
    first = controller.submit(request("first"))
    with qtbot.waitSignal(controller.job_finished, timeout=WAIT_MS, check_params_cb=lambda i: i == first + 1):
        second = controller.submit(request("second"))
    order = [(name, value) for name, value in recorder.events if name in ("job_started", "job_finished")]
    assert [(name, getattr(v, "job_id", v)) for name, v in order] == [
        ("job_started", first),
        ("job_finished", first),
        ("job_started", second),
        ("job_finished", second),
    ]
    assert [r.result.request.prompt for r in recorder.of("result_ready")] == ["first", "second"]


def test_waiting_jobs_can_be_moved_removed_and_cleared(qtbot, controller, factory):
    """While one job runs, the queue behind it can be reordered and emptied; only what is left runs."""
    recorder = Recorder(controller)
    with qtbot.waitSignal(controller.job_started, timeout=WAIT_MS):
        running = controller.submit(request("hold on"))
    a, b, c, d = (controller.submit(request(name)) for name in ("a", "b", "c", "d"))
    controller.move_job(d, 0)
    assert [j.job_id for j in controller.queued_jobs] == [d, a, b, c]
    assert controller.remove_job(a) is True
    assert controller.remove_job(running) is False  # the running job is not in the queue
    controller.move_job(b, 99)
    assert [j.job_id for j in recorder.of("queue_changed")[-1]] == [d, c, b]
    controller.move_job(running, 0)  # ignored: already started
    assert [j.job_id for j in controller.queued_jobs] == [d, c, b]
    controller.clear_queue()
    assert controller.queued_jobs == [] and recorder.of("queue_changed")[-1] == []
    e = controller.submit(request("e"))
    factory.release.set()
    with qtbot.waitSignal(controller.job_finished, timeout=WAIT_MS, check_params_cb=lambda i: i == e):
        pass
    assert [info.job_id for info in recorder.of("job_started")] == [running, e]


def test_a_failing_job_reports_why_and_the_next_job_still_runs(qtbot, controller):
    """A StudioError's message reaches the user as-is, a bug is summarised with its traceback; work goes on."""
    recorder = Recorder(controller)
    studio = controller.submit(request("fail studio"))
    bug = controller.submit(request("fail bug"))
    with qtbot.waitSignal(controller.job_finished, timeout=WAIT_MS) as finished:
        good = controller.submit(request("fine"))
    assert finished.args == [good]
    failures = {job_id: (message, details) for job_id, message, details in recorder.of("job_failed")}
    assert failures[studio][0] == "2048×2048 needs 9.1 GB but 4.0 GB are free; pick a smaller tier."
    message, details = failures[bug]
    assert "unexpected error" in message and "KeyError" in message and "\n" not in message
    assert "Traceback" in details and "KeyError: 'latents'" in details
    assert len(recorder.of("result_ready")) == 1


def test_switching_models_frees_the_old_one_in_the_worker_and_runs_jobs_on_the_new(qtbot, controller, factory):
    """After set_model, the old pipeline is closed on the worker thread and new jobs use and name the new model."""
    with qtbot.waitSignal(controller.job_finished, timeout=WAIT_MS):
        controller.submit(request())
    old = factory.pipelines[0]
    assert controller.model_status.state is ModelState.READY and controller.model_status.is_demo
    with qtbot.waitSignal(controller.job_started, timeout=WAIT_MS):
        controller.submit(request("hold"))
    waiting = controller.submit(request("after the switch"))
    recorder = Recorder(controller)
    controller.set_model("/models/other")
    assert controller.model_status.state is ModelState.UNLOADED and controller.model_status.model == "/models/other"
    assert controller.queued_jobs[0].request.model == "/models/other"
    factory.release.set()
    with qtbot.waitSignal(controller.job_finished, timeout=WAIT_MS, check_params_cb=lambda i: i == waiting):
        pass
    assert old.closed_in is not None and old.closed_in != threading.get_ident()
    new = factory.pipelines[-1]
    assert new.model == "/models/other" and new.closed_in is None
    assert recorder.of("result_ready")[-1].result.request.model == "/models/other"
    states = [(s.state, s.model) for s in recorder.of("model_status_changed")]
    assert states[-1] == (ModelState.READY, "/models/other")
    assert controller.model_status.name == "Fake /models/other"


def test_switching_away_and_back_before_the_worker_frees_keeps_the_model_ready(qtbot, controller, factory):
    """Picking another model and then the loaded one again, during a job, ends with that model still READY."""
    with qtbot.waitSignal(controller.progress, timeout=WAIT_MS, check_params_cb=lambda p: p.step == factory.hold_at):
        controller.submit(request("hold"))  # the model's statuses all arrive before this step's progress
    controller.set_model("/models/other")
    controller.set_model("demo")
    assert controller.model_status.state is ModelState.UNLOADED
    factory.release.set()
    with qtbot.waitSignal(
        controller.model_status_changed, timeout=WAIT_MS, check_params_cb=lambda s: s.state is ModelState.READY
    ):
        pass
    assert controller.model_status.model == "demo" and len(factory.pipelines) == 1


def test_option_changes_reload_the_model_only_when_loading_depends_on_them(qtbot, controller, factory):
    """A preview or tiling change reaches the warm model in place; a device change reloads it."""
    with qtbot.waitSignal(controller.job_finished, timeout=WAIT_MS):
        controller.submit(request())
    controller.set_options(EngineOptions(preview_every=5, vae_tiling=VaeTiling.ON))
    with qtbot.waitSignal(controller.job_finished, timeout=WAIT_MS):
        controller.submit(request())
    assert len(factory.pipelines) == 1
    assert factory.pipelines[0].options == EngineOptions(preview_every=5, vae_tiling=VaeTiling.ON)
    controller.set_options(EngineOptions(preview_every=5, vae_tiling=VaeTiling.ON, device=DeviceChoice.CPU))
    with qtbot.waitSignal(controller.job_finished, timeout=WAIT_MS):
        controller.submit(request())
    assert len(factory.pipelines) == 2 and factory.pipelines[0].closed_in is not None
    assert factory.options[-1].device is DeviceChoice.CPU


def test_load_model_reports_loading_progress_then_ready(qtbot, controller, factory):
    """Warming up loads the model on the worker thread and reports its progress, then what was loaded."""
    recorder = Recorder(controller)
    with qtbot.waitSignal(
        controller.model_status_changed, timeout=WAIT_MS, check_params_cb=lambda s: s.state is ModelState.READY
    ):
        controller.load_model()
    statuses = recorder.of("model_status_changed")
    assert [s.state for s in statuses] == [ModelState.LOADING, ModelState.LOADING, ModelState.READY]
    assert statuses[1].message == "Reading the transformer" and statuses[1].fraction == 0.5
    assert (statuses[-1].name, statuses[-1].native_resolution) == ("Fake demo", 256)
    assert factory.load_threads[0] != threading.get_ident()
    with qtbot.waitSignal(controller.job_finished, timeout=WAIT_MS):
        controller.submit(request())
    assert len(factory.pipelines) == 1  # the warm model served the job


def test_a_model_that_fails_to_load_fails_its_job_and_the_engine_recovers(qtbot, controller):
    """A broken model fails the job with the loader's message and a FAILED status; another model then works."""
    controller.set_model("broken")
    recorder = Recorder(controller)
    with qtbot.waitSignal(controller.job_failed, timeout=WAIT_MS) as failed:
        controller.submit(request())
    assert failed.args[1] == "broken/transformer/config.json: file not found"
    assert controller.model_status.state is ModelState.FAILED
    assert controller.model_status.message == "broken/transformer/config.json: file not found"
    controller.set_model("demo")
    with qtbot.waitSignal(controller.job_finished, timeout=WAIT_MS):
        controller.submit(request())
    assert recorder.of("model_status_changed")[-1].state is ModelState.READY


def test_shutdown_during_a_job_stops_the_thread_and_frees_the_model(qtbot, controller, factory):
    """Shutting down mid-generation returns with the thread stopped, the model closed and nothing more sent."""
    # Wait for the held step, not job_started: a job starts before its model loads, and a shutdown in between
    # would leave no pipeline to check.
    with qtbot.waitSignal(controller.progress, timeout=WAIT_MS, check_params_cb=lambda p: p.step == factory.hold_at):
        controller.submit(request("hold"))
    controller.submit(request("never runs"))
    worker = controller._worker
    recorder = Recorder(controller)
    controller.shutdown()
    assert worker.isFinished() and not worker.isRunning()
    assert factory.pipelines[0].closed_in is not None
    assert not controller.is_busy and controller.queued_jobs == []
    qtbot.wait(50)  # let any queued signal arrive: none may be relayed after shutdown
    assert recorder.events == []
    controller.shutdown()  # idempotent
    with pytest.raises(RuntimeError, match="shut down"):
        controller.submit(request())


def test_submit_rejects_what_is_not_a_request(controller):
    """Submitting a dict instead of a GenerationRequest is refused, naming the type."""
    with pytest.raises(TypeError, match="dict"):
        controller.submit({"prompt": "x"})


_QUIT_SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication
from test_controller import FakeFactory, request
from app.engine.controller import EngineController

app = QGuiApplication([])
factory = FakeFactory()
engine = EngineController(pipeline_factory=factory)
engine.progress.connect(lambda progress: app.quit())  # shutdown comes from aboutToQuit
engine.submit(request("hold until the end", steps=50))
QTimer.singleShot(60_000, lambda: app.exit(3))
code = app.exec()
print("closed" if factory.pipelines[0].closed_in else "open", code)
"""

_EXIT_SCRIPT = """
import atexit, sys, time
# Registered before the controller module registers its hook, so it runs after it (last-in first-out).
atexit.register(lambda: print("closed" if factory.pipelines[0].closed_in else "open", 0))
sys.path.insert(0, {tests!r})
from test_controller import FakeFactory, request
factory = FakeFactory()
from PySide6.QtGui import QGuiApplication
from app.engine.controller import EngineController

app = QGuiApplication([])
engine = EngineController(pipeline_factory=factory)
seen = []
engine.progress.connect(seen.append)
engine.submit(request("hold until the end", steps=50))
deadline = time.monotonic() + 60
while not seen and time.monotonic() < deadline:
    app.processEvents()
    time.sleep(0.005)
# Falls off the end mid-job without shutdown() or app.exec(): only the exit hook stops the worker.
"""


@pytest.mark.parametrize("script", [_QUIT_SCRIPT, _EXIT_SCRIPT], ids=["app-quit", "interpreter-exit"])
def test_quitting_mid_generation_exits_cleanly(script):
    """Quitting while a job runs exits 0, closes the model on the way and prints no Qt thread warning."""
    code = script.format(tests=str(Path(__file__).parent))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr
    assert result.stdout.split() == ["closed", "0"]


def test_importing_the_controller_does_not_import_torch():
    """The GUI thread can import the controller, build it and count tokens without torch, diffusers or transformers."""
    code = textwrap.dedent(
        """
        import sys
        from app.engine.controller import EngineController
        engine = EngineController(model="demo")
        engine.token_counter()
        print(sorted(m for m in ("torch", "diffusers", "transformers") if m in sys.modules))
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_job_runs_on_the_real_pipeline(qtbot, tmp_path):
    """Through the default factory, a tiny diffusers model loads on the worker thread and makes a 64×64 image."""
    try:
        import app.engine.pipeline  # noqa: F401
        from tests.engine.conftest import tiny_components
    except ImportError as err:
        pytest.skip(f"the sampling pipeline is not available yet: {err}")
    from diffusers import PixArtSigmaPipeline

    folder = tmp_path / "tiny"
    PixArtSigmaPipeline(**tiny_components(tmp_path)).save_pretrained(folder, safe_serialization=True)
    engine = EngineController(model=str(folder), options=EngineOptions(device=DeviceChoice.CPU, preview_every=1))
    recorder = Recorder(engine)
    try:
        with qtbot.waitSignal(engine.job_finished, timeout=120_000):
            engine.submit(GenerationRequest(prompt="a RED circle", width=64, height=64, steps=2, seed=3))
    finally:
        engine.shutdown()
    assert recorder.of("job_failed") == []
    (result,) = [r.result for r in recorder.of("result_ready")]
    assert result.image.size == (64, 64) and result.request.model == str(folder)
    assert any(p.preview is not None for p in recorder.of("progress"))
    assert recorder.of("model_status_changed")[-1].state is ModelState.READY
    counter = EngineController(model=str(folder)).token_counter()
    assert counter.count("a RED circle").tokens == result.prompt_tokens
