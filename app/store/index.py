"""The SQLite index of the gallery: one row per image file, full-text search over prompts."""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
import threading
from collections.abc import Callable, Iterable
from dataclasses import astuple, dataclass, fields
from pathlib import Path
from typing import Any

from app.core.errors import StoreError
from app.store.items import GalleryItem

SCHEMA_VERSION = 3

_SCHEMA_V1 = """
CREATE TABLE images (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- AUTOINCREMENT: an undone delete gets its id back, unused
    path TEXT NOT NULL UNIQUE,             -- relative to the gallery folder, '/' separated
    prompt TEXT NOT NULL DEFAULT '',
    negative_prompt TEXT NOT NULL DEFAULT '',
    seed INTEGER NOT NULL DEFAULT 0,
    steps INTEGER NOT NULL DEFAULT 0,
    guidance_scale REAL NOT NULL DEFAULT 0,
    scheduler TEXT NOT NULL DEFAULT '',
    width INTEGER NOT NULL DEFAULT 0,
    height INTEGER NOT NULL DEFAULT 0,
    model_name TEXT NOT NULL DEFAULT '',
    model_hash TEXT NOT NULL DEFAULT '',
    kv_compression TEXT NOT NULL DEFAULT '',
    generation_path TEXT NOT NULL DEFAULT '',
    duration_s REAL NOT NULL DEFAULT 0,
    device TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    favourite INTEGER NOT NULL DEFAULT 0,
    tags TEXT NOT NULL DEFAULT '',         -- newline separated
    settings TEXT NOT NULL DEFAULT '{}'    -- the full JSON metadata (column name kept for existing indexes)
);
CREATE INDEX images_newest ON images (created_at DESC, id DESC);
CREATE INDEX images_favourite_newest ON images (favourite, created_at DESC, id DESC);
CREATE VIRTUAL TABLE images_fts USING fts5 (
    prompt, tags, content='images', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER images_ai AFTER INSERT ON images BEGIN
    INSERT INTO images_fts (rowid, prompt, tags) VALUES (new.id, new.prompt, new.tags);
END;
CREATE TRIGGER images_ad AFTER DELETE ON images BEGIN
    INSERT INTO images_fts (images_fts, rowid, prompt, tags) VALUES ('delete', old.id, old.prompt, old.tags);
END;
CREATE TRIGGER images_au AFTER UPDATE OF prompt, tags ON images BEGIN
    INSERT INTO images_fts (images_fts, rowid, prompt, tags) VALUES ('delete', old.id, old.prompt, old.tags);
    INSERT INTO images_fts (rowid, prompt, tags) VALUES (new.id, new.prompt, new.tags);
END;
"""


def _run_script(db: sqlite3.Connection, script: str) -> None:
    """Run statements one by one: executescript would commit the migration's transaction early."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            db.execute(statement)
            statement = ""


# Version 2 drops the tags column, which no window ever let anyone fill. SQLite before 3.35 (still on some Linux
# systems) has no DROP COLUMN, so the table is rebuilt: copied without it, renamed, its indexes, search and
# triggers made again, and the AUTOINCREMENT counter kept, so the ids of trashed images stay theirs for an undo.
_SCHEMA_V2 = """
DROP TRIGGER images_ai;
DROP TRIGGER images_ad;
DROP TRIGGER images_au;
DROP TABLE images_fts;
CREATE TABLE images_v2 (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT NOT NULL UNIQUE,
    prompt TEXT NOT NULL DEFAULT '',
    negative_prompt TEXT NOT NULL DEFAULT '',
    seed INTEGER NOT NULL DEFAULT 0,
    steps INTEGER NOT NULL DEFAULT 0,
    guidance_scale REAL NOT NULL DEFAULT 0,
    scheduler TEXT NOT NULL DEFAULT '',
    width INTEGER NOT NULL DEFAULT 0,
    height INTEGER NOT NULL DEFAULT 0,
    model_name TEXT NOT NULL DEFAULT '',
    model_hash TEXT NOT NULL DEFAULT '',
    kv_compression TEXT NOT NULL DEFAULT '',
    generation_path TEXT NOT NULL DEFAULT '',
    duration_s REAL NOT NULL DEFAULT 0,
    device TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    favourite INTEGER NOT NULL DEFAULT 0,
    settings TEXT NOT NULL DEFAULT '{}'
);
INSERT INTO images_v2 SELECT id, path, prompt, negative_prompt, seed, steps, guidance_scale, scheduler, width, height,
    model_name, model_hash, kv_compression, generation_path, duration_s, device, source, created_at, favourite, settings
    FROM images;
DELETE FROM sqlite_sequence WHERE name = 'images_v2';
INSERT INTO sqlite_sequence (name, seq) SELECT 'images_v2', seq FROM sqlite_sequence WHERE name = 'images';
DROP TABLE images;
ALTER TABLE images_v2 RENAME TO images;
CREATE INDEX images_newest ON images (created_at DESC, id DESC);
CREATE INDEX images_favourite_newest ON images (favourite, created_at DESC, id DESC);
CREATE VIRTUAL TABLE images_fts USING fts5 (
    prompt, content='images', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
);
INSERT INTO images_fts (images_fts) VALUES ('rebuild');
CREATE TRIGGER images_ai AFTER INSERT ON images BEGIN
    INSERT INTO images_fts (rowid, prompt) VALUES (new.id, new.prompt);
END;
CREATE TRIGGER images_ad AFTER DELETE ON images BEGIN
    INSERT INTO images_fts (images_fts, rowid, prompt) VALUES ('delete', old.id, old.prompt);
END;
CREATE TRIGGER images_au AFTER UPDATE OF prompt ON images BEGIN
    INSERT INTO images_fts (images_fts, rowid, prompt) VALUES ('delete', old.id, old.prompt);
    INSERT INTO images_fts (rowid, prompt) VALUES (new.id, new.prompt);
END;
"""

# Version 3, lineage (#28): how an image was made from another, and the hash of a file copied in as a source.
_LINEAGE_V3 = """
ALTER TABLE images ADD COLUMN mode TEXT NOT NULL DEFAULT '';
ALTER TABLE images ADD COLUMN source_id INTEGER;
ALTER TABLE images ADD COLUMN sha256 TEXT NOT NULL DEFAULT '';
CREATE INDEX images_source ON images (source_id);
CREATE INDEX images_sha256 ON images (sha256) WHERE sha256 != '';
"""

# MIGRATIONS[n] takes a database at user_version n to n + 1; append, never edit.
MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (
    lambda db: _run_script(db, _SCHEMA_V1),
    lambda db: _run_script(db, _SCHEMA_V2),
    lambda db: _run_script(db, _LINEAGE_V3),
)


@dataclass(frozen=True)
class IndexRow:
    """The indexed columns of one image, all derived from its relative path and settings JSON."""

    path: str
    prompt: str
    negative_prompt: str
    seed: int
    steps: int
    guidance_scale: float
    scheduler: str
    width: int
    height: int
    model_name: str
    model_hash: str
    kv_compression: str
    generation_path: str
    duration_s: float
    device: str
    source: str
    created_at: float
    favourite: bool
    settings: str
    mode: str = ""  # "text", "img2img", "inpaint", "outpaint", "upscale"; "" for images from other tools
    source_id: int | None = None  # the gallery image it was made from
    sha256: str = ""  # a source copied into the gallery: its file's SHA-256, so it is copied once

    @classmethod
    def from_metadata(
        cls,
        path: str,
        settings: dict[str, Any],
        created_at: float,
        favourite: bool = False,
    ) -> IndexRow:
        """Columns from our metadata JSON (GenerationResult.metadata()) or an imported image's metadata."""
        request: dict[str, Any] = settings["request"] if isinstance(settings.get("request"), dict) else {}
        source: dict[str, Any] = request["source"] if isinstance(request.get("source"), dict) else {}
        is_ours = settings.get("format") == "pixart-studio"
        shown: dict[str, Any] = settings["fields"] if isinstance(settings.get("fields"), dict) else {}
        layers = settings.get("kv_compression_layers") or []
        kv = f"{len(layers)} layers R{settings.get('kv_compression_ratio', 1)}" if layers else ""
        return cls(
            path=path,
            prompt=str(request.get("prompt") or shown.get("Prompt") or ""),
            negative_prompt=str(request.get("negative_prompt") or shown.get("Negative prompt") or ""),
            seed=_int(request.get("seed")),
            steps=_int(request.get("steps")),
            guidance_scale=_float(request.get("guidance_scale")),
            scheduler=str(request.get("scheduler") or ""),
            width=_int(request.get("width")),
            height=_int(request.get("height")),
            model_name=str(settings.get("model_name") or shown.get("Model") or request.get("model") or ""),
            model_hash=str(settings.get("model_hash") or shown.get("Model hash") or ""),
            kv_compression=kv,
            generation_path=str(settings.get("path") or ""),
            duration_s=_float(settings.get("duration_s")),
            device=str(settings.get("device") or ""),
            source=str(settings.get("source") or settings.get("format") or ""),
            created_at=created_at,
            favourite=favourite,
            settings=json.dumps(settings, ensure_ascii=False),
            mode=str(request.get("mode") or "text") if is_ours and request else "",
            source_id=_int(source.get("item_id")) or None,
            sha256=str(settings.get("sha256") or ""),
        )


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**63 else 0


def _float(value: object) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def fts_query(query: str) -> str | None:
    """A safe FTS5 query from what a user typed: every word must match, as a prefix; None if no words."""
    words = re.findall(r"\w+", query.casefold())[:16]
    return " ".join(f'"{word}"*' for word in words) if words else None


_COLUMNS = [f.name for f in fields(IndexRow)]
_SQLITE_INT_LIMIT = 2**63  # larger numbers cannot be seeds in the index (and cannot be bound)
_SELECT = (
    "SELECT id, path, prompt, negative_prompt, seed, steps, guidance_scale, scheduler, width, height, "
    "model_name, model_hash, created_at, favourite, settings, mode, source_id FROM images"
)


class GalleryIndex:
    """One SQLite connection (WAL) shared by the GUI and worker threads behind a lock."""

    def __init__(self, db_path: Path, root: Path) -> None:
        self.db_path = db_path
        self.root = root
        self._lock = threading.RLock()
        self._db = sqlite3.connect(db_path, check_same_thread=False, isolation_level=None, timeout=10.0)
        try:
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL survives app crashes
            verdict = self._db.execute("PRAGMA quick_check").fetchone()[0]
            if verdict != "ok":
                raise sqlite3.DatabaseError(f"quick_check: {verdict}")
            self._migrate()
        except BaseException:
            self._db.close()
            raise

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"The gallery index {self.db_path} was made by a newer PixArt Studio (schema {version}, this "
                f"version reads {SCHEMA_VERSION}). Update PixArt Studio, or choose another gallery folder."
            )
        for step in range(version, SCHEMA_VERSION):
            with self.transaction():
                MIGRATIONS[step](self._db)
                self._db.execute(f"PRAGMA user_version = {step + 1}")

    def transaction(self) -> _Transaction:
        """A locked BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error)."""
        return _Transaction(self._db, self._lock)

    def insert_many(self, rows: Iterable[IndexRow], ids: Iterable[int | None] | None = None) -> list[int]:
        """Insert rows in one transaction (bulk: reconcile, rebuild, tests); returns their ids."""
        placeholders = ", ".join("?" for _ in range(len(_COLUMNS) + 1))
        sql = f"INSERT INTO images (id, {', '.join(_COLUMNS)}) VALUES ({placeholders})"
        ids_iter = iter(ids) if ids is not None else None
        new_ids = []
        with self.transaction():
            for row in rows:
                item_id = next(ids_iter) if ids_iter is not None else None
                cursor = self._db.execute(sql, (item_id, *astuple(row)))
                new_ids.append(int(cursor.lastrowid or 0))  # an INSERT always sets it
        return new_ids

    def insert(self, row: IndexRow, item_id: int | None = None) -> int:
        """Insert one row (with a given id to undo a delete); returns its id."""
        return self.insert_many([row], [item_id])[0]

    def remove(self, ids: Iterable[int]) -> None:
        """Delete rows by id."""
        with self.transaction():
            self._db.executemany("DELETE FROM images WHERE id = ?", [(int(i),) for i in ids])

    def clear(self) -> None:
        """Delete every row (before a rebuild)."""
        with self.transaction():
            self._db.execute("DELETE FROM images")

    def paths(self) -> dict[str, int]:
        """{relative path: id} of every row; cheap (no settings are read)."""
        with self._lock:
            return dict(self._db.execute("SELECT path, id FROM images").fetchall())

    def _where(self, query: str, favourites_only: bool) -> tuple[str, list[Any]]:
        clauses, params = [], []
        match = fts_query(query)
        typed = query.strip()
        if match is not None and typed.isdigit() and int(typed) < _SQLITE_INT_LIMIT:
            # A number may be a seed as well as a word of a prompt ("1984 poster").
            clauses.append("(seed = ? OR id IN (SELECT rowid FROM images_fts WHERE images_fts MATCH ?))")
            params += [int(typed), match]
        elif match is not None:
            clauses.append("id IN (SELECT rowid FROM images_fts WHERE images_fts MATCH ?)")
            params.append(match)
        if favourites_only:
            clauses.append("favourite = 1")
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), params

    def count(self, query: str = "", favourites_only: bool = False) -> int:
        """Number of rows matching a search."""
        where, params = self._where(query, favourites_only)
        with self._lock:
            return int(self._db.execute(f"SELECT count(*) FROM images{where}", params).fetchone()[0])

    def page(self, offset: int, limit: int, query: str = "", favourites_only: bool = False) -> list[GalleryItem]:
        """Rows newest first, `limit` of them from `offset`."""
        if offset < 0 or limit < 0:
            raise ValueError(f"offset {offset} and limit {limit} must not be negative")
        where, params = self._where(query, favourites_only)
        sql = f"{_SELECT}{where} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?"
        with self._lock:
            return [self._item(row) for row in self._db.execute(sql, [*params, limit, offset])]

    def get(self, item_id: int) -> GalleryItem | None:
        """The row with this id, or None."""
        with self._lock:
            row = self._db.execute(f"{_SELECT} WHERE id = ?", (item_id,)).fetchone()
        return self._item(row) if row else None

    def update(self, item_id: int, **columns: Any) -> None:
        """Change columns of one row (favourite, path)."""
        allowed = {"favourite", "path"}
        if not set(columns) <= allowed:
            raise ValueError(f"columns {sorted(set(columns) - allowed)} cannot be changed; only {sorted(allowed)}")
        assignments = ", ".join(f"{name} = ?" for name in columns)
        with self.transaction():
            self._db.execute(f"UPDATE images SET {assignments} WHERE id = ?", [*columns.values(), item_id])

    def find_sha256(self, sha256: str) -> int | None:
        """The id of the source copy with this file hash, or None."""
        with self._lock:
            row = self._db.execute("SELECT id FROM images WHERE sha256 = ? LIMIT 1", (sha256,)).fetchone()
        return int(row[0]) if row else None

    def link_sources(self, links: Iterable[tuple[int, str | None]], forget_unknown: bool) -> None:
        """Point each image at the row of its source's path (none when that file is gone). A link without a path
        keeps its recorded id, unless `forget_unknown` (a rebuilt index, where old ids name other images)."""
        with self.transaction():
            for item_id, path in links:
                if path is not None:
                    self._db.execute(
                        "UPDATE images SET source_id = (SELECT id FROM images WHERE path = ?) WHERE id = ?",
                        (path, item_id),
                    )
                elif forget_unknown:
                    self._db.execute("UPDATE images SET source_id = NULL WHERE id = ?", (item_id,))

    def made_from(self, item_id: int) -> list[int]:
        """Ids of the images made from image `item_id`, newest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id FROM images WHERE source_id = ? ORDER BY created_at DESC, id DESC", (item_id,)
            )
            return [int(row[0]) for row in rows]

    def _item(self, row: tuple[Any, ...]) -> GalleryItem:
        item_id, path, prompt, negative, seed, steps, guidance, scheduler, width, height, model, model_hash = row[:12]
        created_at, favourite, settings, mode, source_id = row[12:]
        try:
            parsed = json.loads(settings)
        except ValueError:
            parsed = {}
        return GalleryItem(
            item_id,
            self.root / path,
            prompt,
            negative,
            seed,
            steps,
            guidance,
            scheduler,
            width,
            height,
            model,
            model_hash,
            created_at=created_at,
            favourite=bool(favourite),
            metadata=parsed if isinstance(parsed, dict) else {},
            mode=mode,
            source_id=source_id,
        )

    def close(self) -> None:
        """Checkpoint the WAL into the database file and close."""
        with self._lock:
            with contextlib.suppress(sqlite3.Error):  # another process reading; the WAL is replayed on next open
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._db.close()


class _Transaction:
    def __init__(self, db: sqlite3.Connection, lock: threading.RLock) -> None:
        self._db, self._lock = db, lock

    def __enter__(self) -> None:
        self._lock.acquire()
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._lock.release()
            raise

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        try:
            self._db.execute("COMMIT" if kind is None else "ROLLBACK")
        finally:
            self._lock.release()
