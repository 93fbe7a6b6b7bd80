"""Working from an image in the window: choose the source, show it with its mask or canvas, variations."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QBuffer, QIODevice, QObject, QPoint, Qt
from PySide6.QtGui import QGuiApplication, QImage, QKeySequence, QShortcut
from PySide6.QtWidgets import QFileDialog, QMenu

from app.core.errors import InvalidRequestError
from app.core.request import GenerationRequest
from app.core.source_image import VARIATION_STRENGTH, GenerationMode, MaskImage, SourceImage, load_source
from app.store.items import GalleryItem
from app.store.metadata import read_image_metadata
from app.ui.create.state import RANDOM_SEED_LIMIT
from app.ui.gallery.lineage import lineage_of
from app.ui.viewer.mask_painter import MaskPainter
from app.ui.viewer.mask_toolbar import MaskToolbar
from app.ui.viewer.outpaint_frame import OutpaintPreview
from app.ui.widgets.background import run_in_background
from app.ui.widgets.icons import icon

if TYPE_CHECKING:
    from app.ui.shell.main_window import MainWindow

VARIATION_COUNT = 4  # one click makes this many, on seeds s, s+1, …


def _decoded(source: SourceImage) -> tuple[SourceImage, QImage]:
    """The source with its pixels decoded for the viewer (on a worker thread: a 4K PNG takes a moment)."""
    image = QImage.fromData(source.png)  # the format is read from the bytes
    if image.isNull():
        raise InvalidRequestError("the source image could not be decoded for display")
    return source, image


class SourceFlow(QObject):
    """Owns the mask painter and the outpaint preview; every way to pick a source ends in `ImageSettings`."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self._settings = window.state.image
        self._load = 0  # only the newest source load is used
        self.shown_item: GalleryItem | None = None  # the gallery image in the viewer, if any
        self.shown_file: Path | None = None  # or the file
        self.painter = MaskPainter(window.viewer, self)
        self.outpaint = OutpaintPreview(window.viewer, self)
        self.mask_toolbar = MaskToolbar(self.painter)
        self.mask_toolbar.setVisible(False)
        self._settings.mask_provider = self.current_mask
        self._bind()

    def _bind(self) -> None:
        settings, painter, window = self._settings, self.painter, self._window
        panel = window.side_panel.image_panel
        panel.choose_source_requested.connect(self.choose_file)
        panel.paste_source_requested.connect(self.paste)
        panel.show_source_requested.connect(self.show_source)
        self.mask_toolbar.edit_requested.connect(self.show_source)
        painter.feather = settings.mask_blur
        painter.feather_changed.connect(lambda pixels: setattr(settings, "mask_blur", pixels))
        settings.mask_blur_changed.connect(lambda pixels: setattr(painter, "feather", pixels))
        settings.mode_changed.connect(self._on_mode_changed)
        settings.source_changed.connect(self._on_source_changed)
        settings.changed.connect(self._on_settings_changed)
        window.viewer.customContextMenuRequested.connect(self._show_viewer_menu)
        window.viewer.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        QShortcut(QKeySequence("Ctrl+Shift+V"), window, self.paste)

    # -- choosing the source -----------------------------------------------------------------

    def use_item(self, item: GalleryItem) -> None:
        """Work from a gallery image (lineage records its id)."""
        self._start(lambda: _decoded(load_source(item.path, item_id=item.id)), f"Gallery image #{item.id}")

    def use_file(self, path: Path) -> None:
        """Work from an image file from outside the gallery."""
        self._start(lambda: _decoded(load_source(path)), path.name)

    def use_image(self, image: QImage, name: str) -> None:
        """Work from pixels in memory (the clipboard)."""
        buffer = QBuffer()
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        image.save(buffer, "PNG")  # type: ignore[call-overload]  # PySide6 6.11 takes str here; its stubs say bytes
        data = bytes(buffer.data().data())
        self._start(lambda: _decoded(load_source(data)), name)

    def choose_file(self) -> None:
        """The source's file dialog."""
        file, _ = QFileDialog.getOpenFileName(
            self._window, "Choose a source image", "", "Images (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff)"
        )
        if file:
            self.use_file(Path(file))

    def paste(self) -> None:
        """Use the clipboard's image (or an image file copied in a file manager) as the source (Ctrl+Shift+V)."""
        mime = QGuiApplication.clipboard().mimeData()
        files = [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()] if mime.hasUrls() else []
        if files:
            self.use_file(files[0])
            return
        image = QGuiApplication.clipboard().image()
        if image.isNull():
            self._window.status.show_message("The clipboard holds no image to use as the source")
            return
        self.use_image(image, "Pasted image")

    def dropped(self, paths: list[Path]) -> None:
        """A dropped image: its settings load (offering to use it as the source instead); without settings, use it."""
        if not paths:
            return
        path = paths[0]
        run_in_background(
            lambda: read_image_metadata(path),
            lambda imported: self._on_dropped(path, imported),
            lambda error: self._window.show_error(f"Cannot read settings from {path.name}.", str(error)),
            context=self,
        )

    def _on_dropped(self, path: Path, imported: Any) -> None:
        if imported.request is None:
            self.use_file(path)  # no settings to load: the picture itself is what the user brought
            return
        # As before, a dropped image's settings load at once; the banner also offers working from its pixels.
        self._window.settings_reuse.apply_imported(
            path, imported, actions=(("Use as source", lambda: self.use_file(path)),)
        )

    def _start(self, load: Any, name: str) -> None:
        self._load += 1
        ticket = self._load

        def done(result: tuple[SourceImage, QImage]) -> None:
            if ticket == self._load:
                source, image = result
                self._settings.set_source(source, image, name)
                self._window.status.show_message(f"Working from {name} ({source.width}×{source.height})")

        run_in_background(load, done, lambda error: self._failed(name, error), context=self)

    def _failed(self, name: str, error: Exception) -> None:
        if isinstance(error, InvalidRequestError):
            self._window.show_error(f"Cannot use {name} as the source.", str(error))
        else:
            self._window.show_error(f"Cannot use {name} as the source.", f"{type(error).__name__}: {error}")

    # -- variations --------------------------------------------------------------------------

    def variations(self, item: GalleryItem) -> None:
        """Queue VARIATION_COUNT images from `item` on new seeds at strength ~0.4, with its prompt and settings."""
        base = item.request()  # as text to image: the variation brings its own source
        if base is None:
            self._window.show_error("This image has no settings to vary.", str(item.path))
            return
        seed = random.randrange(RANDOM_SEED_LIMIT)

        def make() -> GenerationRequest:
            source = load_source(item.path, item_id=item.id)
            return replace(base.variations(source, VARIATION_COUNT, seed), model=self._window.controller.model)

        def submit(request: GenerationRequest) -> None:
            job_id = self._window.controller.submit(request)
            self._window.generation_panel.set_busy(True)
            self._window.status.show_message(
                f"{VARIATION_COUNT} variations of image #{item.id} queued (job #{job_id}, strength "
                f"{VARIATION_STRENGTH})"
            )

        run_in_background(make, submit, lambda error: self._failed(f"image #{item.id}", error), context=self)

    # -- reusing an image's settings ---------------------------------------------------------

    def reuse_settings(self, item: GalleryItem) -> None:
        """Fill the controls from an image made from another: its mode, and its source when still in the gallery."""
        data = item.metadata.get("request")
        lineage = lineage_of(item)
        text = item.request()
        if not isinstance(data, dict) or lineage is None or text is None:
            self._window.show_error("This image has no settings PixArt Studio can reuse.", str(item.path))
            return
        gallery = self._window.gallery_model.gallery
        source_item = gallery.get(lineage.source_id) if lineage.source_id is not None else None
        if source_item is None:
            self._window.state.apply_request(text)
            self._window.status.show_message(
                f"Settings loaded; its {lineage.mode.label.lower()} source is not in the gallery, so the mode is text"
            )
            return

        def done(result: tuple[SourceImage, QImage]) -> None:
            source, image = result
            request = item.request(source) or text  # inpaint without its mask: text settings
            self._window.state.apply_request(request)
            settings = self._settings
            settings.set_source(source, image, f"Gallery image #{source.item_id}")
            settings.mode = lineage.mode
            settings.strength = float(data.get("strength", settings.strength))
            settings.mask_blur = int(data.get("mask_blur", settings.mask_blur))
            settings.masked_only = bool(data.get("masked_only", False))
            note = " — paint the mask again" if lineage.mode is GenerationMode.INPAINT else ""
            self._window.status.show_message(f"Settings loaded with source #{source.item_id}{note}")

        run_in_background(
            lambda: _decoded(load_source(source_item.path, item_id=source_item.id)),
            done,
            lambda error: self._failed(f"image #{source_item.id}", error),
            context=self,
        )

    # -- the viewer --------------------------------------------------------------------------

    def show_source(self) -> None:
        """Put the source in the viewer: with its mask to paint (inpaint) or its new canvas (outpaint)."""
        settings = self._settings
        source = settings.source
        if source is None or settings.source_image.isNull():
            return
        if settings.mode is GenerationMode.INPAINT:
            self.painter.begin(settings.source_image, source.sha256)
            self._window.viewer.setFocus()
        elif settings.mode is GenerationMode.OUTPAINT:
            self.outpaint.show(settings.source_image, settings.extension())
        else:
            self._window.viewer.set_image(settings.source_image)

    def current_mask(self) -> MaskImage | None:
        """The painted mask of the current source, or None when nothing is painted."""
        source = self._settings.source
        if source is None or self.painter.key != source.sha256:
            return None
        return self.painter.mask_image()

    def _on_mode_changed(self, mode: GenerationMode) -> None:
        self.mask_toolbar.setVisible(mode is GenerationMode.INPAINT)
        if mode is not GenerationMode.INPAINT:
            self.painter.end()
        if mode is not GenerationMode.OUTPAINT:
            self.outpaint.hide()
        if mode.needs_source:
            self.show_source()

    def _on_source_changed(self, source: SourceImage | None) -> None:
        if source is None:
            self.painter.forget()
            self.outpaint.hide()
            return
        self.show_source()

    def _on_settings_changed(self) -> None:
        settings = self._settings
        if self.outpaint.shown and settings.mode is GenerationMode.OUTPAINT:
            self.outpaint.show(settings.source_image, settings.extension())

    def _show_viewer_menu(self, position: QPoint) -> None:
        if self.painter.active:
            return  # a right drag erases the mask
        item, file = self.shown_item, self.shown_file
        viewer = self._window.viewer
        if viewer.is_preview or not viewer.has_image or (item is None and file is None):
            return
        menu = QMenu(viewer)
        if item is not None:
            menu.addAction(icon("image"), "Use as source", lambda: self.use_item(item))
            menu.addAction(icon("variations"), f"Variations ({VARIATION_COUNT})", lambda: self.variations(item))
        elif file is not None:
            menu.addAction(icon("image"), "Use as source", lambda: self.use_file(file))
        menu.popup(viewer.viewport().mapToGlobal(position))
