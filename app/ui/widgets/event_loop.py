"""The app's asyncio loop: qasync's, driven by Qt's own event processing, so coroutines run beside the widgets.

It is created on first use and marked running at once (qasync's `already_running`), so asyncio work starts the
same way in the app (`run_gui`), in a window built by `build_studio` (tests, screenshots) and inside a modal
dialog's nested event loop: each step runs whenever Qt processes events. It lives as long as the QApplication
(stopping it would call QApplication.exit, which ends every later Qt event loop at once).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import qasync
from PySide6.QtWidgets import QApplication

T = TypeVar("T")

_loop: qasync.QEventLoop | None = None


def asyncio_loop() -> qasync.QEventLoop:
    """The running loop, created on the first call; a QApplication must exist."""
    global _loop
    if _loop is None or _loop.is_closed():
        app = QApplication.instance()
        if app is None:
            raise RuntimeError("the asyncio loop needs a QApplication; create one first")
        _loop = qasync.QEventLoop(app, already_running=True)
        # Blocking calls (huggingface_hub) run on Python threads: qasync's own QThread pool aborts the process
        # at exit when a QThread object is destroyed while its thread still waits for work.
        _loop.set_default_executor(ThreadPoolExecutor(max_workers=4, thread_name_prefix="PixArtAsync"))
    if asyncio._get_running_loop() is not _loop:  # the thread's mark may have been cleared for asyncio.run
        asyncio._set_running_loop(_loop)
    asyncio.set_event_loop(_loop)
    return _loop


def start_task(coroutine: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
    """Run a coroutine on the app's loop; its result or error stays on the returned task."""
    return asyncio_loop().create_task(coroutine)
