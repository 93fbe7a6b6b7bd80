"""The gallery: image files in dated folders a person can browse, and the SQLite index beside them.

Files come first: an image is written to a temporary file, fsynced and renamed into place, and only
then indexed, so the index never names a missing or half-written file. Opening reconciles the index
with the folder listing (only new files are read); the index can always be rebuilt from the files.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PIL import Image

from app.core.atomic_files import write_tmp
from app.core.errors import StoreError
from app.core.request import GenerationResult
from app.core.source_image import SourceImage
from app.core.wording import counted
from app.store import a1111, files, trash
from app.store.index import GalleryIndex, IndexRow
from app.store.items import DeleteTicket, GalleryItem, OpenReport, TrashedImage
from app.store.metadata import (
    FORMAT_VERSION,
    FORMATS,
    OUR_CHUNK,
    encode_image,
    is_text_limit_error,
    metadata_json,
    read_image_metadata,
)
from app.store.settings_file import SettingsFile
from app.store.thumbnails import ThumbnailCache

logger = logging.getLogger(__name__)

INDEX_FILE = "index.sqlite3"
ANNOTATIONS_FILE = "annotations.json"  # favourites, so a rebuilt index keeps them
_BATCH = 500  # rows per transaction while reconciling


_SQLITE_CORRUPT, _SQLITE_NOTADB = 11, 26  # sqlite3 names them from Python 3.11 on, when it adds sqlite_errorcode


def _is_corrupt(exc: sqlite3.DatabaseError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (_SQLITE_CORRUPT, _SQLITE_NOTADB)
    return any(words in str(exc) for words in ("malformed", "not a database", "quick_check"))


def _move_aside(db_path: Path) -> Path:
    """Rename a damaged index (and its WAL files) out of the way; it is never deleted."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = db_path.with_name(f"{db_path.name}.corrupt-{stamp}")
    for number in range(1, 1000):
        if not aside.exists():
            break
        aside = db_path.with_name(f"{db_path.name}.corrupt-{stamp}-{number}")
    for suffix in ("-wal", "-shm"):
        companion = db_path.with_name(db_path.name + suffix)
        if companion.exists():
            companion.replace(aside.with_name(aside.name + suffix))
    db_path.replace(aside)
    logger.warning("The gallery index %s was damaged; moved to %s and rebuilt from the image files", db_path, aside)
    return aside


def _check_readable(path: Path) -> None:
    """Raise if a file is not a complete image: PNG chunks are CRC-checked, others are decoded."""
    try:
        with Image.open(path) as image:
            if image.format == "PNG":
                image.verify()
            else:
                image.load()
    except ValueError as exc:
        if not is_text_limit_error(exc):  # PIL refuses huge text chunks before it reaches the pixels
            raise


class Gallery:
    """Every image the user made, searchable; safe to use from the GUI and a worker thread at once."""

    def __init__(self, root: Path, index: GalleryIndex, thumbnails: ThumbnailCache, use_system_trash: bool) -> None:
        self.root = root
        self.index = index
        self.thumbnails = thumbnails
        self.open_report = OpenReport()
        self._use_system_trash = use_system_trash
        self._lock = threading.RLock()  # reconcile and save must not interleave publish and index
        self._marks_file = SettingsFile(root / ANNOTATIONS_FILE)
        self._marks: dict[str, Any] = self._marks_file.load()

    @classmethod
    def open(cls, root: Path, thumbnails: Path | None = None, *, use_system_trash: bool = True) -> Gallery:
        """Open (creating, migrating, recovering and reconciling) the gallery in `root`."""
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(files.describe_os_error(exc, root)) from exc
        db_path = root / INDEX_FILE
        recovered = None
        try:
            index = GalleryIndex(db_path, root)
        except sqlite3.DatabaseError as exc:
            if not _is_corrupt(exc):
                raise StoreError(f"Cannot open the gallery index {db_path}: {exc}") from exc
            recovered = _move_aside(db_path)
            index = GalleryIndex(db_path, root)
        cache = ThumbnailCache(thumbnails if thumbnails is not None else root / ".thumbnails")
        gallery = cls(root, index, cache, use_system_trash)
        gallery.open_report = gallery._reconcile(recovered=recovered)
        return gallery

    # Saving -----------------------------------------------------------------------------------------

    def save(self, result: GenerationResult, fmt: str = "png") -> GalleryItem:
        """Write the image with its metadata, then index it; StoreError naming the folder on failure.

        On failure nothing is indexed and no partial file is left; the result is untouched, so the
        caller can offer to save it elsewhere.
        """
        created = time.time()
        settings = metadata_json(result, created)
        if result.request.source is not None:
            source = self._lineage_source(result.request.source, created)
            # The id links the index now; the path lets a rebuilt index (whose ids are new) find the source again.
            settings["request"]["source"]["item_id"] = source.id
            settings["request"]["source"]["item_path"] = source.path.relative_to(self.root).as_posix()
        data = encode_image(
            result.image,
            fmt,
            parameters=a1111.format_parameters(settings),
            settings=settings,
            dpi=result.request.dpi,
        )
        moment = time.localtime(created)
        stem = f"{time.strftime('%H%M%S', moment)}_{result.request.seed}_{files.slug(result.request.prompt)}"
        return self._write(data, stem + FORMATS[fmt.lower()], settings, created)

    def _lineage_source(self, source: SourceImage, created: float) -> GalleryItem:
        """The gallery image of a result's source: its own if still there, else a copy (made once per file hash)."""
        for item_id in (source.item_id, self.index.find_sha256(source.sha256)):
            item = self.index.get(item_id) if item_id is not None else None
            if item is not None:
                return item
        # Copied in, so lineage never points at a file outside the gallery that may vanish.
        settings = {
            "format": OUR_CHUNK,
            "format_version": FORMAT_VERSION,
            "created_at": created,
            "copied_source": True,
            "sha256": source.sha256,
            "request": {},
        }
        data = encode_image(source.image(), "png", parameters=None, settings=settings, dpi=None)
        moment = time.localtime(created)
        return self._write(
            data, f"{time.strftime('%H%M%S', moment)}_source_{source.sha256[:10]}.png", settings, created
        )

    def _write(self, data: bytes, name: str, settings: dict[str, Any], created: float) -> GalleryItem:
        """Publish an encoded image into the day's folder, then index it."""
        folder = self.root / time.strftime("%Y-%m-%d", time.localtime(created))
        dest = folder / name
        try:
            folder.mkdir(parents=True, exist_ok=True)
            tmp = write_tmp(folder, dest.name, data)
        except OSError as exc:
            raise StoreError(files.describe_os_error(exc, folder)) from exc
        with self._lock:
            try:
                path = files.publish(tmp, dest)
            except OSError as exc:
                tmp.unlink(missing_ok=True)
                raise StoreError(files.describe_os_error(exc, folder)) from exc
            relative = path.relative_to(self.root).as_posix()
            try:
                item_id = self.index.insert(IndexRow.from_metadata(relative, settings, created))
            except sqlite3.Error as exc:
                raise StoreError(
                    f"The image was saved as {path}, but the gallery index could not record it ({exc}); "
                    "it will be added the next time the gallery opens."
                ) from exc
        item = self.index.get(item_id)
        if item is None:  # only if another process deleted it in between
            raise StoreError(f"The image {path} was saved but is no longer in the gallery index")
        return item

    # Reading ----------------------------------------------------------------------------------------

    def count(self, query: str = "", favourites_only: bool = False) -> int:
        """How many images match a prompt search."""
        return self.index.count(query, favourites_only)

    def page(self, offset: int, limit: int, query: str = "", favourites_only: bool = False) -> list[GalleryItem]:
        """Images newest first; `query` searches prompts (every word, as a prefix)."""
        return self.index.page(offset, limit, query, favourites_only)

    def get(self, item_id: int) -> GalleryItem | None:
        """One image by id, or None if it is not (or no longer) in the gallery."""
        return self.index.get(item_id)

    def source_of(self, item: GalleryItem) -> GalleryItem | None:
        """Lineage: the gallery image `item` was made from, or None (made from text, or its source deleted)."""
        return self.index.get(item.source_id) if item.source_id is not None else None

    def made_from(self, item: GalleryItem) -> list[GalleryItem]:
        """Lineage: the images made from `item`, newest first."""
        return [found for item_id in self.index.made_from(item.id) if (found := self.index.get(item_id)) is not None]

    # Marking ----------------------------------------------------------------------------------------

    def set_favourite(self, item_id: int, favourite: bool) -> None:
        """Star or unstar an image."""
        self._mark(item_id, favourite=bool(favourite))

    def _mark(self, item_id: int, favourite: bool) -> None:
        with self._lock:
            item = self.index.get(item_id)
            if item is None:
                raise StoreError(f"Image {item_id} is not in the gallery (it may have been deleted)")
            self.index.update(item_id, favourite=favourite)
            relative = item.path.relative_to(self.root).as_posix()
            if favourite:
                self._marks[relative] = {"favourite": True}
            else:
                self._marks.pop(relative, None)
            self._marks_file.save(self._marks)

    # Deleting ---------------------------------------------------------------------------------------

    def delete(self, item_ids: Sequence[int]) -> DeleteTicket:
        """Move images to the trash (the system's, else .trash in the gallery); undo with the ticket.

        Images whose file cannot be moved stay in the gallery and are listed in `ticket.failed`.
        """
        moved: list[TrashedImage] = []
        failed: list[Path] = []
        with self._lock:
            for item_id in item_ids:
                item = self.index.get(item_id)
                if item is None:
                    continue
                try:
                    trashed = trash.move_to_trash(item.path, self.root, self._use_system_trash)
                except FileNotFoundError:
                    self.index.remove([item_id])  # already gone: nothing to keep
                    continue
                except OSError as exc:
                    logger.warning("Could not move %s to the trash: %s", item.path, exc)
                    failed.append(item.path)
                    continue
                self.index.remove([item_id])
                moved.append(TrashedImage(item, item.path, trashed))
        return DeleteTicket(tuple(moved), tuple(failed))

    def undo_delete(self, ticket: DeleteTicket) -> None:
        """Put deleted images back (file and row, same id); StoreError naming any no longer in the trash."""
        lost: list[Path] = []
        with self._lock:
            for image in ticket.images:
                if self.index.get(image.item.id) is not None:
                    continue  # undone already
                if not image.trashed.exists():
                    lost.append(image.original)
                    continue
                try:
                    path = trash.restore(image.trashed, image.original)
                except OSError as exc:
                    raise StoreError(files.describe_os_error(exc, image.original.parent)) from exc
                item = image.item
                row = IndexRow.from_metadata(
                    path.relative_to(self.root).as_posix(), item.metadata, item.created_at, item.favourite
                )
                self.index.insert(row, item.id)
        if lost:
            names = ", ".join(path.name for path in lost[:5])
            verb = "is" if len(lost) == 1 else "are"
            lost_text = f"{counted(len(lost), 'image')} {verb} no longer in the trash"
            raise StoreError(f"{lost_text} and cannot be restored: {names}")

    # Reconciling ------------------------------------------------------------------------------------

    def rebuild(self) -> OpenReport:
        """Re-create the whole index from the image files (ids change; favourites are kept)."""
        return self._reconcile(rebuild=True)

    def reconcile(self) -> OpenReport:
        """Index new files and drop rows whose file is gone, as opening does."""
        return self._reconcile()

    def _reconcile(self, rebuild: bool = False, recovered: Path | None = None) -> OpenReport:
        with self._lock:
            files.remove_stale_tmp(self.root)
            listing = files.scan_images(self.root)
            indexed = self.index.paths()
            missing = [item_id for relative, item_id in indexed.items() if relative not in listing]
            if rebuild:
                self.index.clear()
                indexed = {}
            else:
                self.index.remove(missing)
            new = [relative for relative in sorted(listing) if relative not in indexed]
            skipped: list[Path] = []
            rows: list[IndexRow] = []
            links: list[tuple[int, str | None]] = []

            def insert() -> int:
                ids = self.index.insert_many(rows)
                links.extend(link for row, item_id in zip(rows, ids, strict=True) if (link := _link(row, item_id)))
                rows.clear()
                return len(ids)

            added = 0
            for relative in new:
                row = self._row_from_file(relative, listing[relative])
                if row is None:
                    skipped.append(listing[relative])
                else:
                    rows.append(row)
                if len(rows) >= _BATCH:
                    added += insert()
            added += insert()
            # Once every batch is in: a source may sort after the images made from it.
            self.index.link_sources(links, forget_unknown=rebuild)
        if missing or skipped or added:
            logger.info("Gallery %s: %d new, %d missing, %d unreadable", self.root, added, len(missing), len(skipped))
        return OpenReport(added, len(missing), recovered, tuple(skipped))

    def _row_from_file(self, relative: str, path: Path) -> IndexRow | None:
        """An index row from an image's embedded settings; None (logged) for unreadable files."""
        try:
            _check_readable(path)
            imported = read_image_metadata(path)
            mtime = path.stat().st_mtime
        except (StoreError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
            logger.warning("Skipped %s: not a readable image (%s)", path, exc)
            return None
        mark: dict[str, Any] = self._marks[relative] if isinstance(self._marks.get(relative), dict) else {}
        favourite = bool(mark.get("favourite"))  # files from before version 2 may also hold "tags": ignored
        if imported.metadata is not None and imported.metadata.get("format") == OUR_CHUNK:
            created = imported.metadata.get("created_at")
            created = float(created) if isinstance(created, (int, float)) and created > 0 else mtime
            return IndexRow.from_metadata(relative, imported.metadata, created, favourite)
        settings = {
            "source": imported.source,
            "request": imported.request.to_dict() if imported.request is not None else None,
            "fields": imported.fields,
            "unknown": imported.unknown,
            "notes": list(imported.notes),
        }
        return IndexRow.from_metadata(relative, settings, mtime, favourite)

    def close(self) -> None:
        """Close the index (checkpointing its WAL)."""
        self.index.close()

    def __enter__(self) -> Gallery:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _link(row: IndexRow, item_id: int) -> tuple[int, str | None] | None:
    """(id, its source's gallery path) for an image made from another; the path is None in files saved before
    paths were recorded, whose source id is right only in the index that gave it."""
    if not row.mode or row.mode == "text":
        return None
    request = json.loads(row.settings).get("request")
    source = request.get("source") if isinstance(request, dict) else None
    path = source.get("item_path") if isinstance(source, dict) else None
    return item_id, path if isinstance(path, str) else None
