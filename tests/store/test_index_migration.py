"""Galleries made before the tags column was dropped (index version 1) open with every image, star and id."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from app.store.gallery import ANNOTATIONS_FILE, INDEX_FILE, Gallery
from app.store.index import MIGRATIONS, SCHEMA_VERSION
from tests.store.conftest import make_result

_V1_COLUMNS = (
    "id, path, prompt, negative_prompt, seed, steps, guidance_scale, scheduler, width, height, model_name, "
    "model_hash, kv_compression, generation_path, duration_s, device, source, created_at, favourite, tags, settings"
)


def _as_version_1(root: Path, tags: dict[int, str], counter: int) -> None:
    """Rewrite a gallery's index as version 1 wrote it: the same rows with a tags column, and its id counter."""
    db_path = root / INDEX_FILE
    with sqlite3.connect(db_path) as db:
        rows = db.execute(
            "SELECT id, path, prompt, negative_prompt, seed, steps, guidance_scale, scheduler, width, height, "
            "model_name, model_hash, kv_compression, generation_path, duration_s, device, source, created_at, "
            "favourite, settings FROM images"
        ).fetchall()
    db.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    db = sqlite3.connect(db_path, isolation_level=None)
    db.execute("BEGIN")
    MIGRATIONS[0](db)
    for row in rows:
        values = (*row[:19], tags.get(row[0], ""), row[19])
        db.execute(f"INSERT INTO images ({_V1_COLUMNS}) VALUES ({', '.join('?' * 21)})", values)
    db.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = 'images'", (counter,))
    db.execute("PRAGMA user_version = 1")
    db.execute("COMMIT")
    db.close()


def test_a_version_1_gallery_opens_with_its_images_stars_search_and_ids(gallery_root: Path) -> None:
    """Rows, favourites and prompt search survive; the tags column is gone; new ids never reuse a deleted one."""
    gallery = Gallery.open(gallery_root)
    fox, castle = gallery.save(make_result("red fox", seed=1)), gallery.save(make_result("old castle", seed=2))
    gallery.set_favourite(castle.id, True)
    gallery.close()
    # A third image was deleted in version 1 (id 7 was used), and the fox had a tag written by a script.
    _as_version_1(gallery_root, {fox.id: "client"}, counter=7)
    (gallery_root / ANNOTATIONS_FILE).write_text(
        json.dumps({castle.path.relative_to(gallery_root).as_posix(): {"favourite": True, "tags": ["final"]}})
    )

    reopened = Gallery.open(gallery_root)
    try:
        assert [(i.id, i.prompt, i.favourite) for i in reopened.page(0, 10)] == [
            (castle.id, "old castle", True),
            (fox.id, "red fox", False),
        ]
        assert [i.id for i in reopened.page(0, 10, "cast")] == [castle.id]
        assert reopened.count("client") == 0  # tags were never searchable from the window and are gone
        assert reopened.save(make_result("new", seed=3)).id == 8
        assert [i.id for i in reopened.page(0, 10, "new")] != []
        reopened.rebuild()  # the annotations file still carrying tags keeps the star
        assert [i.prompt for i in reopened.page(0, 10, favourites_only=True)] == ["old castle"]
    finally:
        reopened.close()
    with sqlite3.connect(gallery_root / INDEX_FILE) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert "tags" not in [column[1] for column in db.execute("PRAGMA table_info(images)")]
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
