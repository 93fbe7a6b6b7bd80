"""Atomic file writes: a hidden temporary file beside the target, fsynced, then renamed; readers never see half."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TMP_SUFFIX = ".tmp"


def fsync_folder(folder: Path) -> None:
    """Make a rename durable (POSIX); Windows cannot open folders, and NTFS journals renames itself."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temporary_name(folder: Path, name: str) -> Path:
    """A fresh hidden name beside `name` that stale-file cleanup recognises."""
    return folder / f".{name}.{secrets.token_hex(4)}{TMP_SUFFIX}"


def write_tmp(folder: Path, name: str, data: bytes) -> Path:
    """Write and fsync a hidden temporary file beside `name`; raises OSError after removing it."""
    tmp = temporary_name(folder, name)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o644)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    return tmp


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def replacing(dest: Path) -> Iterator[Path]:
    """Yield a temporary path for a writer that needs one (safetensors); on success it atomically replaces dest.

    Raises OSError (or what the writer raised); the temporary file is removed on any failure.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(dest.parent, dest.name)
    try:
        yield tmp
        _fsync_file(tmp)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_folder(dest.parent)


def replace_atomic(dest: Path, data: bytes) -> None:
    """Replace dest with data atomically (settings, caches): readers see the old or the new file, never half.

    Raises OSError; the temporary file is removed on failure.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = write_tmp(dest.parent, dest.name, data)
    try:
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_folder(dest.parent)
