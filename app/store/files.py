"""Image files on disk: atomic writes that never overwrite, safe names, and the gallery's listing."""

from __future__ import annotations

import errno
import logging
import os
import re
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from app.core.atomic_files import TMP_SUFFIX, fsync_folder, write_tmp

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp"})
STALE_TMP_S = 600.0  # a temporary file this old belongs to no running save
_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}


def describe_os_error(exc: OSError, folder: Path) -> str:
    """A message naming the folder and what the user can do about a failed write."""
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return f"The disk holding {folder} is full. Free some space, or save the image somewhere else."
    if isinstance(exc, PermissionError) or exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return (
            f"PixArt Studio may not write to {folder} (permission denied). Choose another gallery folder, "
            "or save the image somewhere else."
        )
    return f"Could not write to {folder}: {exc.strerror or exc}. Save the image somewhere else."


def safe_stem(name: str, limit: int = 80) -> str:
    """A file name stem any OS accepts: no separators or reserved names, bounded length."""
    name = unicodedata.normalize("NFC", name)
    name = _UNSAFE.sub("_", "".join(c for c in name if unicodedata.category(c)[0] != "C"))
    name = re.sub(r"\s+", " ", name).strip(" ._")[:limit].rstrip(" ._")
    if not name or name.lower() in _WINDOWS_RESERVED:
        name = f"image_{name}" if name else "image"
    return name


def slug(prompt: str, limit: int = 48) -> str:
    """A short, readable file-name part from a prompt ('a red fox, snow' -> 'a-red-fox-snow')."""
    words = re.findall(r"\w+", prompt.lower())
    joined = "-".join(words)[:limit].strip("-")
    return joined or "untitled"


def numbered(path: Path) -> Iterator[Path]:
    """path, then path-1, path-2, ... (same folder and suffix)."""
    yield path
    for number in range(1, 100_000):
        yield path.with_name(f"{path.stem}-{number}{path.suffix}")


def publish(tmp: Path, dest: Path) -> Path:
    """Move a finished temporary file to dest, or dest-1, dest-2 ...: never replaces an existing file.

    The folder is fsynced afterwards so the new name survives a power cut.
    """
    final = _link_free_name(tmp, dest)
    fsync_folder(dest.parent)
    return final


def _link_free_name(tmp: Path, dest: Path) -> Path:
    for candidate in numbered(dest):
        try:
            os.link(tmp, candidate)  # atomic, and fails instead of overwriting
        except FileExistsError:
            continue
        except OSError:  # no hard links here (FAT, some network shares): check, then rename
            if candidate.exists():
                continue
            os.replace(tmp, candidate)
            return candidate
        tmp.unlink()
        return candidate
    raise FileExistsError(errno.EEXIST, "no free file name", str(dest))


def write_atomic(dest: Path, data: bytes) -> Path:
    """Write data to dest (or a numbered name beside it): temporary file, fsync, then rename.

    A crash at any moment leaves either no file or the complete file; the returned path is where it went.
    Raises OSError; the temporary file is removed on failure.
    """
    folder = dest.parent
    folder.mkdir(parents=True, exist_ok=True)
    tmp = write_tmp(folder, dest.name, data)
    try:
        return publish(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def scan_images(root: Path) -> dict[str, Path]:
    """Every image file under root as {relative posix path: path}; hidden files and folders are skipped."""
    found: dict[str, Path] = {}
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        for name in files:
            if not name.startswith(".") and os.path.splitext(name)[1].lower() in IMAGE_SUFFIXES:
                path = Path(folder, name)
                found[path.relative_to(root).as_posix()] = path
    return found


def remove_stale_tmp(root: Path, older_than_s: float = STALE_TMP_S) -> int:
    """Delete temporary files left by interrupted saves (never a finished image); returns how many."""
    removed = 0
    cutoff = time.time() - older_than_s
    for tmp in root.glob(f"*/.*{TMP_SUFFIX}"):
        try:
            if tmp.stat().st_mtime < cutoff:
                tmp.unlink()
                removed += 1
        except OSError as exc:
            logger.warning("Could not remove the unfinished file %s: %s", tmp, exc)
    return removed
