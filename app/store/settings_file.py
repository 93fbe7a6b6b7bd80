"""A small JSON object file written atomically; a damaged one is moved aside (the preferences and gallery marks)."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from app.core.atomic_files import replace_atomic
from app.core.errors import StoreError
from app.store.files import describe_os_error

logger = logging.getLogger(__name__)

MAX_BYTES = 8 * 1024 * 1024  # preferences are small; anything bigger is not ours


class SettingsFile:
    """A JSON object on disk; a damaged file is moved aside (never deleted) and the defaults are used."""

    def __init__(self, path: Path, defaults: Mapping[str, Any] | None = None) -> None:
        self.path = path
        self.defaults = dict(defaults or {})
        self._lock = threading.Lock()

    def load(self) -> dict[str, Any]:
        """The stored values over the defaults."""
        with self._lock:
            try:
                if self.path.stat().st_size > MAX_BYTES:
                    raise ValueError(f"larger than {MAX_BYTES:,} bytes")
                data = json.loads(self.path.read_text(encoding="utf-8"))
                if not isinstance(data, dict):
                    raise ValueError("not a JSON object")
            except FileNotFoundError:
                return dict(self.defaults)
            except (ValueError, RecursionError, OSError) as exc:
                self._move_aside(exc)
                return dict(self.defaults)
            return self.defaults | data

    def save(self, data: Mapping[str, Any]) -> None:
        """Replace the file's contents atomically; StoreError naming the folder on failure."""
        payload = json.dumps(dict(data), ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")
        with self._lock:
            try:
                replace_atomic(self.path, payload)
            except OSError as exc:
                raise StoreError(describe_os_error(exc, self.path.parent)) from exc

    def update(self, **changes: Any) -> dict[str, Any]:
        """Load, apply changes, save; returns the new values."""
        data = self.load() | changes
        self.save(data)
        return data

    def _move_aside(self, reason: Exception) -> None:
        aside = self.path.with_name(f"{self.path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        logger.warning("Settings file %s is unreadable (%s); moved to %s", self.path, reason, aside)
        try:
            self.path.replace(aside)
        except OSError as exc:
            logger.warning("Could not move %s aside: %s", self.path, exc)
