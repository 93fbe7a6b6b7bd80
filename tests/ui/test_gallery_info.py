"""The gallery's info panel: how the selected image was made, a hint otherwise, and its open state remembered."""

from __future__ import annotations

from collections.abc import Callable

from PIL import Image
from PySide6.QtCore import QItemSelection, QItemSelectionModel, QPoint, Qt
from PySide6.QtWidgets import QApplication, QFormLayout, QLabel, QToolButton, QWidget
from pytestqt.qtbot import QtBot

from app.application import Studio
from app.core.request import GenerationRequest, GenerationResult
from app.core.sizes import GenerationPath
from app.core.source_image import GenerationMode, load_source
from app.store.items import GalleryItem
from app.store.preferences import load_preferences
from app.ui.gallery.info_panel import NOTHING_SELECTED, InfoPanel
from tests.ui.fakes import fake_image

LONG_PROMPT = "a vintage travel poster of a lighthouse at dusk, " * 8


def _save(
    studio: Studio, prompt: str, path: GenerationPath = GenerationPath.NATIVE, sampled=(256, 384), **settings: object
) -> GalleryItem:
    request = GenerationRequest(prompt=prompt, width=256, height=384, **settings)
    result = GenerationResult(
        image=fake_image(request),
        request=request,
        model_name="fake-model",
        path=path,
        sampled_width=sampled[0],
        sampled_height=sampled[1],
        duration_s=1.5,
    )
    item = studio.gallery.save(result)
    studio.window.gallery_model.refresh()
    return item


def _select(studio: Studio, *items: GalleryItem) -> InfoPanel:
    gallery = studio.window.gallery
    selection = QItemSelection()
    for item in items:
        index = gallery.model.index(gallery.model.row_of(item.id))
        selection.select(index, index)
    gallery.view.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
    return gallery.info


def _value(panel: InfoPanel, label: str) -> str:
    found = panel.findChild(QLabel, f"info{label.title().replace(' ', '')}")
    return found.text() if found is not None else ""


def _labels(panel: InfoPanel) -> list[str]:
    """The labels of the lines shown, in order."""
    form = panel.form
    return [form.itemAt(row, QFormLayout.ItemRole.LabelRole).widget().text() for row in range(form.rowCount())]


def test_selecting_an_image_shows_how_it_was_made(qtbot: QtBot, studio: Studio) -> None:
    """One selected image shows its prompts, size with print size, seed, steps, guidance, sampler, model and file."""
    item = _save(studio, "art deco poster", negative_prompt="blurry", seed=4242, steps=31, guidance_scale=6.0, dpi=300)
    panel = _select(studio, item)
    assert panel.item == item and panel.details.isVisible() and not panel.hint.isVisible()
    assert panel.prompt.text() == "art deco poster" and panel.negative.text() == "blurry"
    assert _value(panel, "Size") == "256 × 384 px"
    assert _value(panel, "Print size") == "0.9 × 1.3 in at 300 DPI"
    assert (_value(panel, "Seed"), _value(panel, "Steps"), _value(panel, "Guidance")) == ("4242", "31", "6")
    assert (_value(panel, "Sampler"), _value(panel, "Model")) == ("dpm-solver++", "fake-model")
    assert _value(panel, "Sampled") == "Directly at 256×384"
    assert _value(panel, "File") == item.path.name and _value(panel, "Folder") == item.path.parent.name
    assert _value(panel, "File size").endswith("B") and _value(panel, "Created")


def test_an_enlarged_image_says_it_was_made_at_the_models_own_size(qtbot: QtBot, studio: Studio) -> None:
    """An image the model made small and enlarged (the demo above 128 px) says so, not "directly at" its size."""
    item = _save(studio, "a small square", path=GenerationPath.ENLARGED, sampled=(96, 144))
    panel = _select(studio, item)
    assert _value(panel, "Sampled") == "At the model's own resolution (96×144), then resized to 256×384"


def test_absent_values_are_left_out(qtbot: QtBot, studio: Studio) -> None:
    """Text to image at screen DPI has no print size, mode or negative prompt; an image of unknown origin shows
    only what its file says, never 'None' or a zero seed."""
    panel = _select(studio, _save(studio, "plain poster"))
    assert not panel.negative.isVisibleTo(panel) and not panel.negative_heading.isVisibleTo(panel)
    assert not {"Print size", "Mode", "Made from", "Made with"} & set(_labels(panel))
    Image.new("RGB", (320, 200), "teal").save(studio.gallery.root / "from-elsewhere.png")
    studio.gallery.reconcile()
    studio.window.gallery_model.refresh()
    foreign = next(i for i in studio.gallery.page(0, 10) if i.path.name == "from-elsewhere.png")
    panel = _select(studio, foreign)
    assert _labels(panel) == ["Size", "Created", "File", "Folder", "File size"]
    assert _value(panel, "Size") == "320 × 200 px" and panel.prompt.text() == "(no prompt)"
    shown = [label.text() for label in panel.findChildren(QLabel) if label.isVisibleTo(panel)]
    assert not any(text in ("None", "0", "") for text in shown if text != panel.prompt.text())


def test_nothing_or_several_selected_shows_a_hint(qtbot: QtBot, studio: Studio) -> None:
    """No selection asks for one; two selected say so; the details come back with a single selection."""
    first, second = _save(studio, "first poster"), _save(studio, "second poster")
    panel = studio.window.gallery.info
    assert panel.hint.isVisible() and panel.hint.text() == NOTHING_SELECTED and not panel.details.isVisible()
    _select(studio, first, second)
    assert panel.hint.text() == "2 images selected" and panel.item is None and not panel.details.isVisible()
    _select(studio, second)
    assert panel.prompt.text() == "second poster"
    studio.window.gallery.view.clearSelection()
    assert panel.hint.text() == NOTHING_SELECTED


def test_the_copy_button_puts_the_seed_on_the_clipboard(qtbot: QtBot, studio: Studio) -> None:
    """The button beside the seed copies it, digits only, ready to paste into the seed field."""
    panel = _select(studio, _save(studio, "seeded poster", seed=987654321))
    button = panel.findChild(QToolButton, "copySeed")
    QApplication.clipboard().clear()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == "987654321"


def test_an_image_made_from_another_names_its_mode_and_leads_to_its_source(qtbot: QtBot, studio: Studio) -> None:
    """Image to image shows its mode and strength; the button beside the source selects the source in the grid."""
    source_item = _save(studio, "lighthouse at dusk")
    request = GenerationRequest.for_source(
        "lighthouse at night",
        GenerationMode.IMAGE_TO_IMAGE,
        load_source(source_item.path, item_id=source_item.id),
        strength=0.6,
    )
    made = studio.gallery.save(GenerationResult(image=fake_image(request), request=request, model_name="fake-model"))
    studio.window.gallery_model.refresh()
    panel = _select(studio, made)
    assert _value(panel, "Mode") == "Image to image · strength 0.6"
    assert _value(panel, "Made from") == f"#{source_item.id} (256×384)"
    qtbot.mouseClick(panel.findChild(QToolButton, "showSource"), Qt.MouseButton.LeftButton)
    assert studio.window.gallery.current_item() == source_item and panel.item == source_item


def test_a_just_generated_image_shows_at_once(qtbot: QtBot, studio: Studio) -> None:
    """The window selects each new image without selection signals; the panel still follows it."""
    from tests.ui.conftest import generate_and_wait

    generate_and_wait(qtbot, studio, "a brand new poster")
    qtbot.waitUntil(lambda: studio.window.gallery.info.prompt.text() == "a brand new poster")


def test_the_panel_closes_and_stays_closed_after_a_restart(
    qtbot: QtBot, make_studio: Callable[..., Studio], studio_home
) -> None:
    """The footer's toggle hides the details (the grid takes their room) and the next start remembers it."""
    first = make_studio()
    gallery = first.window.gallery
    assert gallery.info_toggle.isChecked() and gallery.info.isVisible()
    grid_height = gallery.view.height()
    qtbot.mouseClick(gallery.info_toggle, Qt.MouseButton.LeftButton)
    assert not gallery.info.isVisible()
    qtbot.waitUntil(lambda: gallery.view.height() > grid_height)
    assert load_preferences(first.paths).gallery_info_open is False
    second = make_studio()
    assert not second.window.gallery.info_toggle.isChecked() and not second.window.gallery.info.isVisible()


def test_changing_the_selection_moves_nothing(qtbot: QtBot, studio: Studio) -> None:
    """A long prompt scrolls inside the panel: the grid, the panel and the toggle keep their places and sizes."""
    short, long = _save(studio, "short"), _save(studio, LONG_PROMPT, negative_prompt=LONG_PROMPT)
    gallery = studio.window.gallery
    watched: list[QWidget] = [gallery.view, gallery.info, gallery.info_toggle, gallery.count_label]

    def places() -> list[tuple[QPoint, int, int]]:
        qtbot.wait(20)
        return [(w.mapTo(studio.window, QPoint(0, 0)), w.width(), w.height()) for w in watched]

    before = places()
    for items in ((short,), (long,), (short, long), ()):
        _select(studio, *items)
        assert places() == before


def test_view_image_details_toggles_the_panel_and_brings_back_a_hidden_gallery(qtbot: QtBot, studio: Studio) -> None:
    """Ctrl+I (View → Image details) hides the panel, and shows it again with the gallery even when the gallery
    was hidden."""
    window = studio.window
    details = window.actions_["show_details"]
    assert window.gallery.info.isVisible()
    details.trigger()
    assert not window.gallery.info.isVisible() and not window.gallery.info_toggle.isChecked()
    window.gallery_dock.hide()
    details.trigger()
    assert window.gallery_dock.isVisible() and window.gallery.info.isVisible()
