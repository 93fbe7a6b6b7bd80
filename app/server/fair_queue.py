"""One queue shared by every client, served round robin so no client waits behind another's long batch."""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from typing import Generic, TypeVar

T = TypeVar("T")


class QueueFullError(Exception):
    """A client already has as many jobs waiting as the server allows."""


class FairQueue(Generic[T]):
    """Per-client FIFO lines, taken from in turn: A1 B1 C1 A2 B2 ... whatever order they arrived in."""

    def __init__(self, max_per_client: int) -> None:
        if max_per_client < 1:
            raise ValueError(f"max_per_client must be at least 1, got {max_per_client}")
        self._max = max_per_client
        self._lines: OrderedDict[str, deque[T]] = OrderedDict()  # clients in turn order; the next is first
        self._cond = threading.Condition()
        self._closed = False

    def put(self, client: str, item: T) -> None:
        """Queue an item behind the client's own; QueueFullError when its line is full."""
        with self._cond:
            line = self._lines.setdefault(client, deque())
            if len(line) >= self._max:
                raise QueueFullError(f"{len(line)} jobs of this client are already waiting; at most {self._max}")
            line.append(item)
            self._cond.notify_all()

    def take(self, timeout_s: float | None = None) -> T | None:
        """The next client's oldest item, waiting for one; None when closed or after the timeout."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._closed or self._lines, timeout_s) or self._closed:
                return None
            client, line = next(iter(self._lines.items()))
            item = line.popleft()
            del self._lines[client]
            if line:
                self._lines[client] = line  # back of the turn order
            return item

    def remove(self, item: T) -> bool:
        """Take a waiting item out; False when it is not waiting."""
        with self._cond:
            for client, line in self._lines.items():
                if item in line:
                    line.remove(item)
                    if not line:
                        del self._lines[client]
                    return True
            return False

    def waiting(self, client: str) -> int:
        """How many items of a client wait."""
        with self._cond:
            return len(self._lines.get(client, ()))

    def close(self) -> None:
        """Wake every taker with None; later puts still queue but nobody takes them."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
