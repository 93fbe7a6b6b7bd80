"""The preferences file: atomic saves, defaults, and a damaged file moved aside rather than lost."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from app.core.errors import StoreError
from app.store.settings_file import SettingsFile


def test_round_trip_over_defaults(tmp_path: Path) -> None:
    """Saved values come back over the defaults; a missing file gives the defaults."""
    prefs = SettingsFile(tmp_path / "config" / "prefs.json", {"steps": 20, "history": []})
    assert prefs.load() == {"steps": 20, "history": []}
    prefs.update(history=["a fox", "ünïcode"])
    assert SettingsFile(prefs.path, {"steps": 20}).load() == {"steps": 20, "history": ["a fox", "ünïcode"]}


def test_damaged_file_is_moved_aside(tmp_path: Path) -> None:
    """Invalid JSON is kept under another name and the defaults are used."""
    path = tmp_path / "prefs.json"
    path.write_text("{ not json")
    assert SettingsFile(path, {"steps": 20}).load() == {"steps": 20}
    [aside] = tmp_path.glob("prefs.json.damaged-*")
    assert aside.read_text() == "{ not json"


def test_failed_save_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full disk during save leaves the previous file intact and names the folder."""
    prefs = SettingsFile(tmp_path / "prefs.json")
    prefs.save({"steps": 20})

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(StoreError, match="full"):
        prefs.save({"steps": 30})
    monkeypatch.undo()
    assert prefs.load() == {"steps": 20}
    assert [path.name for path in tmp_path.iterdir()] == ["prefs.json"]
