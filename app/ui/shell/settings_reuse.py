"""Filling the controls from an image: a gallery item's prompt, seed or every setting, or the settings embedded
in a file (ours or another tool's)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog

from app.store.items import GalleryItem
from app.store.metadata import read_image_metadata
from app.ui.gallery.lineage import lineage_of
from app.ui.shell.banner import Banner
from app.ui.widgets.background import run_in_background
from app.ui.widgets.start_folders import pictures_folder

if TYPE_CHECKING:
    from app.ui.shell.main_window import MainWindow

_NEWS_MS = 12000  # how long news of a finished action (settings loaded) stays


class SettingsReuse(QObject):
    """The gallery's Reuse actions and File → Load settings from image."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window

    def reuse_settings(self, item: GalleryItem) -> None:
        """Fill every control from a gallery item (one made from an image gets its mode and source back)."""
        window = self._window
        if lineage_of(item) is not None:
            window.source_flow.reuse_settings(item)
            return
        request = item.request()
        if request is None:
            window.show_error("This image has no settings PixArt Studio can reuse.", str(item.path))
            return
        window.state.apply_request(request)
        window.status.show_message("Settings loaded from the image")

    def reuse_prompt(self, item: GalleryItem) -> None:
        """The item's prompt and negative prompt, with the prompt focused to edit."""
        state = self._window.state
        state.prompt, state.negative_prompt = item.prompt, item.negative_prompt
        self._window.prompt_editor.focus_prompt()

    def reuse_seed(self, item: GalleryItem) -> None:
        """The item's seed, fixed for the next job."""
        request = item.request()
        if request is not None:
            self._window.state.apply_seed(request)
        else:
            self._window.state.seed = item.seed

    def open_import_dialog(self) -> None:
        """File → Load settings from image…"""
        file, _ = QFileDialog.getOpenFileName(
            self._window, "Load settings from image", pictures_folder(), "Images (*.png *.jpg *.jpeg *.webp)"
        )
        if file:
            self.import_settings([Path(file)])

    def import_settings(self, paths: list[Path]) -> None:
        """Load the settings embedded in an image file (ours or another tool's), read off the GUI thread."""
        if not paths:
            return
        path = paths[0]
        run_in_background(
            lambda: read_image_metadata(path),
            lambda imported: self.apply_imported(path, imported),
            lambda error: self._window.show_error(f"Cannot read settings from {path.name}.", str(error)),
            context=self,
        )

    def apply_imported(
        self, path: Path, imported: Any, actions: tuple[tuple[str, Callable[[], None]], ...] = ()
    ) -> None:
        """Fill the controls from settings read out of an image file; `actions` join the banner that says so."""
        window = self._window
        if imported.request is None:
            window.banners.show_banner(
                Banner("warning", f"No generation settings found in {path.name}", "It has no prompt metadata.")
            )
            return
        window.state.apply_request(imported.request)
        notes = " ".join(imported.notes)
        title = f"Settings loaded from {path.name} ({imported.source})"
        window.banners.show_banner(
            Banner("info", title, notes, actions=actions, key="settings-loaded", timeout_ms=_NEWS_MS)
        )
        window.show_file(path)
