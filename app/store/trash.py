"""Deleting images into the system trash (Qt's QFile.moveToTrash), or a .trash folder, and back."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from app.store.files import numbered

logger = logging.getLogger(__name__)

TRASH_FOLDER = ".trash"  # inside the gallery; hidden, so the gallery listing skips it


def _system_trash(path: Path) -> Path | None:
    """Where Qt put the file in the system trash, or None when there is none (or Qt is missing)."""
    try:
        from PySide6.QtCore import QFile  # the store's only Qt use; imported late so it stays optional
    except ImportError:
        return None
    file = QFile(str(path))
    if not file.moveToTrash():
        logger.info("No system trash for %s (%s); using the gallery's .trash", path, file.errorString())
        return None
    return Path(file.fileName())  # after a move, the path inside the trash


def move_to_trash(path: Path, gallery_root: Path, use_system: bool = True) -> Path:
    """Move an image to the trash and return where it went; raises OSError when it cannot move."""
    if use_system:
        trashed = _system_trash(path)
        if trashed is not None and trashed.exists():
            return trashed
    folder = gallery_root / TRASH_FOLDER / time.strftime("%Y-%m-%d")
    folder.mkdir(parents=True, exist_ok=True)
    for candidate in numbered(folder / path.name):
        if not candidate.exists():
            os.replace(path, candidate)
            return candidate
    raise FileExistsError(f"no free name for {path.name} in {folder}")


def restore(trashed: Path, original: Path) -> Path:
    """Move a trashed file back to its folder (a numbered name if the old one is taken); returns the path."""
    original.parent.mkdir(parents=True, exist_ok=True)
    for candidate in numbered(original):
        if not candidate.exists():
            os.replace(trashed, candidate)
            break
    else:
        raise FileExistsError(f"no free name for {original}")
    # A freedesktop trash keeps a .trashinfo per file; a left-over one shows a broken entry in the trash.
    info = trashed.parent.parent / "info" / f"{trashed.name}.trashinfo"
    if trashed.parent.name == "files" and info.is_file():
        try:
            info.unlink()
        except OSError as exc:
            logger.warning("Could not remove %s: %s", info, exc)
    return candidate
