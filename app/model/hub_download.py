"""Download a model from the Hugging Face Hub as asyncio work: size check, free-space check, progress, cancel.

The blocking huggingface_hub calls run in the loop's executor (in the window: the app's qasync loop, reached
through the engine controller), so the caller stays responsive; progress comes from a tqdm class that also stops
the download when cancelled. Partly downloaded files are kept in the cache, so a cancelled ("paused") download
resumes where it stopped.
"""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from app.core.downloads import DownloadCancelledError, DownloadError, DownloadProgress

FREE_SPACE_MARGIN = 1_000_000_000  # keep a gigabyte free for the OS and the gallery
POLL_S = 0.25


class _Tracker:
    """Shared between the download threads and the polling coroutine."""

    def __init__(self, cancel: threading.Event) -> None:
        self.cancel = cancel
        self.lock = threading.Lock()
        self.byte_counts: dict[int, int] = {}

    def done(self) -> int:
        with self.lock:
            return max(self.byte_counts.values(), default=0)


def _tracking_tqdm(tracker: _Tracker) -> type:
    from tqdm.auto import tqdm

    class TrackingTqdm(tqdm):
        """Silent progress bar that records bytes and raises when the user cancels."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.pop("name", None)
            kwargs["disable"] = True
            self._bytes = kwargs.get("unit") == "B"
            self._count = int(kwargs.get("initial") or 0)
            super().__init__(*args, **kwargs)

        def update(self, n: float | None = 1) -> bool | None:
            if tracker.cancel.is_set():
                raise DownloadCancelledError("download cancelled")
            if self._bytes:
                self._count += int(n or 0)
                with tracker.lock:
                    tracker.byte_counts[id(self)] = self._count
            return super().update(n)

    return TrackingTqdm


def _offline_message(repo_id: str) -> str:
    return (
        f"Cannot download {repo_id}: offline mode is on (HF_HUB_OFFLINE). Unset it and connect to the "
        "internet, or add a model folder you already have."
    )


def describe_hub_error(error: BaseException, repo_id: str) -> str:
    """One sentence for a failed Hub request, with the offline case spelled out."""
    name = type(error).__name__
    text = str(error).splitlines()[0] if str(error) else name
    if name == "OfflineModeIsEnabled" or "offline mode is enabled" in text.lower():
        return _offline_message(repo_id)
    if name in ("RepositoryNotFoundError", "GatedRepoError"):
        return f"{repo_id} was not found on the Hugging Face Hub or needs you to log in and accept its terms."
    if isinstance(error, (ConnectionError, TimeoutError, OSError)) or "connect" in text.lower():
        # huggingface_hub's own text often already says to check the connection: say it once.
        advice = "" if "internet connection" in text.lower() else " Check your internet connection."
        return f"Cannot reach huggingface.co to download {repo_id} ({text.rstrip('.')}).{advice}"
    return f"Downloading {repo_id} failed: {name}: {text}"


def _existing_parent(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path.home()


async def download_model(
    repo_id: str,
    on_progress: Callable[[DownloadProgress], None],
    cancel: threading.Event,
    cache_dir: Path | None = None,
    snapshot: Callable[..., Any] | None = None,
    disk_usage: Callable[[Path], Any] = shutil.disk_usage,
) -> Path:
    """Fetch `repo_id` into the Hugging Face cache and return its snapshot folder.

    Raises DownloadError (offline, not found, not enough disk space, network failure) or DownloadCancelledError.
    """
    if snapshot is None:
        from huggingface_hub import constants, snapshot_download

        if constants.is_offline_mode():
            raise DownloadError(_offline_message(repo_id))
        snapshot = snapshot_download
    loop = asyncio.get_running_loop()
    on_progress(DownloadProgress(0, 0, f"Asking the Hub what {repo_id} contains…"))
    # 1. What is missing from the cache, and how big it is.
    try:
        plan = await loop.run_in_executor(None, partial(snapshot, repo_id, cache_dir=cache_dir, dry_run=True))
    except Exception as error:
        raise DownloadError(describe_hub_error(error, repo_id)) from error
    total = sum(int(f.file_size or 0) for f in plan if f.will_download)
    # 2. Room for it.
    if cache_dir is None:
        from huggingface_hub import constants

        cache_dir = Path(constants.HF_HUB_CACHE)
    free = disk_usage(_existing_parent(Path(cache_dir))).free
    if total + FREE_SPACE_MARGIN > free:
        raise DownloadError(
            f"{repo_id} needs {total / 1e9:.1f} GB but only {free / 1e9:.1f} GB is free on the disk holding "
            f"{cache_dir}. Free some space or set HF_HUB_CACHE to a bigger disk."
        )
    if cancel.is_set():
        raise DownloadCancelledError("download cancelled")
    # 3. Download, polling the tracker for progress.
    tracker = _Tracker(cancel)
    job = loop.run_in_executor(
        None, partial(snapshot, repo_id, cache_dir=cache_dir, tqdm_class=_tracking_tqdm(tracker), max_workers=4)
    )
    while not job.done():
        if cancel.is_set():
            # The worker thread stops at its next chunk; the caller need not wait for it.
            raise DownloadCancelledError("download cancelled")
        on_progress(DownloadProgress(tracker.done(), total, f"Downloading {repo_id}…"))
        await asyncio.wait({job}, timeout=POLL_S)
    try:
        folder = job.result()
    except DownloadCancelledError:
        raise
    except Exception as error:
        raise DownloadError(describe_hub_error(error, repo_id)) from error
    on_progress(DownloadProgress(total, total, f"{repo_id} is ready"))
    return Path(folder)
