"""Every test runs offline, offscreen, and with its own PIXART_STUDIO_HOME so no user data is touched."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"


@pytest.fixture(autouse=True)
def studio_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """An empty PIXART_STUDIO_HOME for each test."""
    home = tmp_path_factory.mktemp("studio-home")
    monkeypatch.setenv("PIXART_STUDIO_HOME", str(home))
    return home
