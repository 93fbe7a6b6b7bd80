"""What a model download reports to the window: progress, and the errors that end it (no network code here)."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.errors import StudioError

DEFAULT_REPO = "PixArt-alpha/PixArt-Sigma-XL-2-1024-MS"


class DownloadError(StudioError):
    """The download could not start or finish; the message says why and what to do."""


class DownloadCancelledError(StudioError):
    """The user cancelled or paused the download."""


@dataclass(frozen=True)
class DownloadProgress:
    """Bytes so far of the bytes to fetch (files already in the cache excluded)."""

    done_bytes: int
    total_bytes: int
    message: str

    @property
    def fraction(self) -> float:
        """0 to 1; 0 while the total is unknown."""
        return min(1.0, self.done_bytes / self.total_bytes) if self.total_bytes else 0.0
