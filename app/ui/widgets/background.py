"""Run a plain function on a QThreadPool and get its result back on the GUI thread."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)


class _Relay(QObject):
    """Lives on the GUI thread, so its signals reach callbacks there (queued from the worker)."""

    done = Signal(object)
    failed = Signal(object)


class _Task(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self._fn = fn
        self._relay = relay

    def run(self) -> None:
        try:
            result = self._fn()
        except Exception as error:  # reported to the caller's on_error, or logged
            self._relay.failed.emit(error)
        else:
            self._relay.done.emit(result)


def run_in_background(
    fn: Callable[[], Any],
    on_done: Callable[[Any], object],
    on_error: Callable[[Exception], object] | None = None,
    context: QObject | None = None,
    pool: QThreadPool | None = None,
) -> None:
    """Call fn() on a pool thread, then on_done(result) or on_error(exception) on the GUI thread.

    With a `context`, the callbacks are dropped once that object has been deleted.
    """
    relay = _Relay()  # unparented: deleting the context must not delete a relay a worker may still emit on
    _pending.add(relay)

    def deliver(callback: Callable[[Any], object], value: Any) -> None:
        _pending.discard(relay)
        if context is None or shiboken6.isValid(context):
            callback(value)

    relay.done.connect(lambda result: deliver(on_done, result))
    relay.failed.connect(lambda error: deliver(on_error or _log_failure, error))
    (pool or QThreadPool.globalInstance()).start(_Task(fn, relay))


def _log_failure(error: Exception) -> None:
    log.error("background task failed: %s", error)


_pending: set[_Relay] = set()
