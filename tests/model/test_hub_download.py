"""Hub downloads: offline and disk-space checks before any byte, byte progress, and cancelling."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from app.core.downloads import DownloadCancelledError, DownloadError, DownloadProgress
from app.model.hub_download import describe_hub_error, download_model


def _plan(size: int) -> list[Any]:
    return [SimpleNamespace(file_size=size, will_download=True), SimpleNamespace(file_size=7, will_download=False)]


def test_download_fails_cleanly_when_offline(tmp_path: Path) -> None:
    """With HF_HUB_OFFLINE set (as in every test), a download stops at once with a message saying so."""
    with pytest.raises(DownloadError, match="offline"):
        asyncio.run(
            download_model(
                "PixArt-alpha/PixArt-Sigma-XL-2-1024-MS", lambda _p: None, threading.Event(), cache_dir=tmp_path
            )
        )


def test_download_checks_free_disk_space_first(tmp_path: Path) -> None:
    """A download bigger than the free space is refused before any byte is fetched."""
    calls: list[dict] = []

    def snapshot(repo: str, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return _plan(50_000_000_000)

    free = SimpleNamespace(free=20_000_000_000)
    with pytest.raises(DownloadError, match=r"needs 50\.0 GB but only 20\.0 GB is free"):
        asyncio.run(download_model("a/b", lambda _p: None, threading.Event(), tmp_path, snapshot, lambda _p: free))
    assert [c.get("dry_run") for c in calls] == [True]


def test_download_reports_byte_progress_and_can_be_cancelled(tmp_path: Path) -> None:
    """Bytes reported by the download's progress bar reach the UI; cancelling stops it."""
    cancel = threading.Event()
    seen: list[DownloadProgress] = []

    def snapshot(repo: str, dry_run: bool = False, tqdm_class: Any = None, **kwargs: Any) -> Any:
        if dry_run:
            return _plan(1000)
        bar = tqdm_class(total=1000, unit="B")
        for _ in range(1000):
            bar.update(10)
            threading.Event().wait(0.01)
        return str(tmp_path)

    def on_progress(progress: DownloadProgress) -> None:
        seen.append(progress)
        if progress.done_bytes >= 200:
            cancel.set()

    plenty = SimpleNamespace(free=10**13)
    with pytest.raises(DownloadCancelledError):
        asyncio.run(download_model("a/b", on_progress, cancel, tmp_path, snapshot, lambda _p: plenty))
    assert any(0 < p.done_bytes < 1000 and p.total_bytes == 1000 for p in seen)


def test_a_network_failure_says_check_the_connection_once() -> None:
    """huggingface_hub's own advice is not repeated after ours."""
    error = ConnectionError("Connection failed. Please check your internet connection and try again.")
    message = describe_hub_error(error, "PixArt-alpha/PixArt-Sigma-XL-2-1024-MS")
    assert message.lower().count("internet connection") == 1
