"""Opening reconciles the index with the files; a damaged index is moved aside and rebuilt."""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from pathlib import Path

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from app.store.gallery import INDEX_FILE, Gallery
from tests.store.conftest import make_result


def _fill(root: Path, count: int) -> list[Path]:
    with Gallery.open(root, use_system_trash=False) as store:
        return [store.save(make_result(f"picture number {seed}", seed=seed)).path for seed in range(count)]


def test_files_without_rows_are_indexed_from_their_metadata(gallery_root: Path, tmp_path: Path) -> None:
    """Images copied into the folder (ours and another tool's) are indexed on open, and counted."""
    paths = _fill(gallery_root, 2)
    copied = gallery_root / "from-a-friend" / "copy.png"
    copied.parent.mkdir()
    shutil.copy(paths[0], copied)
    info = PngInfo()
    info.add_text("parameters", "a lighthouse\nSteps: 9, Seed: 5, CFG scale: 3")
    Image.new("RGB", (80, 64)).save(gallery_root / "from-a-friend" / "a1111.png", pnginfo=info)
    with Gallery.open(gallery_root, use_system_trash=False) as store:
        assert store.open_report.indexed_new == 2
        assert store.count() == 4
        [foreign] = store.page(0, 10, "lighthouse")
        assert (foreign.source, foreign.seed, foreign.steps, foreign.width) == ("a1111", 5, 9, 80)
        assert foreign.request() is not None


def test_rows_whose_file_is_gone_are_removed_and_counted(gallery_root: Path) -> None:
    """Files deleted outside the app are dropped from the index on the next open, and the user is told."""
    paths = _fill(gallery_root, 3)
    paths[1].unlink()
    with Gallery.open(gallery_root, use_system_trash=False) as store:
        report = store.open_report
        assert (report.removed_missing, report.indexed_new) == (1, 0)
        assert "1 image no longer on disk" in report.summary()
        assert store.count() == 2
        assert all(item.path.exists() for item in store.page(0, 10))


def test_opening_reads_only_new_files(gallery_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reconcile compares the listing with the index: known images are not opened again."""
    _fill(gallery_root, 3)
    opened: list[str] = []
    real_open = Image.open
    monkeypatch.setattr(Image, "open", lambda path, *a, **k: opened.append(str(path)) or real_open(path, *a, **k))
    with Gallery.open(gallery_root, use_system_trash=False) as store:
        assert store.count() == 3
    assert opened == []


def test_unreadable_files_are_skipped_and_reported(gallery_root: Path) -> None:
    """A non-image and a truncated PNG in the folders are skipped (named in the report), not indexed."""
    [good] = _fill(gallery_root, 1)
    truncated = good.with_name("truncated.png")
    truncated.write_bytes(good.read_bytes()[:-40])
    fake = good.with_name("notes.png")
    fake.write_text("not an image")
    with Gallery.open(gallery_root, use_system_trash=False) as store:
        assert set(store.open_report.skipped) == {truncated, fake}
        assert store.count() == 1


def test_rebuild_from_files_alone(gallery_root: Path) -> None:
    """With the index deleted, every image comes back with its settings and original time order."""
    paths = _fill(gallery_root, 4)
    with Gallery.open(gallery_root, use_system_trash=False) as store:
        before = [(item.path, item.prompt, item.seed, item.created_at, item.metadata) for item in store.page(0, 10)]
    for name in os.listdir(gallery_root):
        if name.startswith(INDEX_FILE):
            (gallery_root / name).unlink()
    with Gallery.open(gallery_root, use_system_trash=False) as store:
        assert store.open_report.indexed_new == len(paths)
        after = [(item.path, item.prompt, item.seed, item.created_at, item.metadata) for item in store.page(0, 10)]
    assert after == before


def test_rebuild_reports_missing_files(gallery: Gallery) -> None:
    """An explicit rebuild re-reads every file and counts the rows whose file had gone."""
    items = [gallery.save(make_result(seed=seed)) for seed in range(3)]
    items[0].path.unlink()
    report = gallery.rebuild()
    assert (report.indexed_new, report.removed_missing) == (2, 1)
    assert gallery.count() == 2


@pytest.mark.parametrize("damage", ["garbage", "torn"])
def test_corrupt_index_is_moved_aside_and_rebuilt(gallery_root: Path, damage: str) -> None:
    """A damaged index is renamed (never deleted), rebuilt from the images, and the user is told."""
    _fill(gallery_root, 3)
    db_path = gallery_root / INDEX_FILE
    if damage == "garbage":
        db_path.write_bytes(b"this is not a database" * 100)
    else:
        data = bytearray(db_path.read_bytes())
        data[4096 : 4096 * 3] = b"\xff" * (4096 * 2)  # overwrite table pages, keep the header
        db_path.write_bytes(bytes(data))
    damaged = db_path.read_bytes()
    with Gallery.open(gallery_root, use_system_trash=False) as store:
        report = store.open_report
        assert report.recovered_db is not None
        assert report.recovered_db.read_bytes() == damaged
        assert "damaged" in report.summary()
        assert report.indexed_new == 3
        assert store.count("picture") == 3


def test_stale_temporary_files_are_cleaned(gallery_root: Path) -> None:
    """Half-written temporary files from a crash are removed once old; fresh ones (a save in flight) stay."""
    [image] = _fill(gallery_root, 1)
    stale, fresh = image.with_name(".x.png.1234.tmp"), image.with_name(".y.png.5678.tmp")
    stale.write_bytes(b"\x89PNG half")
    fresh.write_bytes(b"\x89PNG half")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    with Gallery.open(gallery_root, use_system_trash=False) as store:
        assert store.count() == 1
        assert store.open_report.skipped == ()
    assert not stale.exists() and fresh.exists()


def test_index_rows_point_inside_the_gallery(gallery_root: Path) -> None:
    """Rows store paths relative to the gallery, so a moved gallery folder keeps working."""
    _fill(gallery_root, 2)
    moved = gallery_root.with_name("moved-gallery")
    gallery_root.rename(moved)
    with Gallery.open(moved, use_system_trash=False) as store:
        assert store.open_report.removed_missing == 0
        assert all(item.path.is_relative_to(moved) and item.path.exists() for item in store.page(0, 10))
    with sqlite3.connect(moved / INDEX_FILE) as db:
        assert all(not path.startswith("/") for (path,) in db.execute("SELECT path FROM images"))
