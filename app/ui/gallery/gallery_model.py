"""A list model over the gallery store: newest first, paged on demand, thumbnails loaded in the background."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QThreadPool,
    QUrl,
    Signal,
)
from PySide6.QtGui import QImage

from app.store.gallery import Gallery
from app.store.items import GalleryItem
from app.ui.gallery.lineage import lineage_of
from app.ui.widgets.background import run_in_background

log = logging.getLogger(__name__)

PAGE_SIZE = 120
THUMBNAIL_CACHE_ITEMS = 600  # decoded thumbnails kept in memory (~200 KB each)
ITEM_ROLE = Qt.ItemDataRole.UserRole + 1
THUMBNAIL_ROLE = Qt.ItemDataRole.UserRole + 2  # QImage or None while loading
FAVOURITE_ROLE = Qt.ItemDataRole.UserRole + 3
LINEAGE_ROLE = Qt.ItemDataRole.UserRole + 4  # Lineage or None

_Index = QModelIndex | QPersistentModelIndex


def _load_thumbnail(gallery: Gallery, path: Path) -> QImage:
    # Runs on a pool thread: the store makes (or finds) the JPEG, Qt decodes it; QImage is thread-safe.
    image = QImage(str(gallery.thumbnails.ensure(path)))
    if image.isNull():
        raise ValueError(f"thumbnail of {path} could not be decoded")
    return image


class GalleryModel(QAbstractListModel):
    """Rows are GalleryItems matching the search; `thumbnail_ready` fires as thumbnails arrive."""

    thumbnail_ready = Signal(int)  # item id
    count_changed = Signal(int)  # matching items in the store (not just the loaded rows)

    def __init__(self, gallery: Gallery, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._gallery = gallery
        self._rows: list[GalleryItem] = []
        self._total = 0
        self._query = ""
        self._favourites_only = False
        self._thumbnails: OrderedDict[int, QImage] = OrderedDict()
        self._pending: set[int] = set()
        self._failed: set[int] = set()
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)  # leave cores to the engine
        self.refresh()

    # -- store -------------------------------------------------------------------------------

    @property
    def gallery(self) -> Gallery:
        """The store this model shows."""
        return self._gallery

    def set_gallery(self, gallery: Gallery) -> None:
        """Show another store (the output folder changed)."""
        self._gallery = gallery
        self._thumbnails.clear()
        self._failed.clear()
        self.refresh()

    def set_filter(self, query: str = "", favourites_only: bool = False) -> None:
        """Search prompts (each word as a prefix), optionally favourites only."""
        if (query, favourites_only) != (self._query, self._favourites_only):
            self._query, self._favourites_only = query, favourites_only
            self.refresh()

    def refresh(self) -> None:
        """Reload the first page from the store."""
        self.beginResetModel()
        self._total = self._gallery.count(self._query, self._favourites_only)
        self._rows = self._gallery.page(0, PAGE_SIZE, self._query, self._favourites_only)
        self.endResetModel()
        self.count_changed.emit(self._total)

    @property
    def favourites_only(self) -> bool:
        """True while only favourites are shown."""
        return self._favourites_only

    @property
    def total(self) -> int:
        """Matching items in the store."""
        return self._total

    def add_item(self, item: GalleryItem) -> None:
        """A new image was saved: show it first (or re-run the search if one is active)."""
        if self._query or self._favourites_only:
            self.refresh()
            return
        self.beginInsertRows(QModelIndex(), 0, 0)
        self._rows.insert(0, item)
        self._total += 1
        self.endInsertRows()
        self.count_changed.emit(self._total)

    def remove_ids(self, ids: set[int]) -> None:
        """Drop rows whose items were deleted."""
        for row in reversed(range(len(self._rows))):
            if self._rows[row].id in ids:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._rows[row]
                self._total -= 1
                self.endRemoveRows()
        self.count_changed.emit(self._total)

    def update_item(self, item: GalleryItem) -> None:
        """Redraw a row whose item changed (e.g. favourite)."""
        for row, existing in enumerate(self._rows):
            if existing.id == item.id:
                self._rows[row] = item
                self.dataChanged.emit(self.index(row), self.index(row))
                return

    def item_at(self, row: int) -> GalleryItem:
        """The item shown in `row`."""
        return self._rows[row]

    def row_of(self, item_id: int) -> int:
        """The row showing `item_id`, or -1."""
        return next((row for row, item in enumerate(self._rows) if item.id == item_id), -1)

    def wait_for_thumbnails(self, timeout_ms: int = 30000) -> bool:
        """Block until queued thumbnails are made (tests and screenshots)."""
        return self._pool.waitForDone(timeout_ms)

    # -- Qt model ----------------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's own default
        """Loaded rows (more arrive through fetchMore)."""
        return 0 if parent.isValid() else len(self._rows)

    def canFetchMore(self, parent: _Index) -> bool:
        """True while the store has more matching items than are loaded."""
        return not parent.isValid() and len(self._rows) < self._total

    def fetchMore(self, parent: _Index) -> None:
        """Load the next page when the view scrolls near the end."""
        more = self._gallery.page(len(self._rows), PAGE_SIZE, self._query, self._favourites_only)
        if not more:
            self._total = len(self._rows)
            return
        self.beginInsertRows(QModelIndex(), len(self._rows), len(self._rows) + len(more) - 1)
        self._rows.extend(more)
        self.endInsertRows()

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Item, thumbnail (requested lazily), tooltip and accessible text."""
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        item = self._rows[index.row()]
        if role == ITEM_ROLE:
            return item
        if role == THUMBNAIL_ROLE:
            return self._thumbnail(item)
        if role == FAVOURITE_ROLE:
            return item.favourite
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            prompt = item.prompt or "(no prompt)"
            lineage = lineage_of(item)
            made_from = f"\n{lineage.describe()}" if lineage is not None else ""
            return (
                f"{prompt}\n{item.width}×{item.height} · seed {item.seed} · {item.steps} steps · {item.model_name}"
                f"{made_from}"
            )
        if role == LINEAGE_ROLE:
            return lineage_of(item)
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        """Selectable and draggable (out to other apps as files)."""
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsDragEnabled if index.isValid() else base

    def mimeTypes(self) -> list[str]:
        """Files, so other apps take them as dropped images."""
        return ["text/uri-list"]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        """The selected images' files."""
        mime = QMimeData()
        paths = [self._rows[i.row()].path for i in indexes if i.isValid()]
        mime.setUrls([QUrl.fromLocalFile(str(path)) for path in paths])
        return mime

    def supportedDragActions(self) -> Qt.DropAction:
        """Dragging out copies; the gallery keeps its files."""
        return Qt.DropAction.CopyAction

    # -- thumbnails --------------------------------------------------------------------------

    def _thumbnail(self, item: GalleryItem) -> QImage | None:
        cached = self._thumbnails.get(item.id)
        if cached is not None:
            self._thumbnails.move_to_end(item.id)
            return cached
        if item.id not in self._pending and item.id not in self._failed:
            self._pending.add(item.id)
            gallery = self._gallery
            run_in_background(
                lambda: _load_thumbnail(gallery, item.path),
                partial(self._on_thumbnail, item.id),
                partial(self._on_thumbnail_failed, item.id),
                context=self,
                pool=self._pool,
            )
        return None

    def _on_thumbnail(self, item_id: int, image: QImage) -> None:
        self._pending.discard(item_id)
        self._thumbnails[item_id] = image
        while len(self._thumbnails) > THUMBNAIL_CACHE_ITEMS:
            self._thumbnails.popitem(last=False)
        row = self.row_of(item_id)
        if row >= 0:
            self.dataChanged.emit(self.index(row), self.index(row), [THUMBNAIL_ROLE])
        self.thumbnail_ready.emit(item_id)

    def _on_thumbnail_failed(self, item_id: int, error: Exception) -> None:
        self._pending.discard(item_id)
        self._failed.add(item_id)
        log.warning("thumbnail failed: %s", error)
