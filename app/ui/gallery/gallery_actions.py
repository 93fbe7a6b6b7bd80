"""What the gallery's context menu does: copy, open location, export, favourite, delete with undo."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QMimeData, QObject, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QImage
from PySide6.QtWidgets import QApplication, QDialog, QWidget

from app.core.errors import StudioError
from app.core.wording import counted
from app.store.export import export_image
from app.store.items import DeleteTicket, GalleryItem
from app.ui.gallery.export_dialog import ExportDialog, ExportOptions
from app.ui.gallery.gallery_model import GalleryModel
from app.ui.widgets.background import run_in_background

log = logging.getLogger(__name__)


class GalleryActions(QObject):
    """Runs gallery commands against the model's store and reports back for the status bar and banners."""

    message = Signal(str)
    failed = Signal(str, str)  # message, details
    deleted = Signal(int)  # how many; undo_delete() brings them back
    restored = Signal()  # the last deletion was undone; its offer to undo is spent

    def __init__(self, model: GalleryModel, window: QWidget, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._model = model
        self._window = window
        self._last_ticket: DeleteTicket | None = None
        self.export_folder = Path.home()
        self.last_export: ExportOptions | None = None  # the dialog opens with these choices again

    def copy_image(self, item: GalleryItem) -> None:
        """Put the image (and its file) on the clipboard."""
        image = QImage(str(item.path))
        if image.isNull():
            self.failed.emit(f"Cannot copy {item.path.name}: the file is missing or unreadable.", str(item.path))
            return
        mime = QMimeData()
        mime.setImageData(image)
        mime.setUrls([QUrl.fromLocalFile(str(item.path))])
        QApplication.clipboard().setMimeData(mime)
        self.message.emit(f"Copied {item.path.name}")

    def open_location(self, item: GalleryItem) -> None:
        """Open the folder holding the image in the system file manager."""
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(item.path.parent)))

    def export(self, items: list[GalleryItem], options: ExportOptions | None = None) -> None:
        """Ask how to export (unless options are given), then export in the background."""
        if options is None:
            dialog = ExportDialog(len(items), self.export_folder, self._window, self.last_export)
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return
            options = dialog.options()
            self.last_export = options
        self.export_folder = options.folder

        def work() -> list[Path]:
            options.folder.mkdir(parents=True, exist_ok=True)
            return [
                export_image(
                    item.path,
                    options.folder,
                    options.fmt,
                    quality=options.quality,
                    strip_metadata=options.strip_metadata,
                    name_template=options.name_template,
                    item=item,
                )
                for item in items
            ]

        self.message.emit(f"Exporting {counted(len(items), 'image')}…")
        run_in_background(work, self._on_exported, self._on_export_failed, context=self)

    def set_favourite(self, items: list[GalleryItem], favourite: bool) -> None:
        """Mark or unmark items as favourites."""
        gallery = self._model.gallery
        for item in items:
            gallery.set_favourite(item.id, favourite)
            updated = gallery.get(item.id)
            if updated is not None:
                self._model.update_item(updated)
        if not favourite and self._model.favourites_only:
            self._model.refresh()  # unmarked items leave the favourites view

    def delete(self, items: list[GalleryItem]) -> None:
        """Move images to the trash; undo_delete() restores them."""
        try:
            ticket = self._model.gallery.delete([item.id for item in items])
        except (StudioError, OSError) as error:
            self.failed.emit("Could not delete the images.", str(error))
            return
        self._last_ticket = ticket
        self._model.remove_ids(set(ticket.ids))
        self.deleted.emit(len(ticket.ids))

    def undo_delete(self) -> None:
        """Bring back the images of the last deletion."""
        ticket, self._last_ticket = self._last_ticket, None
        if ticket is None:
            return
        try:
            self._model.gallery.undo_delete(ticket)
        except (StudioError, OSError) as error:
            self.failed.emit("Could not restore the deleted images.", str(error))
            return
        self._model.refresh()
        self.restored.emit()
        self.message.emit(f"Restored {counted(len(ticket.ids), 'image')}")

    def _on_exported(self, paths: list[Path]) -> None:
        folder = paths[0].parent if paths else self.export_folder
        self.message.emit(f"Exported {counted(len(paths), 'image')} to {folder}")

    def _on_export_failed(self, error: Exception) -> None:
        log.warning("export failed: %s", error)
        self.failed.emit("Export failed.", str(error))
