"""Atomic writes: the old or the new file, never half of one, and no temporary file left after a failure."""

from __future__ import annotations

import errno
import os

import pytest

from app.core.atomic_files import replace_atomic, replacing


def test_replace_atomic_replaces_and_leaves_nothing_beside(tmp_path):
    """A second write replaces the first; only the target is in the folder."""
    target = tmp_path / "sub" / "settings.json"
    replace_atomic(target, b"one")
    replace_atomic(target, b"two")
    assert target.read_bytes() == b"two"
    assert os.listdir(target.parent) == ["settings.json"]


def test_a_failed_flush_keeps_the_old_file_and_removes_the_temporary(tmp_path, monkeypatch):
    """ENOSPC at fsync raises OSError; the old content stays and no hidden file is left."""
    target = tmp_path / "cache.json"
    replace_atomic(target, b"old")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match="No space"):
        replace_atomic(target, b"new")
    monkeypatch.undo()
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["cache.json"]


def test_replacing_publishes_only_what_the_writer_finished(tmp_path):
    """A writer given a path publishes on success; a writer that fails leaves the old file and no temporary."""
    target = tmp_path / "weights.safetensors"
    with replacing(target) as partial:
        partial.write_bytes(b"complete")
    assert target.read_bytes() == b"complete"
    with pytest.raises(RuntimeError), replacing(target) as partial:
        partial.write_bytes(b"half")
        raise RuntimeError("the writer crashed")
    assert target.read_bytes() == b"complete" and os.listdir(tmp_path) == ["weights.safetensors"]
