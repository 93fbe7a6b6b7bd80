"""The app's asyncio loop: blocking work on its executor finishes, and the process still exits cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import asyncio, time
from PySide6.QtWidgets import QApplication
app = QApplication([])
from app.ui.widgets.event_loop import start_task

async def blocking_work():
    return await asyncio.get_running_loop().run_in_executor(None, lambda: time.sleep(0.05) or "done")

task = start_task(blocking_work())
deadline = time.monotonic() + 10
while not task.done() and time.monotonic() < deadline:
    app.processEvents()
    time.sleep(0.01)
print(task.result())
"""


def test_executor_work_finishes_and_the_process_exits_cleanly() -> None:
    """run_in_executor on the app's loop returns its result, and exiting afterwards does not abort (no QThread)."""
    env = os.environ | {"QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(Path(__file__).parents[2])}
    finished = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=120)
    assert (finished.returncode, finished.stdout.strip()) == (0, "done"), finished.stderr[-2000:]
