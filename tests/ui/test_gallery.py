"""The gallery: model over the store (paging, search, thumbnails), reuse, delete with undo, drop-in, export."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QModelIndex, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QTextDocument
from PySide6.QtWidgets import QApplication, QDialog, QLabel
from pytestqt.qtbot import QtBot

from app.application import Studio
from app.core.request import GenerationRequest, GenerationResult
from app.store.gallery import Gallery
from app.ui.create.state import SeedMode
from app.ui.gallery import gallery_model as gallery_model_module
from app.ui.gallery.export_dialog import ExportOptions
from app.ui.gallery.gallery_model import THUMBNAIL_ROLE, GalleryModel
from tests.ui.fakes import fake_image


def _save(gallery: Gallery, prompt: str, **settings: object) -> None:
    request = GenerationRequest(prompt=prompt, width=256, height=256, **settings)
    gallery.save(GenerationResult(image=fake_image(request), request=request, model_name="fake-model"))


def test_model_lists_newest_first_pages_on_demand_and_searches(qtbot: QtBot, tmp_path: Path, monkeypatch) -> None:
    """Rows come newest first, a page at a time; a search narrows them to matching prompts."""
    monkeypatch.setattr(gallery_model_module, "PAGE_SIZE", 2)
    gallery = Gallery.open(tmp_path / "gallery", tmp_path / "thumbs", use_system_trash=False)
    for prompt in ("red poster", "blue wallpaper", "red wallpaper"):
        _save(gallery, prompt)
    model = GalleryModel(gallery)
    assert model.rowCount() == 2 and model.total == 3
    assert model.item_at(0).prompt == "red wallpaper"
    assert model.canFetchMore(QModelIndex())
    model.fetchMore(QModelIndex())
    assert [model.item_at(row).prompt for row in range(3)] == ["red wallpaper", "blue wallpaper", "red poster"]
    model.set_filter("red")
    assert model.total == 2 and {model.item_at(r).prompt for r in range(2)} == {"red wallpaper", "red poster"}


def test_thumbnails_load_in_the_background(qtbot: QtBot, tmp_path: Path) -> None:
    """The first request for a thumbnail returns nothing; it arrives shortly after from a worker thread."""
    gallery = Gallery.open(tmp_path / "gallery", tmp_path / "thumbs", use_system_trash=False)
    _save(gallery, "lighthouse")
    model = GalleryModel(gallery)
    index = model.index(0)
    assert model.data(index, THUMBNAIL_ROLE) is None
    with qtbot.waitSignal(model.thumbnail_ready, timeout=20000):
        pass
    thumbnail = model.data(index, THUMBNAIL_ROLE)
    assert thumbnail is not None and max(thumbnail.width(), thumbnail.height()) <= 256


def test_reuse_settings_fills_the_controls_from_a_gallery_item(qtbot: QtBot, studio: Studio) -> None:
    """'Reuse all settings' sets prompt, negative prompt, seed, steps, sampler and size in the controls."""
    _save(studio.gallery, "art deco poster", negative_prompt="blurry", seed=4242, steps=31, guidance_scale=6.0)
    studio.window.gallery_model.refresh()
    item = studio.window.gallery_model.item_at(0)
    studio.window.gallery.reuse_settings.emit(item)
    panel = studio.window.generation_panel
    assert studio.window.prompt_editor.prompt_edit.toPlainText() == "art deco poster"
    assert studio.window.prompt_editor.negative_edit.toPlainText() == "blurry"
    assert panel.seed_edit.text() == "4242" and studio.state.seed_mode is SeedMode.FIXED
    assert panel.steps_spin.value() == 31 and panel.guidance_spin.value() == 6.0
    size = studio.state.target_size()
    assert (size.width, size.height) == (256, 256)


def test_delete_moves_to_trash_and_undo_restores(qtbot: QtBot, studio: Studio) -> None:
    """Deleting removes the image from the grid and the disk; Undo brings both back."""
    _save(studio.gallery, "to be deleted")
    model = studio.window.gallery_model
    model.refresh()
    item = model.item_at(0)
    studio.window.gallery.delete_requested.emit([item])
    assert model.total == 0 and not item.path.exists()
    assert any("trash" in banner.title for banner in studio.window.banners.banners)
    studio.window.actions_["undo_delete"].trigger()
    assert model.total == 1 and item.path.exists()


def test_dropping_an_image_loads_its_settings(qtbot: QtBot, studio: Studio, tmp_path: Path) -> None:
    """Dropping one of our PNGs on the gallery fills the controls with the settings stored in it."""
    _save(studio.gallery, "dropped poster", seed=777)
    path = studio.gallery.page(0, 1)[0].path
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    view = studio.window.gallery.view
    event = QDropEvent(
        QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    view.dropEvent(event)
    qtbot.waitUntil(lambda: studio.state.prompt == "dropped poster", timeout=10000)
    assert studio.state.seed == 777


def test_dropping_an_image_on_the_viewer_loads_its_settings(qtbot: QtBot, studio: Studio) -> None:
    """The viewer, the largest part of the window, takes a dragged PNG as the gallery does and loads its settings."""
    _save(studio.gallery, "viewer drop", seed=4242)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(studio.gallery.page(0, 1)[0].path))])
    viewer = studio.window.viewer
    enter = QDragEnterEvent(
        QPoint(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(viewer.viewport(), enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(viewer.viewport(), drop)
    qtbot.waitUntil(lambda: studio.state.prompt == "viewer drop", timeout=10000)
    assert studio.state.seed == 4242


def test_dropping_a_file_that_is_not_an_image_names_it_exactly_in_an_error(
    qtbot: QtBot, studio: Studio, tmp_path: Path
) -> None:
    """A dropped text file named like a PNG gives an error banner whose visible text names the file as it is
    spelled, angle brackets included (file names and error texts are never read as markup)."""
    path = tmp_path / "<i>draft & notes.png"
    path.write_text("not an image", encoding="utf-8")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(
        QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    studio.window.gallery.view.dropEvent(event)
    banners = studio.window.banners.banners
    qtbot.waitUntil(lambda: any(b.property("level") == "error" for b in banners), timeout=10000)
    error = next(b for b in banners if b.property("level") == "error")
    shown = QTextDocument()
    shown.setHtml(max((label.text() for label in error.findChildren(QLabel)), key=len))
    assert f"Cannot read settings from {path.name}" in shown.toPlainText()


def test_export_writes_jpeg_copies(qtbot: QtBot, studio: Studio, tmp_path: Path) -> None:
    """Export writes the selected images in the chosen format to the chosen folder."""
    _save(studio.gallery, "export me")
    studio.window.gallery_model.refresh()
    item = studio.window.gallery_model.item_at(0)
    with qtbot.waitSignal(
        studio.window.gallery_actions.message, timeout=10000, check_params_cb=lambda text: text.startswith("Exported")
    ):
        studio.window.gallery_actions.export([item], ExportOptions(folder=tmp_path / "out", fmt="jpeg"))
    assert [p.suffix for p in (tmp_path / "out").iterdir()] == [".jpg"]


def test_copy_image_puts_pixels_on_the_clipboard(qtbot: QtBot, studio: Studio) -> None:
    """Copy image puts the picture itself on the clipboard."""
    _save(studio.gallery, "copy me")
    studio.window.gallery_model.refresh()
    studio.window.gallery_actions.copy_image(studio.window.gallery_model.item_at(0))
    assert QApplication.clipboard().image().size().toTuple() == (256, 256)


def test_the_export_dialog_remembers_the_last_choices_and_quality_follows_the_format(
    qtbot: QtBot, studio: Studio, tmp_path: Path, monkeypatch
) -> None:
    """After a WebP export at quality 80 the next dialog opens on WebP/80; PNG greys Quality out."""
    from app.ui.gallery import gallery_actions as actions_module
    from app.ui.gallery.export_dialog import ExportDialog

    _save(studio.gallery, "export twice")
    studio.window.gallery_model.refresh()
    item = studio.window.gallery_model.item_at(0)
    opened: list[ExportDialog] = []

    def exec_(dialog: ExportDialog) -> int:
        opened.append(dialog)
        if len(opened) == 1:
            dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("webp"))
            dialog.quality_spin.setValue(80)
            dialog.folder_edit.setText(str(tmp_path / "out"))
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(actions_module.ExportDialog, "exec", exec_)
    for _ in range(2):
        studio.window.gallery_actions.export([item])
    second = opened[1]
    assert second.format_combo.currentData() == "webp" and second.quality_spin.value() == 80
    assert second.quality_spin.isEnabled() and second.folder_edit.text() == str(tmp_path / "out")
    second.format_combo.setCurrentIndex(second.format_combo.findData("png"))
    assert not second.quality_spin.isEnabled()
    qtbot.waitUntil(lambda: len(list((tmp_path / "out").glob("*.webp"))) >= 1, timeout=10000)
