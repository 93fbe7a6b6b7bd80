"""Working from an image in the window (fast fake pipeline): use as source, the mode switch, mask, variations."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QGuiApplication, QImage
from pytestqt.qtbot import QtBot

from app.application import Studio
from app.core.request import GenerationRequest, GenerationResult
from app.core.source_image import VARIATION_STRENGTH, GenerationMode
from app.store.items import GalleryItem
from app.ui.create.image_state import ExtendBy, UpscaleTarget
from app.ui.gallery.lineage import lineage_of
from tests.ui.conftest import JOB_TIMEOUT_MS
from tests.ui.fakes import FakeInfo, FakePipeline, fake_image

LEFT = Qt.MouseButton.LeftButton
NONE = Qt.KeyboardModifier.NoModifier


class _Recorder:
    """A pipeline factory whose fake pipelines remember every request they are given."""

    def __init__(self) -> None:
        self.requests: list[GenerationRequest] = []
        self._lock = threading.Lock()

    def __call__(self, model: str, transformer: str | None = None, options: Any = None, progress: Any = None) -> Any:
        recorder = self

        class Recording(FakePipeline):
            def generate(self, request: GenerationRequest, *args: Any, **kwargs: Any) -> list[Any]:
                with recorder._lock:
                    recorder.requests.append(request)
                return super().generate(request, *args, **kwargs)

        return Recording(0.0, None, FakeInfo())


@pytest.fixture
def recorded(make_studio: Callable[..., Studio]) -> tuple[Studio, _Recorder]:
    """A shown Studio whose fake pipeline records the requests, with one 640×512 image in the gallery."""
    recorder = _Recorder()
    studio = make_studio(recorder)
    request = GenerationRequest("a large red circle in the top left on a white background", width=640, height=512)
    studio.gallery.save(GenerationResult(image=fake_image(request), request=request, model_name="fake-model"))
    studio.window.gallery_model.refresh()
    return studio, recorder


def _item(studio: Studio) -> GalleryItem:
    return studio.window.gallery_model.item_at(studio.window.gallery_model.total - 1)


def _use_first_item(qtbot: QtBot, studio: Studio) -> GalleryItem:
    item = _item(studio)
    studio.window.gallery.use_as_source.emit(item)  # what the context menu's "Use as source" emits
    qtbot.waitUntil(lambda: studio.state.image.source is not None, timeout=10000)
    return item


def _paint(qtbot: QtBot, studio: Studio, points: list[tuple[float, float]]) -> None:
    viewer = studio.window.viewer
    viewport = viewer.viewport()
    qtbot.mousePress(viewport, LEFT, NONE, viewer.mapFromScene(QPointF(*points[0])))
    for point in points[1:]:
        qtbot.mouseMove(viewport, viewer.mapFromScene(QPointF(*point)))
    qtbot.mouseRelease(viewport, LEFT, NONE, viewer.mapFromScene(QPointF(*points[-1])))


def _generate(qtbot: QtBot, studio: Studio, recorder: _Recorder, count: int = 1) -> GenerationRequest:
    before = len(recorder.requests)
    qtbot.mouseClick(studio.window.generation_panel.generate_button, LEFT)
    qtbot.waitUntil(lambda: len(recorder.requests) >= before + count, timeout=JOB_TIMEOUT_MS)
    return recorder.requests[-1]


def test_use_as_source_switches_to_image_to_image_and_shows_the_source(
    qtbot: QtBot, recorded: tuple[Studio, _Recorder]
) -> None:
    """The gallery's Use as source fills the thumbnail and size, shows the source, and Generate sends img2img."""
    studio, recorder = recorded
    item = _use_first_item(qtbot, studio)
    panel = studio.window.side_panel.image_panel
    assert studio.state.image.mode is GenerationMode.IMAGE_TO_IMAGE
    assert panel.mode_buttons[GenerationMode.IMAGE_TO_IMAGE].isChecked()
    assert panel.source_size.text() == "640 × 512 px" and "#" in panel.source_name.text()
    assert panel.strength_row.isVisibleTo(panel) and not panel.inpaint_widget.isVisibleTo(panel)
    assert studio.window.viewer.item.image.size().toTuple() == (640, 512)
    studio.state.image.strength = 0.3
    qtbot.keyClicks(studio.window.prompt_editor.prompt_edit, "a small blue square")
    request = _generate(qtbot, studio, recorder)
    assert request.mode is GenerationMode.IMAGE_TO_IMAGE and request.strength == pytest.approx(0.3)
    assert request.source is not None and request.source.item_id == item.id and request.source.size == (640, 512)
    assert (request.width, request.height) == (640, 512)  # the source's size unless 'same size' is unticked
    side = studio.window.side_panel
    assert not side.aspect_presets.isVisible()
    panel.same_size_check.click()
    assert side.aspect_presets.isVisible() and not studio.state.image.keep_source_size


def test_inpaint_sends_the_mask_painted_with_the_mouse(qtbot: QtBot, recorded: tuple[Studio, _Recorder]) -> None:
    """Inpaint shows the mask tools; a stroke on the viewer becomes the request's mask at the source's size."""
    studio, recorder = recorded
    _use_first_item(qtbot, studio)
    panel = studio.window.side_panel.image_panel
    qtbot.mouseClick(panel.mode_buttons[GenerationMode.INPAINT], LEFT)
    flow = studio.window.source_flow
    assert flow.painter.active and flow.mask_toolbar.isVisible()
    assert not studio.window.side_panel.aspect_presets.isVisible()  # the size follows the source
    qtbot.mouseClick(studio.window.generation_panel.generate_button, LEFT)
    assert any("the mask is empty" in banner.message for banner in studio.window.banners.banners)
    flow.painter.brush_size = 60
    _paint(qtbot, studio, [(400, 300), (500, 350), (600, 400)])
    flow.mask_toolbar.feather_spin.setValue(12)
    request = _generate(qtbot, studio, recorder)
    assert request.mode is GenerationMode.INPAINT and (request.width, request.height) == (640, 512)
    assert request.mask is not None and request.mask_blur == 12
    mask = request.mask.image((640, 512))
    assert mask.getpixel((500, 350)) == 255 and mask.getpixel((100, 100)) == 0
    qtbot.waitUntil(lambda: studio.window.gallery_model.total == 2, timeout=JOB_TIMEOUT_MS)


def test_outpaint_and_upscale_sizes_follow_the_source(qtbot: QtBot, recorded: tuple[Studio, _Recorder]) -> None:
    """Outpaint to 16:9 widens the canvas around the source; upscale 2× doubles it; the size line follows."""
    studio, recorder = recorded
    _use_first_item(qtbot, studio)
    image = studio.state.image
    image.mode = GenerationMode.OUTPAINT
    image.extend_by = ExtendBy.ASPECT
    image.extend_aspect = "16:9"
    assert studio.window.source_flow.outpaint.shown
    assert "910 × 512 px" in studio.window.side_panel.size_summary.text()
    request = _generate(qtbot, studio, recorder)
    assert request.mode is GenerationMode.OUTPAINT and request.extend == (135, 0, 135, 0)
    assert (request.width, request.height) == (910, 512)
    image.mode = GenerationMode.UPSCALE
    image.upscale_target = UpscaleTarget.DOUBLE
    assert not studio.window.source_flow.outpaint.shown
    request = _generate(qtbot, studio, recorder)
    assert request.mode is GenerationMode.UPSCALE and (request.width, request.height) == (1280, 1024)


def test_variations_queue_new_seeds_at_low_strength_from_the_image(
    qtbot: QtBot, recorded: tuple[Studio, _Recorder]
) -> None:
    """One click: the image's prompt, img2img at strength 0.4, four seeds in one job, the image as the source."""
    studio, recorder = recorded
    item = _item(studio)
    studio.window.gallery.variations_requested.emit(item)
    qtbot.waitUntil(lambda: len(recorder.requests) == 1, timeout=JOB_TIMEOUT_MS)
    request = recorder.requests[0]
    assert request.prompt == item.prompt and request.mode is GenerationMode.IMAGE_TO_IMAGE
    assert request.strength == VARIATION_STRENGTH and request.batch_size == 4
    assert request.source is not None and request.source.item_id == item.id
    qtbot.waitUntil(lambda: studio.window.gallery_model.total == 5, timeout=JOB_TIMEOUT_MS)


def test_paste_and_clear_source(qtbot: QtBot, recorded: tuple[Studio, _Recorder]) -> None:
    """An image on the clipboard becomes the source; removing it goes back to text to image."""
    studio, _recorder = recorded
    image = QImage(300, 200, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.darkCyan)
    QGuiApplication.clipboard().setImage(image)
    studio.window.source_flow.paste()
    qtbot.waitUntil(lambda: studio.state.image.source is not None, timeout=10000)
    assert studio.state.image.source.size == (300, 200) and studio.state.image.source.item_id is None
    studio.window.side_panel.image_panel.clear_source_button.click()
    assert studio.state.image.source is None and studio.state.image.mode is GenerationMode.TEXT


def test_a_pasted_source_is_copied_into_the_gallery_and_the_result_points_at_it(
    qtbot: QtBot, recorded: tuple[Studio, _Recorder]
) -> None:
    """Lineage never points outside: the pasted picture joins the grid next to the result made from it."""
    studio, recorder = recorded
    image = QImage(320, 240, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.darkMagenta)
    studio.window.source_flow.use_image(image, "Pasted image")
    qtbot.waitUntil(lambda: studio.state.image.source is not None, timeout=10000)
    _generate(qtbot, studio, recorder)
    model = studio.window.gallery_model
    qtbot.waitUntil(lambda: model.total == 3, timeout=JOB_TIMEOUT_MS)
    result, copy = model.item_at(0), model.item_at(1)
    assert result.source_id == copy.id and Image.open(copy.path).size == (320, 240)
    assert lineage_of(result) is not None and lineage_of(result).source_id == copy.id


def test_dropping_an_image_without_settings_uses_it_as_the_source(
    qtbot: QtBot, recorded: tuple[Studio, _Recorder], tmp_path: Path
) -> None:
    """A plain picture dropped on the gallery becomes the source (it has no settings to load)."""
    studio, _recorder = recorded
    path = tmp_path / "sketch.png"
    image = QImage(256, 192, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.white)
    image.save(str(path))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, LEFT, NONE)
    studio.window.gallery.view.dropEvent(event)
    qtbot.waitUntil(lambda: studio.state.image.source is not None, timeout=10000)
    assert studio.state.image.source_name == "sketch.png" and studio.state.image.source.size == (256, 192)


def test_results_show_their_lineage_and_jump_to_the_source(qtbot: QtBot, recorded: tuple[Studio, _Recorder]) -> None:
    """An image-to-image result says 'made from #id' in its tooltip and menu; Show source selects and shows it."""
    studio, recorder = recorded
    source_item = _use_first_item(qtbot, studio)
    _generate(qtbot, studio, recorder)
    model = studio.window.gallery_model
    qtbot.waitUntil(lambda: model.total == 2, timeout=JOB_TIMEOUT_MS)
    studio.window.flow.wait_for_saves()
    result = model.item_at(0)
    lineage = lineage_of(result)
    assert lineage is not None and lineage.source_id == source_item.id
    assert lineage.mode is GenerationMode.IMAGE_TO_IMAGE and (lineage.source_width, lineage.source_height) == (640, 512)
    assert f"made from #{source_item.id}" in model.data(model.index(0), Qt.ItemDataRole.ToolTipRole)
    assert lineage_of(source_item) is None
    studio.window.gallery.search.setText("no such prompt")
    studio.window.gallery.show_source_requested.emit(source_item.id)
    assert studio.window.gallery.current_item() == source_item
    qtbot.waitUntil(lambda: studio.window.source_flow.shown_item == source_item, timeout=10000)
    studio.window.show_source_of(9999)
    assert any("#9999 is no longer in the gallery" in banner.title for banner in studio.window.banners.banners)


def test_reusing_an_inpaint_results_settings_restores_mode_and_source(
    qtbot: QtBot, recorded: tuple[Studio, _Recorder]
) -> None:
    """Reuse all settings on an inpaint result brings back inpaint, its source from the gallery and its blur;
    Variations of it queue image to image from the result itself."""
    studio, recorder = recorded
    source_item = _use_first_item(qtbot, studio)
    studio.state.image.mode = GenerationMode.INPAINT
    studio.window.source_flow.painter.brush_size = 80
    _paint(qtbot, studio, [(300, 300), (320, 310)])
    studio.state.image.mask_blur = 9
    _generate(qtbot, studio, recorder)
    model = studio.window.gallery_model
    qtbot.waitUntil(lambda: model.total == 2, timeout=JOB_TIMEOUT_MS)
    studio.window.flow.wait_for_saves()
    result = model.item_at(0)
    studio.window.side_panel.image_panel.clear_source_button.click()
    studio.state.image.mask_blur = 4
    studio.window.gallery.reuse_settings.emit(result)
    qtbot.waitUntil(lambda: studio.state.image.source is not None, timeout=10000)
    assert studio.state.image.mode is GenerationMode.INPAINT and studio.state.image.mask_blur == 9
    assert studio.state.image.source.item_id == source_item.id
    studio.window.gallery.variations_requested.emit(result)
    qtbot.waitUntil(lambda: len(recorder.requests) == 2, timeout=JOB_TIMEOUT_MS)
    variation = recorder.requests[-1]
    assert variation.mode is GenerationMode.IMAGE_TO_IMAGE and variation.source.item_id == result.id
