"""The unfinished generation jobs (running and queued) in a file, rewritten whenever the queue changes.

After a quit with work in flight, a crash or a kill, the next start reads them back and offers to resume.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from app.core.paths import AppPaths
from app.core.request import GenerationRequest
from app.store.settings_file import SettingsFile

log = logging.getLogger(__name__)

PENDING_JOBS_FILE = "pending-jobs.json"
FORMAT_VERSION = 1


class PendingJobsFile:
    """The requests not yet finished, in the order they would run; saved atomically."""

    def __init__(self, path: Path) -> None:
        self._file = SettingsFile(path)

    @property
    def path(self) -> Path:
        """Where the file lives."""
        return self._file.path

    def load(self) -> list[GenerationRequest]:
        """The saved requests; an entry this version cannot read is skipped (and logged), never fatal."""
        raw = self._file.load().get("jobs")
        requests: list[GenerationRequest] = []
        for entry in raw if isinstance(raw, list) else []:
            try:
                requests.append(GenerationRequest.from_dict(entry))
            except (TypeError, ValueError, AttributeError) as error:
                log.warning("skipping an unfinished job that cannot be read back: %s", error)
        return requests

    def save(self, requests: Sequence[GenerationRequest]) -> None:
        """Replace the saved requests; StoreError naming the folder when the disk refuses."""
        self._file.save({"version": FORMAT_VERSION, "jobs": [request.to_dict() for request in requests]})


def pending_jobs_path(paths: AppPaths) -> Path:
    """The unfinished-jobs file under the data folder."""
    return paths.data / PENDING_JOBS_FILE
