"""User data locations."""

from __future__ import annotations

from app.core.paths import AppPaths


def test_studio_home_replaces_every_folder(studio_home):
    """With PIXART_STUDIO_HOME set, every folder the app writes to is under it."""
    paths = AppPaths.from_environment().ensure()
    for folder in (paths.data, paths.config, paths.cache, paths.logs, paths.gallery, paths.thumbnails):
        assert folder.is_relative_to(studio_home)
    assert paths.data.is_dir() and paths.logs.is_dir()


def test_without_studio_home_appdirs_decides(monkeypatch):
    """Without the variable the OS's user folders are used, named after the app."""
    monkeypatch.delenv("PIXART_STUDIO_HOME")
    assert "PixArtStudio" in str(AppPaths.from_environment().data)
