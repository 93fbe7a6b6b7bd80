"""Where PixArt Studio keeps user data: appdirs, or everything under PIXART_STUDIO_HOME."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import appdirs

APP_NAME = "PixArtStudio"
HOME_VARIABLE = "PIXART_STUDIO_HOME"


@dataclass(frozen=True)
class AppPaths:
    """The folders the app writes to; nothing is ever written inside the install folder."""

    data: Path
    config: Path
    cache: Path
    logs: Path

    @property
    def gallery(self) -> Path:
        """Default folder of generated images and their index."""
        return self.data / "gallery"

    @property
    def models(self) -> Path:
        """Folder of models the user added or converted."""
        return self.data / "models"

    @property
    def thumbnails(self) -> Path:
        """Disk cache of gallery thumbnails."""
        return self.cache / "thumbnails"

    @classmethod
    def from_environment(cls) -> AppPaths:
        """Use PIXART_STUDIO_HOME when set (tests, portable installs), else the OS's user folders."""
        home = os.environ.get(HOME_VARIABLE)
        if home:
            root = Path(home).expanduser().resolve()
            return cls(data=root / "data", config=root / "config", cache=root / "cache", logs=root / "logs")
        return cls(
            data=Path(appdirs.user_data_dir(APP_NAME, appauthor=False)),
            config=Path(appdirs.user_config_dir(APP_NAME, appauthor=False)),
            cache=Path(appdirs.user_cache_dir(APP_NAME, appauthor=False)),
            logs=Path(appdirs.user_log_dir(APP_NAME, appauthor=False)),
        )

    def ensure(self) -> AppPaths:
        """Create every folder that does not exist yet and return self."""
        for folder in (self.data, self.config, self.cache, self.logs):
            folder.mkdir(parents=True, exist_ok=True)
        return self
