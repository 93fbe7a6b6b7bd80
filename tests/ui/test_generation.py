"""Generating from the window: the image reaches the gallery and the viewer; cancel, queue, failures, closing."""

from __future__ import annotations

import json
import threading

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QLineEdit, QPlainTextEdit, QProgressBar, QPushButton
from pytestqt.qtbot import QtBot

from app.application import Studio
from app.core.resources import DEMO_MODEL_NAME
from app.core.schedulers import SchedulerName
from app.core.sizes import GenerationPath, HighResMethod
from app.model.catalog import described_model
from app.store.preferences import load_preferences
from app.ui.viewer.image_viewer import ImageViewer
from tests.ui.conftest import JOB_TIMEOUT_MS, answer_quit_question, generate_and_wait
from tests.ui.fakes import FAIL_WORD, FakeInfo, fake_factory


def test_window_has_the_named_controls_and_the_prompt_has_focus(qtbot: QtBot, studio: Studio) -> None:
    """The window is titled PixArt Studio, every named control exists, and typing goes into the prompt."""
    window = studio.window
    assert window.windowTitle() == "PixArt Studio"
    for name, kind in (
        ("promptEdit", QPlainTextEdit),
        ("negativePromptEdit", QPlainTextEdit),
        ("seedEdit", QLineEdit),
        ("generateButton", QPushButton),
        ("cancelButton", QPushButton),
        ("progressBar", QProgressBar),
        ("imageViewer", ImageViewer),
    ):
        assert window.findChild(kind, name) is not None, name
    assert window.findChild(object, "aspectPresets") is not None
    assert window.findChild(object, "galleryView") is not None
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.prompt_editor.prompt_edit)


def test_generate_puts_a_new_image_in_gallery_and_viewer(qtbot: QtBot, studio: Studio) -> None:
    """Typing a prompt and pressing Generate shows the image in the viewer and adds it to the gallery."""
    generate_and_wait(qtbot, studio, "a vintage travel poster")
    window = studio.window
    qtbot.waitUntil(lambda: window.viewer.has_image and not window.viewer.is_preview)
    item = window.gallery_model.item_at(0)
    assert item.prompt == "a vintage travel poster"
    assert item.path.is_file()
    assert window.viewer.item.image.size().toTuple() == (item.width, item.height)
    assert studio.gallery.count() == 1


def test_ctrl_enter_in_the_prompt_generates(qtbot: QtBot, studio: Studio) -> None:
    """Ctrl+Enter in the prompt editor starts a generation without touching the mouse."""
    edit = studio.window.prompt_editor.prompt_edit
    qtbot.keyClicks(edit, "neon city wallpaper")
    qtbot.keyClick(edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: studio.window.gallery_model.total == 1, timeout=JOB_TIMEOUT_MS)
    assert edit.toPlainText() == "neon city wallpaper"  # no newline was typed


def test_cancel_stops_a_running_job(qtbot: QtBot, make_studio) -> None:
    """Cancel (and Esc) stop the running job: no image is saved and the button goes back to Generate."""
    gate = threading.Event()
    studio = make_studio(fake_factory(gate=gate))
    window = studio.window
    state = studio.state
    state.prompt = "never finished"
    with qtbot.waitSignal(studio.controller.job_started, timeout=JOB_TIMEOUT_MS):
        window.generate()
    assert window.generation_panel.cancel_button.isEnabled()
    with qtbot.waitSignal(studio.controller.job_cancelled, timeout=JOB_TIMEOUT_MS):
        qtbot.mouseClick(window.generation_panel.cancel_button, Qt.MouseButton.LeftButton)
    assert studio.gallery.count() == 0
    assert window.generation_panel.generate_button.text() == "Generate"
    assert window.side_panel.progress_panel.progress_bar.format() == "Cancelled"


def test_two_queued_jobs_both_run_in_order(qtbot: QtBot, make_studio) -> None:
    """A second Generate while a job runs queues it (visible in the queue), and both images arrive."""
    gate = threading.Event()
    studio = make_studio(fake_factory(gate=gate))
    window = studio.window
    studio.state.prompt = "first poster"
    with qtbot.waitSignal(studio.controller.job_started, timeout=JOB_TIMEOUT_MS):
        window.generate()
    studio.state.prompt = "second poster"
    window.generate()
    queue = window.side_panel.queue_panel
    assert queue.list.count() == 1 and "second poster" in queue.list.item(0).text()
    assert window.generation_panel.generate_button.text() == "Add to queue"
    gate.set()
    qtbot.waitUntil(lambda: studio.gallery.count() == 2, timeout=JOB_TIMEOUT_MS)
    window.flow.wait_for_saves()
    qtbot.waitUntil(lambda: window.gallery_model.total == 2)
    assert [window.gallery_model.item_at(row).prompt for row in range(2)] == ["second poster", "first poster"]
    assert queue.list.count() == 0


def test_engine_failure_shows_an_error_and_the_app_stays_usable(qtbot: QtBot, studio: Studio) -> None:
    """A failing job puts an error with copyable details in the window; the next job still works."""
    window = studio.window
    studio.state.prompt = f"please {FAIL_WORD}"
    with qtbot.waitSignal(studio.controller.job_failed, timeout=JOB_TIMEOUT_MS):
        window.generate()
    errors = [b for b in window.banners.banners if b.property("level") == "error"]
    assert errors and "unexpected error" in errors[0].title.lower()
    assert "exploded on purpose" in errors[0].details
    errors[0].copy_details()
    assert "exploded on purpose" in QApplication.clipboard().text()
    studio.state.prompt = "a calm poster"
    window.generate()
    qtbot.waitUntil(lambda: window.gallery_model.total == 1, timeout=JOB_TIMEOUT_MS)


def test_invalid_settings_show_an_error_instead_of_queueing(qtbot: QtBot, studio: Studio) -> None:
    """A size the app cannot make is reported in the window and nothing is queued."""
    studio.state.size_mode = "custom"
    studio.state.custom_width, studio.state.custom_height = 8192, 256  # ratio far beyond the bins
    assert studio.window.generate() is None
    assert any("height/width ratio" in b.message for b in studio.window.banners.banners)
    assert not studio.controller.is_busy


def test_closing_the_window_during_a_generation_exits_cleanly(qtbot: QtBot, make_studio) -> None:
    """Closing mid-job cancels it, stops the engine thread and saves the session; nothing hangs."""
    gate = threading.Event()
    studio = make_studio(fake_factory(gate=gate))
    studio.state.prompt = "closing soon"
    with qtbot.waitSignal(studio.controller.job_started, timeout=JOB_TIMEOUT_MS):
        studio.window.generate()
    answer_quit_question(studio.window, "Quit")
    assert studio.window.close()
    assert not studio.controller.is_busy
    assert load_preferences(studio.paths).window_geometry != ""
    worker_threads = [t for t in threading.enumerate() if "PixArtEngineWorker" in t.name]
    assert not worker_threads


def test_a_batch_saves_one_image_per_seed(qtbot: QtBot, studio: Studio) -> None:
    """Batch count 3 with a fixed seed saves exactly three images with seeds seed, seed+1, seed+2."""
    studio.state.prompt = "batch of posters"
    studio.state.seed = 100
    studio.state.seed_mode = "fixed"
    studio.state.batch_count = 3
    with qtbot.waitSignal(studio.controller.job_finished, timeout=JOB_TIMEOUT_MS):
        studio.window.generate()
    studio.window.flow.wait_for_saves()
    qtbot.waitUntil(lambda: studio.window.gallery_model.total == 3)
    assert sorted(item.seed for item in studio.gallery.page(0, 10)) == [100, 101, 102]


def test_a_models_recommended_guidance_is_shown_and_used_until_the_user_tunes_it(qtbot: QtBot, make_studio) -> None:
    """Loading a model that recommends guidance 3 sets the control to 3 and the next job uses it; a scale the
    user typed is kept when a model without a recommendation loads, and changing the sampler keeps the model's."""
    studio = make_studio(fake_factory(info=FakeInfo(guidance_scale=3.0)))
    panel = studio.window.generation_panel
    studio.controller.load_model()
    qtbot.waitUntil(lambda: panel.guidance_spin.value() == 3.0, timeout=JOB_TIMEOUT_MS)
    studio.state.scheduler = SchedulerName.SA_SOLVER
    studio.state.scheduler = SchedulerName.DPM_SOLVER
    assert panel.guidance_spin.value() == 3.0 and studio.state.steps == 20
    studio.state.prompt = "a poster at the model's guidance"
    with qtbot.waitSignal(studio.controller.job_finished, timeout=JOB_TIMEOUT_MS):
        studio.window.generate()
    studio.window.flow.wait_for_saves()
    qtbot.waitUntil(lambda: studio.window.gallery_model.total == 1)
    assert studio.gallery.page(0, 1)[0].guidance_scale == 3.0

    studio.state.use_model_guidance(None)  # another model, no recommendation: back to the sampler's 4.5
    assert panel.guidance_spin.value() == 4.5
    panel.guidance_spin.setValue(6.0)  # tuned by hand
    studio.state.use_model_guidance(3.0)
    studio.state.use_model_guidance(None)
    assert panel.guidance_spin.value() == 6.0


def test_a_model_that_enlarges_above_native_size_says_so_and_the_user_can_choose_otherwise(
    qtbot: QtBot, make_studio
) -> None:
    """A model whose studio.json says `enlarge` makes Auto at its 4× tier an enlargement of its own size, as the size
    line says; choosing "In one pass" samples at the tier again."""
    studio = make_studio(fake_factory(info=FakeInfo(native_resolution=128, above_native=HighResMethod.ENLARGE)))
    studio.controller.load_model()
    qtbot.waitUntil(lambda: studio.state.native_resolution == 128, timeout=JOB_TIMEOUT_MS)
    studio.state.tier_scale = 4.0
    summary = studio.window.side_panel.size_summary.text()
    assert studio.state.plan().path is GenerationPath.ENLARGED
    assert "Made at the model's own resolution (128×128), then enlarged 4.0× to 512×512" in summary
    combo = studio.window.generation_panel.high_res_combo
    combo.setCurrentIndex(combo.findData(HighResMethod.DIRECT))
    assert studio.state.plan().path is GenerationPath.DIRECT
    assert "Sampled in one pass at 512 (512×512)" in studio.window.side_panel.size_summary.text()


def test_choosing_a_model_applies_its_recommended_guidance_before_it_loads(studio: Studio, tmp_path) -> None:
    """Picking a model sets the guidance its folder recommends at once (read from JSON), so the first job after
    the switch already uses it; a folder without a recommendation goes back to the sampler's 4.5."""
    panel = studio.window.generation_panel
    demo_guidance = described_model(DEMO_MODEL_NAME).guidance_scale  # what the shipped demo's studio.json says
    recommended = 3.5
    assert len({recommended, demo_guidance, 4.5}) == 3  # each switch must show up as a change
    for name, studio_json in (("recommends", {"guidance_scale": recommended}), ("plain", None)):
        folder = tmp_path / name
        (folder / "transformer").mkdir(parents=True)
        (folder / "transformer" / "config.json").write_text("{}")
        (folder / "model_index.json").write_text(json.dumps({"_class_name": "PixArtSigmaPipeline"}))
        if studio_json is not None:
            (folder / "studio.json").write_text(json.dumps(studio_json))
    studio.window.use_model(str(tmp_path / "recommends"))
    assert panel.guidance_spin.value() == recommended
    studio.window.use_model("demo")
    assert panel.guidance_spin.value() == demo_guidance
    studio.window.use_model(str(tmp_path / "plain"))
    assert panel.guidance_spin.value() == 4.5


def test_the_panel_takes_every_step_count_and_guidance_the_cli_takes(studio: Studio) -> None:
    """Steps 1–1000 and guidance 0–50 in the window, the limits a request (and so the CLI) has (#29.13)."""
    import argparse

    from app.cli.generate import add_arguments
    from app.core.request import MAX_GUIDANCE_SCALE, MAX_STEPS

    panel = studio.window.generation_panel
    assert (panel.steps_spin.minimum(), panel.steps_spin.maximum()) == (1, MAX_STEPS) == (1, 1000)
    assert (panel.guidance_spin.minimum(), panel.guidance_spin.maximum()) == (0.0, MAX_GUIDANCE_SCALE) == (0.0, 50.0)
    panel.steps_spin.setValue(MAX_STEPS)
    panel.guidance_spin.setValue(MAX_GUIDANCE_SCALE)
    request = studio.state.build_request("demo")
    assert (request.steps, request.guidance_scale) == (1000, 50.0)
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert "1 to 1000" in parser.format_help() and "0 to 50" in parser.format_help()


def test_cancel_replaces_the_live_preview_with_the_chosen_image(qtbot: QtBot, make_studio) -> None:
    """After Cancel the viewer shows the selected gallery image again, not the cancelled job's last preview."""
    studio = make_studio(fake_factory(step_s=0.01))
    window = studio.window
    generate_and_wait(qtbot, studio, "kept poster")
    item = window.gallery_model.item_at(0)
    qtbot.waitUntil(lambda: window.viewer.has_image and not window.viewer.is_preview)
    studio.state.steps = 200
    studio.state.prompt = "cancelled poster"
    window.generate()
    qtbot.waitUntil(lambda: window.viewer.is_preview, timeout=JOB_TIMEOUT_MS)
    with qtbot.waitSignal(studio.controller.job_cancelled, timeout=JOB_TIMEOUT_MS):
        qtbot.mouseClick(window.generation_panel.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.viewer.is_preview and window.viewer.has_image, timeout=JOB_TIMEOUT_MS)
    assert window.viewer.item.image.size().toTuple() == (item.width, item.height)


def test_clicking_the_selected_thumbnail_shows_it_again(qtbot: QtBot, studio: Studio) -> None:
    """A click on the thumbnail that is already selected replaces whatever the viewer shows with it."""
    generate_and_wait(qtbot, studio, "thumbnail poster")
    window = studio.window
    item = window.gallery_model.item_at(0)
    qtbot.waitUntil(lambda: window.viewer.has_image and not window.viewer.is_preview)
    window.viewer.set_image(QImage(40, 30, QImage.Format.Format_RGB32), preview=True)
    view = window.gallery.view
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(view.currentIndex()).center())
    qtbot.waitUntil(lambda: not window.viewer.is_preview, timeout=JOB_TIMEOUT_MS)
    assert window.viewer.item.image.size().toTuple() == (item.width, item.height)
