"""A full disk or a folder we may not write to: a clear error naming the folder, and nothing lost."""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

import pytest

from app.core.errors import StoreError
from app.store import files
from app.store.export import export_result
from app.store.gallery import Gallery
from tests.store.conftest import make_result


def _visible_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file() and path.parent != root)


def _fail_after(monkeypatch: pytest.MonkeyPatch, name: str, error: OSError, calls_ok: int = 0) -> None:
    """Make os.<name> raise `error` after `calls_ok` successful calls."""
    real = getattr(os, name)
    count = {"n": 0}

    def failing(*args, **kwargs):
        count["n"] += 1
        if count["n"] > calls_ok:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(os, name, failing)


@pytest.mark.parametrize("call", ["write", "fsync"])
def test_disk_full_names_the_folder_and_leaves_index_unchanged(
    gallery: Gallery, monkeypatch: pytest.MonkeyPatch, call: str
) -> None:
    """ENOSPC while writing or flushing: StoreError names the folder; no file, no row; the result is intact."""
    kept = gallery.save(make_result("kept", seed=1))
    before = (gallery.count(), _visible_files(gallery.root), list(kept.path.parent.iterdir()))
    result = make_result("lost to a full disk", seed=2)
    pixels = result.image.tobytes()
    _fail_after(monkeypatch, call, OSError(errno.ENOSPC, "No space left on device"))
    with pytest.raises(StoreError) as caught:
        gallery.save(result)
    monkeypatch.undo()
    assert "full" in str(caught.value)
    assert str(kept.path.parent) in str(caught.value)
    assert (gallery.count(), _visible_files(gallery.root), list(kept.path.parent.iterdir())) == before
    assert result.image.tobytes() == pixels  # still in memory, so the user can save it elsewhere
    assert export_result(result, gallery.root.parent / "elsewhere").exists()


def test_permission_denied_names_the_folder(gallery: Gallery, monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder we may not write to (os.open refused) gives a StoreError naming it; the index is unchanged."""
    _fail_after(monkeypatch, "open", PermissionError(errno.EACCES, "Permission denied"))
    with pytest.raises(StoreError, match="permission denied") as caught:
        gallery.save(make_result(seed=3))
    monkeypatch.undo()
    assert str(gallery.root) in str(caught.value)
    assert gallery.count() == 0
    assert _visible_files(gallery.root) == []


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs POSIX permissions and a non-root user")
def test_read_only_gallery_folder(gallery: Gallery) -> None:
    """A real read-only gallery folder gives the same clear error."""
    gallery.root.chmod(0o555)
    try:
        with pytest.raises(StoreError, match="permission denied"):
            gallery.save(make_result(seed=4))
    finally:
        gallery.root.chmod(0o755)


def test_gallery_folder_that_cannot_be_created(tmp_path: Path) -> None:
    """Opening a gallery under a file (not a folder) says which folder could not be made."""
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(StoreError, match="blocker"):
        Gallery.open(blocker / "gallery")


def test_index_failure_after_the_file_is_safe(gallery: Gallery, monkeypatch: pytest.MonkeyPatch) -> None:
    """If only the index write fails, the file stays, the error says so, and the next open indexes it."""

    def broken_insert(*args, **kwargs):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(gallery.index, "insert", broken_insert)
    with pytest.raises(StoreError, match="next time the gallery opens"):
        gallery.save(make_result("saved anyway", seed=5))
    monkeypatch.undo()
    gallery.close()
    with Gallery.open(gallery.root, use_system_trash=False) as reopened:
        assert reopened.open_report.indexed_new == 1
        assert reopened.count("saved anyway") == 1


def test_describe_os_error_for_other_errors(tmp_path: Path) -> None:
    """Any other OS error still names the folder and suggests saving somewhere else."""
    message = files.describe_os_error(OSError(errno.EIO, "Input/output error"), tmp_path)
    assert str(tmp_path) in message and "Input/output error" in message and "somewhere else" in message
