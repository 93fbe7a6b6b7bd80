"""Where file dialogs open: the user's own folders, never the app's working directory (its source folder)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths

_Location = QStandardPaths.StandardLocation


def _existing(location: QStandardPaths.StandardLocation) -> str:
    folder = QStandardPaths.writableLocation(location)
    return folder if folder and Path(folder).is_dir() else str(Path.home())


def pictures_folder() -> str:
    """The user's Pictures folder (home when there is none): where images to load settings from usually are."""
    return _existing(_Location.PicturesLocation)


def downloads_folder() -> str:
    """The user's Downloads folder (home when there is none): where a downloaded checkpoint usually is."""
    return _existing(_Location.DownloadLocation)
