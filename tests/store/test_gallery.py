"""Saving, listing, searching, marking and deleting images in the gallery."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from PIL import Image

from app.core.errors import StoreError
from app.store.gallery import INDEX_FILE, Gallery
from app.store.index import SCHEMA_VERSION
from app.store.metadata import read_image_metadata
from tests.store.conftest import make_result


def test_save_writes_a_browsable_file_and_indexes_it(gallery: Gallery) -> None:
    """A saved image is a PNG in a dated folder, named by time, seed and prompt, and listed with its settings."""
    result = make_result("A red fox, in snow!", seed=42, negative_prompt="blurry", steps=12)
    item = gallery.save(result)
    assert item.path.parent.parent == gallery.root
    assert len(item.path.parent.name) == len("2024-01-31")
    assert item.path.name.endswith("_42_a-red-fox-in-snow.png")
    with Image.open(item.path) as image:
        assert image.format == "PNG"
        assert image.tobytes() == result.image.tobytes()
    assert (item.prompt, item.negative_prompt, item.seed, item.steps) == ("A red fox, in snow!", "blurry", 42, 12)
    assert (item.width, item.height, item.scheduler, item.model_hash) == (64, 64, "dpm-solver++", "0123456789abcdef")
    assert item.request() == result.request
    assert gallery.get(item.id) == item
    assert read_image_metadata(item.path).request == result.request


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
def test_save_other_formats(gallery: Gallery, fmt: str) -> None:
    """JPEG and WebP saves carry the settings too."""
    item = gallery.save(make_result(seed=3), fmt)
    assert item.path.suffix == {"jpeg": ".jpg", "webp": ".webp"}[fmt]
    assert read_image_metadata(item.path).request == item.request()


def test_same_name_never_overwrites(gallery: Gallery) -> None:
    """Two saves of the same seed and prompt in the same second get two files."""
    first = gallery.save(make_result(seed=1))
    second = gallery.save(make_result(seed=1))
    assert first.path != second.path
    assert first.path.exists() and second.path.exists()
    assert gallery.count() == 2


def test_page_is_newest_first_and_search_matches_words(gallery: Gallery) -> None:
    """Pages list newest first; search needs every word (as a prefix) and ignores FTS syntax."""
    prompts = ["red fox in snow", "blue whale", "red panda eating", "fox and hound"]
    items = [gallery.save(make_result(prompt, seed=i)) for i, prompt in enumerate(prompts)]
    assert [item.id for item in gallery.page(0, 10)] == [item.id for item in reversed(items)]
    assert [item.id for item in gallery.page(1, 2)] == [items[2].id, items[1].id]
    assert {item.prompt for item in gallery.page(0, 10, "fox")} == {"red fox in snow", "fox and hound"}
    assert [item.prompt for item in gallery.page(0, 10, "RED fo")] == ["red fox in snow"]
    assert gallery.count("pan") == 1
    assert gallery.count('fox" OR whale') == 0  # quotes and operators are just words
    assert gallery.count("NEAR(* ^") == 0
    assert gallery.count("   ") == 4


def test_search_finds_a_seed_as_well_as_prompt_words(gallery: Gallery) -> None:
    """Typing a seed finds its image; a number that is a word of a prompt still finds that prompt."""
    seeded = gallery.save(make_result("lighthouse at dusk", seed=2718281828))
    worded = gallery.save(make_result("a 1984 travel poster", seed=5))
    assert [item.id for item in gallery.page(0, 10, "2718281828")] == [seeded.id]
    assert [item.id for item in gallery.page(0, 10, "1984")] == [worded.id]
    assert gallery.count(str(2**64)) == 0  # beyond any seed: a plain word search, no error


def test_favourites(gallery: Gallery) -> None:
    """Stars filter the list, also within a search."""
    first, second = gallery.save(make_result("castle", seed=1)), gallery.save(make_result("bridge", seed=2))
    gallery.set_favourite(second.id, True)
    assert [item.id for item in gallery.page(0, 10, favourites_only=True)] == [second.id]
    assert gallery.count("castle", favourites_only=True) == 0
    assert gallery.count("bridge", favourites_only=True) == 1
    gallery.set_favourite(second.id, False)
    assert gallery.count(favourites_only=True) == 0 and first.id != second.id
    with pytest.raises(StoreError, match="999"):
        gallery.set_favourite(999, True)


def test_delete_and_undo(gallery: Gallery) -> None:
    """Delete moves the file out of the gallery and the row out of the list; undo restores both, same id."""
    keep, gone = gallery.save(make_result("keep", seed=1)), gallery.save(make_result("gone", seed=2))
    gallery.set_favourite(gone.id, True)
    ticket = gallery.delete([gone.id])
    assert not gone.path.exists()
    assert ticket.images[0].trashed.exists()
    assert [item.id for item in gallery.page(0, 10)] == [keep.id]
    gallery.undo_delete(ticket)
    restored = gallery.get(gone.id)
    assert restored is not None and restored.path == gone.path and restored.favourite
    assert gone.path.read_bytes() == ticket.images[0].original.read_bytes()
    assert gallery.count() == 2
    newer = gallery.save(make_result("newer", seed=3))
    assert newer.id > gone.id  # ids are never reused


def test_undo_after_trash_emptied_names_the_file(gallery: Gallery) -> None:
    """If the trashed file is gone, undo says which image cannot come back."""
    item = gallery.save(make_result("lost", seed=5))
    ticket = gallery.delete([item.id])
    ticket.images[0].trashed.unlink()
    with pytest.raises(StoreError, match="lost"):
        gallery.undo_delete(ticket)
    assert gallery.count() == 0


def test_delete_to_system_trash(gallery_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a system trash (here a private XDG one), delete goes there and undo brings the file back."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path))
    with Gallery.open(gallery_root, use_system_trash=True) as store:
        item = store.save(make_result("to the bin", seed=8))
        ticket = store.delete([item.id])
        trashed = ticket.images[0].trashed
        assert not item.path.exists() and trashed.exists()
        if ".trash" in trashed.parts:
            pytest.skip("Qt has no usable system trash on this machine; the .trash fallback was used")
        assert (tmp_path / "xdg" / "Trash" / "files") in trashed.parents
        store.undo_delete(ticket)
        assert item.path.exists() and not trashed.exists()
        assert store.get(item.id) is not None


def test_marks_survive_a_rebuild(gallery: Gallery) -> None:
    """Favourites are kept beside the images, so rebuilding the index keeps them."""
    item = gallery.save(make_result("marked", seed=1))
    gallery.set_favourite(item.id, True)
    report = gallery.rebuild()
    assert report.indexed_new == 1
    rebuilt = gallery.page(0, 1)[0]
    assert (rebuilt.path, rebuilt.favourite, rebuilt.created_at) == (item.path, True, item.created_at)


def test_schema_version_is_recorded(gallery: Gallery, gallery_root: Path) -> None:
    """The index records its schema version for future migrations."""
    gallery.close()
    with sqlite3.connect(gallery_root / INDEX_FILE) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_index_from_a_newer_version_is_refused_not_moved(gallery_root: Path) -> None:
    """An index made by a newer app is left alone with a clear message, not treated as corrupt."""
    Gallery.open(gallery_root).close()
    with sqlite3.connect(gallery_root / INDEX_FILE) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer PixArt Studio"):
        Gallery.open(gallery_root)
    assert (gallery_root / INDEX_FILE).exists()
    assert not list(gallery_root.glob("*.corrupt-*"))


def test_saves_from_worker_threads_while_listing(gallery: Gallery) -> None:
    """Worker threads save while the GUI thread lists; every save is indexed exactly once."""
    errors: list[BaseException] = []

    def worker(start: int) -> None:
        try:
            for seed in range(start, start + 5):
                gallery.save(make_result(f"thread {start}", seed=seed))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(start,)) for start in (0, 100)]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        gallery.page(0, 50, "thread")
    for thread in threads:
        thread.join()
    assert errors == []
    assert gallery.count("thread") == 10
    assert len({item.path for item in gallery.page(0, 50)}) == 10
