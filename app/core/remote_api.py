"""What the server and its clients agree on: the API's path, headers, job states and event types."""

from __future__ import annotations

from enum import Enum
from typing import Any

from app.core.sizes import HighResMethod

API_PREFIX = "/v1"
CLIENT_HEADER = "X-PixArt-Client"  # a random id per client process: the server's queue is fair between them
TOKEN_VARIABLE = "PIXART_STUDIO_TOKEN"
DEFAULT_PORT = 7860
MAX_CLIENT_ID_CHARS = 64


class JobState(str, Enum):
    """Where a server job is; the last three are final."""

    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        """True once the job will not change again."""
        return self in (JobState.FINISHED, JobState.FAILED, JobState.CANCELLED)


class EventType(str, Enum):
    """The messages of a job's event stream, in the order they can come."""

    STATE = "state"  # {"state": JobState, "position": int (jobs ahead of it in the queue)}
    PROGRESS = "progress"  # {"step", "total", "elapsed_s", "eta_s", "phase", "image_index", "image_count", "preview"}
    IMAGE = "image"  # {"index": int, "metadata": GenerationResult.metadata()}; its PNG is at .../images/{index}
    FINISHED = "finished"
    FAILED = "failed"  # {"message": str}
    CANCELLED = "cancelled"


FINAL_EVENTS = (EventType.FINISHED, EventType.FAILED, EventType.CANCELLED)


def above_native_of(entry: dict[str, Any]) -> HighResMethod:
    """A server catalog entry's `above_native`; AUTO from a server too old to send it or sending one this app lacks."""
    try:
        return HighResMethod(entry.get("above_native", HighResMethod.AUTO.value))
    except ValueError:
        return HighResMethod.AUTO
